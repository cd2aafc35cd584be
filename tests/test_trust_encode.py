"""encode can be trusted: the same vectors from several threads, in any train/eval mode, with
memory bounded by the batch; and the constructor refuses arguments it would otherwise ignore."""

from __future__ import annotations

import inspect
import threading
import tracemalloc

import numpy as np
import pytest
import torch

from sentforge import SentenceTransformer, SentforgeError, encoding
from sentforge.modules import Pooling, Transformer
from sentforge.speed.scratch import scratch
from tiny_models import WORDS

THREADS = 4
REPETITIONS = 20
CHUNK_CHARS = 1 << 20  # about a megabyte of text per tokenizer call, however many texts are encoded


def _texts(seed: int, count: int, longest: int = 40) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, int(rng.integers(1, longest)))) for _ in range(count)]


def _all_modes(model: torch.nn.Module) -> list[bool]:
    return [m.training for m in model.modules()]


def _encode_in_threads(model, inputs: list[list[str]]) -> list[np.ndarray]:
    """Each input list encoded by its own thread, all started together."""
    results: list = [None] * len(inputs)
    errors: list[BaseException] = []
    start = threading.Barrier(len(inputs))

    def run(i: int) -> None:
        try:
            start.wait()
            results[i] = model.encode(inputs[i], batch_size=16)
        except BaseException as err:  # noqa: BLE001 - reported by the test below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def _check_threads_match_sequential(load, repetitions: int, texts_per_thread: int) -> None:
    inputs = [_texts(seed, texts_per_thread) for seed in range(THREADS)]
    reference = load()
    expected = [reference.encode(texts, batch_size=16) for texts in inputs]
    for _ in range(repetitions):
        model = load()  # freshly loaded: the threads are its first users
        for got, want in zip(_encode_in_threads(model, inputs), expected):
            np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)
        assert not model.training


# -- train/eval mode and threads ------------------------------------------------------------------
def test_a_loaded_or_built_model_is_in_eval_mode(tiny_bert_dir):
    loaded = SentenceTransformer(tiny_bert_dir, device="cpu")
    built = SentenceTransformer(modules=[Transformer(tiny_bert_dir), Pooling(32, "mean")], device="cpu")
    for model in (loaded, built):
        assert not any(_all_modes(model))


@pytest.mark.parametrize("fast_forward", [True, False], ids=["packed", "hugging-face"])
def test_encode_keeps_training_mode_and_still_runs_without_dropout(tiny_bert_dir, fast_forward):
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    model[0].fast_forward = fast_forward
    texts = _texts(7, 40)
    in_eval = model.encode(texts)
    model.train()
    modes = _all_modes(model)
    seen_during_encode: list[list[bool]] = []
    model[1].register_forward_pre_hook(lambda *_: seen_during_encode.append(_all_modes(model)))
    in_training = [model.encode(texts) for _ in range(3)]
    assert seen_during_encode and all(seen == modes for seen in seen_during_encode)  # never flipped, even briefly
    assert _all_modes(model) == modes and model.training
    for embeddings in in_training:
        np.testing.assert_allclose(embeddings, in_eval, atol=1e-6, rtol=0)
    model.eval()
    assert not any(_all_modes(model))
    np.testing.assert_allclose(model.encode(texts), in_eval, atol=0, rtol=0)


def test_dropout_still_acts_in_training_outside_encode(tiny_bert_dir):
    model = SentenceTransformer(tiny_bert_dir, device="cpu").train()
    features = model.tokenize(_texts(3, 8))
    first = model(dict(features))["sentence_embedding"]
    second = model(dict(features))["sentence_embedding"]
    assert not torch.allclose(first, second)


def test_threads_on_one_tiny_model_match_sequential_encodes(tiny_bert_dir):
    _check_threads_match_sequential(lambda: SentenceTransformer(tiny_bert_dir, device="cpu"), REPETITIONS, 150)


def test_scratch_buffers_belong_to_one_thread():
    like = torch.zeros(1)
    mine = scratch("trust.buffer", (64,), like)
    theirs: list[torch.Tensor] = []
    thread = threading.Thread(target=lambda: theirs.append(scratch("trust.buffer", (64,), like)))
    thread.start()
    thread.join()
    assert mine.data_ptr() != theirs[0].data_ptr()
    assert scratch("trust.buffer", (64,), like).data_ptr() == mine.data_ptr()  # reused within a thread


@pytest.mark.integration
def test_threads_on_one_minilm_match_sequential_encodes(minilm_path):
    _check_threads_match_sequential(lambda: SentenceTransformer(minilm_path, device="cpu"), REPETITIONS, 64)


# -- constructor arguments ------------------------------------------------------------------------
def test_unknown_constructor_arguments_raise_type_error(tiny_bert_dir):
    with pytest.raises(TypeError, match="devise"):
        SentenceTransformer(tiny_bert_dir, devise="cpu")
    with pytest.raises(TypeError):
        SentenceTransformer(tiny_bert_dir, max_seq_length=16)


def test_every_sentence_transformers_constructor_argument_is_accepted():
    st = pytest.importorskip("sentence_transformers")
    theirs = set(inspect.signature(st.SentenceTransformer.__init__).parameters) - {"self"}
    ours = set(inspect.signature(SentenceTransformer.__init__).parameters) - {"self"}
    assert theirs <= ours, sorted(theirs - ours)
    assert "tokenizer_kwargs" in ours  # the sentence-transformers v5 name, still in scripts


