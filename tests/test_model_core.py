"""Core model on tiny random models: pooling against hand computations, masks, Dense/Normalize,
precisions, order restoration, save/load, bad input."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from sentforge import SentenceTransformer, SentforgeError
from sentforge.modules import Dense, Normalize, Pooling, Transformer

TEXTS = ["the cat sat", "a dog ran in the park with the big red car today", "gold", "he drove to the stadium"]


def _features():
    torch.manual_seed(1)
    tokens = torch.randn(3, 5, 4)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]])
    return tokens, mask


def _pool(mode, tokens, mask):
    return Pooling(4, mode)({"token_embeddings": tokens, "attention_mask": mask})["sentence_embedding"]


def test_pooling_modes_match_hand_computation():
    tokens, mask = _features()
    lengths = mask.sum(1)
    for i in range(3):
        real = tokens[i, : lengths[i]]
        n = float(lengths[i])
        expected = {
            "mean": real.mean(0),
            "max": real.max(0).values,
            "cls": real[0],
            "lasttoken": real[-1],
            "mean_sqrt_len_tokens": real.sum(0) / n**0.5,
            "weightedmean": (real * torch.arange(1, n + 1).unsqueeze(1)).sum(0) / sum(range(1, int(n) + 1)),
        }
        for mode, value in expected.items():
            assert torch.allclose(_pool(mode, tokens, mask)[i], value, atol=1e-6), mode


def test_padding_never_leaks_into_pooling():
    tokens, mask = _features()
    noisy = tokens.clone()
    noisy[mask == 0] = 1e4
    for mode in ("mean", "max", "cls", "lasttoken", "mean_sqrt_len_tokens", "weightedmean"):
        assert torch.allclose(_pool(mode, tokens, mask), _pool(mode, noisy, mask), atol=1e-5), mode


def test_pooling_combination_concatenates_in_classic_order_and_roundtrips(tmp_path):
    tokens, mask = _features()
    pooling = Pooling(4, pooling_mode=["mean", "cls"])
    out = pooling({"token_embeddings": tokens, "attention_mask": mask})["sentence_embedding"]
    assert out.shape == (3, 8)
    assert torch.allclose(out[:, :4], _pool("cls", tokens, mask)) and torch.allclose(out[:, 4:], _pool("mean", tokens, mask))
    pooling.save(str(tmp_path))
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["pooling_mode_cls_token"] and config["pooling_mode_mean_tokens"] and not config["pooling_mode_max_tokens"]
    assert Pooling.load(str(tmp_path)).modes == ("cls", "mean")


def test_pooling_reads_newer_config_keys(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"embedding_dimension": 8, "pooling_mode": "max", "include_prompt": False}))
    pooling = Pooling.load(str(tmp_path))
    assert pooling.modes == ("max",) and pooling.word_embedding_dimension == 8 and not pooling.include_prompt


def test_include_prompt_false_excludes_prompt_tokens():
    tokens, mask = _features()
    pooling = Pooling(4, "mean", include_prompt=False)
    out = pooling({"token_embeddings": tokens, "attention_mask": mask.clone(), "prompt_length": 1})["sentence_embedding"]
    assert torch.allclose(out[0], tokens[0, 1:3].mean(0), atol=1e-6)


def test_dense_and_normalize(tmp_path):
    torch.manual_seed(0)
    dense = Dense(4, 3)
    x = torch.randn(2, 4)
    out = dense({"sentence_embedding": x})["sentence_embedding"]
    assert torch.allclose(out, torch.tanh(x @ dense.linear.weight.T + dense.linear.bias))
    dense.save(str(tmp_path))
    again = Dense.load(str(tmp_path))
    assert torch.allclose(again({"sentence_embedding": x})["sentence_embedding"], out)
    normed = Normalize()({"sentence_embedding": x * 7})["sentence_embedding"]
    assert torch.allclose(normed.norm(dim=1), torch.ones(2))


@pytest.fixture(scope="module")
def tiny_model(tiny_bert_dir):
    return SentenceTransformer(
        modules=[Transformer(tiny_bert_dir, max_seq_length=32), Pooling(32, "mean"), Dense(32, 16), Normalize()],
        device="cpu",
    )


def test_encode_restores_input_order(tiny_model):
    batched = tiny_model.encode(TEXTS, batch_size=2)
    one_by_one = np.stack([tiny_model.encode(t) for t in TEXTS])
    assert batched.shape == (4, 16)
    assert np.abs(batched - one_by_one).max() < 1e-5


def test_encode_output_types(tiny_model):
    assert isinstance(tiny_model.encode(TEXTS), np.ndarray)
    tensor = tiny_model.encode(TEXTS, convert_to_tensor=True)
    assert isinstance(tensor, torch.Tensor) and tensor.shape == (4, 16)
    assert tiny_model.encode("gold").shape == (16,)
    empty = tiny_model.encode([])
    assert isinstance(empty, np.ndarray) and empty.shape == (0, 16)
    truncated = tiny_model.encode(TEXTS, truncate_dim=5, normalize_embeddings=True)
    assert truncated.shape == (4, 5) and np.allclose(np.linalg.norm(truncated, axis=1), 1, atol=1e-5)


def test_every_precision(tiny_model):
    floats = tiny_model.encode(TEXTS)
    for precision, dtype, width in (("int8", np.int8, 16), ("uint8", np.uint8, 16), ("binary", np.int8, 2), ("ubinary", np.uint8, 2)):
        out = tiny_model.encode(TEXTS, precision=precision)
        assert out.dtype == dtype and out.shape == (4, width), precision
    ubinary = tiny_model.encode(TEXTS, precision="ubinary")
    assert np.array_equal(np.unpackbits(ubinary, axis=1), (floats > 0).astype(np.uint8))
    uint8 = tiny_model.encode(TEXTS, precision="uint8").astype(float)
    lo, hi = floats.min(0), floats.max(0)
    assert np.all(np.abs(uint8 - np.floor((floats - lo) / ((hi - lo) / 255))) <= 1)


def test_similarity_functions(tiny_model):
    emb = tiny_model.encode(TEXTS, convert_to_tensor=True)
    assert torch.allclose(tiny_model.similarity(emb, emb).diagonal(), torch.ones(4), atol=1e-5)
    tiny_model.similarity_fn_name = "euclidean"
    assert torch.allclose(tiny_model.similarity(emb[:1], emb[1:2])[0, 0], -torch.dist(emb[0], emb[1]), atol=1e-6)
    assert torch.allclose(tiny_model.similarity_pairwise(emb, emb), torch.zeros(4), atol=1e-6)
    tiny_model.similarity_fn_name = "manhattan"
    assert torch.allclose(tiny_model.similarity_pairwise(emb[:1], emb[1:2]), -(emb[0] - emb[1]).abs().sum(), atol=1e-5)
    tiny_model.similarity_fn_name = "dot"
    assert torch.allclose(tiny_model.similarity(emb, emb), emb @ emb.T, atol=1e-6)
    tiny_model.similarity_fn_name = "cosine"
    with pytest.raises(SentforgeError, match="Unknown similarity"):
        tiny_model.similarity_fn_name = "hamming"


def test_save_load_roundtrip_keeps_everything(tiny_model, tmp_path):
    tiny_model.similarity_fn_name = "dot"
    tiny_model.prompts = {"query": "query: "}
    tiny_model.save(str(tmp_path / "m"))
    files = set(os.listdir(tmp_path / "m"))
    assert {"modules.json", "config_sentence_transformers.json", "sentence_bert_config.json", "model.safetensors"} <= files
    assert not any(f.endswith(".bin") for f in files)
    modules = json.loads((tmp_path / "m" / "modules.json").read_text())
    assert [m["type"] for m in modules] == [f"sentence_transformers.models.{c}" for c in ("Transformer", "Pooling", "Dense", "Normalize")]
    assert [m["path"] for m in modules] == ["", "1_Pooling", "2_Dense", "3_Normalize"]
    loaded = SentenceTransformer(str(tmp_path / "m"), device="cpu")
    assert loaded.similarity_fn_name == "dot" and loaded.prompts == {"query": "query: "} and loaded.max_seq_length == 32
    assert np.abs(loaded.encode(TEXTS) - tiny_model.encode(TEXTS)).max() < 1e-6
    tiny_model.similarity_fn_name = "cosine"
    tiny_model.prompts = {}


def test_save_into_folder_with_other_files_keeps_them(tiny_model, tmp_path):
    target = tmp_path / "out"
    (target / "checkpoint-5").mkdir(parents=True)
    (target / "checkpoint-5" / "keep.txt").write_text("x")
    tiny_model.save(str(target))
    assert (target / "checkpoint-5" / "keep.txt").exists() and (target / "modules.json").exists()


def test_plain_transformers_checkpoint_gets_mean_pooling(tiny_bert_dir):
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    assert isinstance(model[1], Pooling) and model[1].modes == ("mean",)
    assert model.encode("gold").shape == (32,)


def test_print_matches_seed_architecture_format(tiny_bert_dir):
    model = SentenceTransformer(modules=[Transformer(tiny_bert_dir, max_seq_length=32), Pooling(32, "mean"), Normalize()], device="cpu")
    text = str(model).splitlines()
    assert text[0] == "SentenceTransformer("
    assert text[1] == "  (0): Transformer({'max_seq_length': 32, 'do_lower_case': False}) with Transformer model: BertModel "
    assert text[2].startswith("  (1): Pooling({'word_embedding_dimension': 32, 'pooling_mode_cls_token': False, 'pooling_mode_mean_tokens': True")
    assert text[3:] == ["  (2): Normalize()", ")"]


def test_bad_inputs_give_clear_errors(tiny_model, tmp_path):
    with pytest.raises(SentforgeError, match="Could not find the model"):
        SentenceTransformer(str(tmp_path / "missing"))
    (tmp_path / "notamodel").mkdir()
    (tmp_path / "notamodel" / "x.txt").write_text("hi")
    with pytest.raises(SentforgeError, match="not a model folder"):
        SentenceTransformer(str(tmp_path / "notamodel"))
    with pytest.raises(SentforgeError, match="got None"):
        tiny_model.encode(None)
    with pytest.raises(SentforgeError, match="item 1 is int"):
        tiny_model.encode(["ok", 3])
    with pytest.raises(SentforgeError, match="precision"):
        tiny_model.encode(["ok"], precision="int4")
    empty = tiny_model.encode("")
    assert empty.shape == (16,) and np.isfinite(empty).all()


def test_pickled_weights_are_refused_unless_opted_in(tiny_bert_dir, tmp_path):
    from transformers import BertModel

    folder = tmp_path / "pickled"
    folder.mkdir()
    for name in os.listdir(tiny_bert_dir):
        if name != "model.safetensors":
            (folder / name).write_bytes(open(os.path.join(tiny_bert_dir, name), "rb").read())
    torch.save(BertModel.from_pretrained(tiny_bert_dir).state_dict(), str(folder / "pytorch_model.bin"))
    with pytest.raises(SentforgeError, match="pickled"):
        SentenceTransformer(str(folder))
    model = SentenceTransformer(str(folder), model_kwargs={"use_safetensors": False})
    assert model.encode("gold").shape == (32,)


def test_mpnet_model_encodes(tiny_mpnet_dir):
    model = SentenceTransformer(tiny_mpnet_dir, device="cpu")
    out = model.encode(TEXTS, batch_size=3)
    single = np.stack([model.encode(t) for t in TEXTS])
    assert np.abs(out - single).max() < 1e-5