def test_openvino_is_refused_not_ignored(tiny_bert_dir):
    """backend="onnx" runs (tests/test_onnx_backend.py); OpenVINO is refused, never silently run on torch."""
    with pytest.raises(SentforgeError, match="openvino"):
        SentenceTransformer(tiny_bert_dir, device="cpu", backend="openvino")


def test_a_device_name_torch_does_not_know_is_one_clear_error(tiny_bert_dir):
    from sentforge import CrossEncoder

    for model_class in (SentenceTransformer, CrossEncoder):
        with pytest.raises(SentforgeError, match="device 'nonsense' is not a device name torch knows.*Use cpu"):
            model_class(tiny_bert_dir, device="nonsense")
    if not torch.cuda.is_available():
        with pytest.raises(SentforgeError, match="this machine has no cuda device"):
            SentenceTransformer(tiny_bert_dir, device="cuda")


def test_unknown_backend_lists_the_valid_ones(tiny_bert_dir):
    with pytest.raises(ValueError, match="torch.*onnx.*openvino"):
        SentenceTransformer(tiny_bert_dir, device="cpu", backend="nonsense")
    assert SentenceTransformer(tiny_bert_dir, device="cpu", backend="torch").encode("gold").shape == (32,)


def test_unimplemented_and_aliased_arguments_are_handled(tiny_bert_dir):
    with pytest.raises(SentforgeError, match="kernels"):
        SentenceTransformer(tiny_bert_dir, device="cpu", use_kernels=True)
    with pytest.raises(SentforgeError, match="token"):
        SentenceTransformer(tiny_bert_dir, device="cpu", token="a", use_auth_token="b")
    with pytest.raises(SentforgeError, match="processor_kwargs"):
        SentenceTransformer(tiny_bert_dir, device="cpu", tokenizer_kwargs={}, processor_kwargs={})
    model = SentenceTransformer(tiny_bert_dir, device="cpu", processor_kwargs={"model_max_length": 8},
                                use_auth_token=None, use_kernels=False, kernel_config=None)
    assert model.max_seq_length == 8  # processor_kwargs reached the tokenizer, as tokenizer_kwargs would


# -- memory bounded by the batch ------------------------------------------------------------------
def _long_texts(count: int, words: int) -> list[str]:
    rng = np.random.default_rng(count)
    return [" ".join(rng.choice(WORDS, words - int(rng.integers(0, 50)))) for _ in range(count)]


def _spy_tokenizer(model, monkeypatch) -> list[tuple[int, list[int]]]:
    """Record each call of the first module's ``tokenize_ids``: characters in, token-list lengths out."""
    calls: list[tuple[int, list[int]]] = []
    original = model[0].tokenize_ids

    def spy(texts):
        ids = original(texts)
        calls.append((sum(len(t) for t in texts), [len(x) for x in ids]))
        return ids

    monkeypatch.setattr(model[0], "tokenize_ids", spy)
    return calls


def test_long_texts_are_tokenized_a_chunk_at_a_time(tiny_bert_dir, monkeypatch):
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    texts = _long_texts(1000, 1500)  # ~9 M characters in all
    batch_size = 16
    calls = _spy_tokenizer(model, monkeypatch)
    embeddings = model.encode(texts, batch_size=batch_size)
    assert embeddings.shape == (1000, 32) and sum(len(lengths) for _, lengths in calls) == len(texts)
    one_batch = batch_size * max(len(t) for t in texts)
    assert max(chars for chars, _ in calls) <= max(CHUNK_CHARS, one_batch)
    assert max(max(lengths) for _, lengths in calls) <= model.max_seq_length  # truncated when tokenized


def test_chunked_tokenization_gives_the_same_embeddings(tiny_bert_dir, monkeypatch):
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    texts = _texts(11, 300, longest=60)
    whole = model.encode(texts, batch_size=8)
    monkeypatch.setattr(encoding, "TOKENIZE_CHARS", 500, raising=False)
    calls = _spy_tokenizer(model, monkeypatch)
    chunked = model.encode(texts, batch_size=8)
    assert len(calls) > 10
    np.testing.assert_allclose(chunked, whole, atol=1e-6, rtol=0)


def _peak_python_memory(model, texts: list[str]) -> int:
    model.encode(texts[:64], batch_size=16)  # warm-up: one-off allocations
    tracemalloc.start()
    try:
        model.encode(texts, batch_size=16)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_python_memory_of_encode_grows_by_the_output_rows_only(tiny_bert_dir, monkeypatch):
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    model.max_seq_length = 128  # a kept token list would take 128 pointers (1 KB) per text
    monkeypatch.setattr(encoding, "TOKENIZE_CHARS", 100_000, raising=False)  # both runs span several chunks
    texts = _long_texts(3000, 300)
    few, many = _peak_python_memory(model, texts[:300]), _peak_python_memory(model, texts)
    growth_per_text = (many - few) / (len(texts) - 300)
    output_row = 4 * 32  # one float32 row of the result
    assert growth_per_text < output_row + 256, (few, many, growth_per_text)
