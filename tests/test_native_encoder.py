"""The native encoder and tokenizer: same ids, same embeddings and same training as the transformers path."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file, save_file

from sentforge import SentenceTransformer
from sentforge.speed.native_encoder import NativeEncoder
from sentforge.speed.native_loading import DISABLE_ENV

TEXTS = ["the cat sat on the mat", "a dog ran in the park today", "gold", "the river bank loan money was big"]


@pytest.fixture(params=["bert", "mpnet"])
def folder(request, tiny_bert_dir, tiny_mpnet_dir) -> str:
    return tiny_bert_dir if request.param == "bert" else tiny_mpnet_dir


def _through_transformers(folder: str, monkeypatch, **kwargs) -> SentenceTransformer:
    monkeypatch.setenv(DISABLE_ENV, "0")
    model = SentenceTransformer(folder, device="cpu", **kwargs)
    monkeypatch.delenv(DISABLE_ENV)
    return model


def test_a_local_checkpoint_loads_natively_and_encodes_as_transformers_does(folder, monkeypatch):
    native = SentenceTransformer(folder, device="cpu")
    reference = _through_transformers(folder, monkeypatch)
    assert isinstance(native[0]._encoder(), NativeEncoder)
    assert not isinstance(reference[0]._encoder(), NativeEncoder)
    a = native.encode(TEXTS, convert_to_tensor=True)
    b = reference.encode(TEXTS, convert_to_tensor=True)
    assert (a - b).abs().max().item() < 1e-6
    assert isinstance(native[0]._encoder(), NativeEncoder)  # encoding built nothing


@pytest.mark.parametrize("max_length", [None, 5])
def test_native_tokenizer_gives_transformers_ids_for_texts_and_pairs(folder, monkeypatch, max_length):
    native = SentenceTransformer(folder, device="cpu")
    reference = _through_transformers(folder, monkeypatch)
    if max_length:
        native.max_seq_length = reference.max_seq_length = max_length
    for batch in (TEXTS, list(zip(TEXTS, reversed(TEXTS)))):
        ours, theirs = native.tokenize(batch), reference.tokenize(batch)
        if native[0].auto_model.config.model_type == "mpnet":
            # MPNet's forward never reads token types; whether transformers' tokenizer returns them for
            # this BERT-style tokenizer depends on its version (5.0 no, later yes).
            ours.pop("token_type_ids", None), theirs.pop("token_type_ids", None)
        assert ours.keys() == theirs.keys()
        for key in ours:
            assert torch.equal(ours[key], theirs[key]), key
    assert native[0].tokenize_ids(TEXTS) == reference[0].tokenize_ids(TEXTS)
    assert native[0]._native_tokenizer() is not None  # nothing fell back to transformers' tokenizer


def test_training_steps_match_the_transformers_path(folder, monkeypatch):
    """Same seed, same batch: identical losses and gradients in train mode (dropout included)."""
    results = []
    for model in (SentenceTransformer(folder, device="cpu"), _through_transformers(folder, monkeypatch)):
        model.train()
        features = model.tokenize(TEXTS)
        torch.manual_seed(3)
        model(features)["sentence_embedding"].pow(2).sum().backward()
        results.append({n.replace("auto_model.", ""): p.grad for n, p in model.named_parameters()})
        assert isinstance(model[0]._encoder(), NativeEncoder) == (len(results) == 1)
    ours, theirs = results
    assert ours.keys() == theirs.keys()
    for name in ours:
        if ours[name] is None or theirs[name] is None:  # the unused pooler
            assert ours[name] is None and theirs[name] is None and "pooler" in name, name
            continue
        assert (ours[name] - theirs[name]).abs().max().item() < 1e-5, name


def test_auto_model_is_transformers_model_holding_the_same_parameters(folder):
    model = SentenceTransformer(folder, device="cpu")
    before = list(model.parameters())
    optimizer = torch.optim.AdamW(before, lr=0.1)
    auto_model = model[0].auto_model
    assert type(auto_model).__module__.startswith("transformers.")
    assert all(a is b for a, b in zip(before, model.parameters()))
    assert len(before) == len(list(model.parameters()))
    old = model.encode(TEXTS, convert_to_tensor=True)
    for p in before:
        p.grad = torch.ones_like(p)
    optimizer.step()  # an optimizer built before the switch still trains the model
    assert (model.encode(TEXTS, convert_to_tensor=True) - old).abs().max().item() > 1e-3


def test_saved_native_model_reloads_with_the_same_embeddings(folder, tmp_path):
    model = SentenceTransformer(folder, device="cpu")
    expected = model.encode(TEXTS)
    out = str(tmp_path / "saved")
    model.save(out)
    again = SentenceTransformer(out, device="cpu")
    assert isinstance(again[0]._encoder(), NativeEncoder)
    assert abs(again.encode(TEXTS) - expected).max() < 1e-6


def test_deepcopy_of_a_native_model_is_independent(folder):
    model = SentenceTransformer(folder, device="cpu")
    twin = copy.deepcopy(model)
    assert abs(twin.encode(TEXTS) - model.encode(TEXTS)).max() < 1e-5  # float rounding of copied storage
    with torch.no_grad():
        next(twin.parameters()).add_(torch.randn_like(next(twin.parameters())))
    assert abs(twin.encode(TEXTS) - model.encode(TEXTS)).max() > 1e-4


def test_encoding_never_imports_transformers(tiny_bert_dir):
    code = (
        "import sys; from sentforge import SentenceTransformer; "
        f"m = SentenceTransformer({tiny_bert_dir!r}, device='cpu'); m.encode(['the cat']); "
        "print('transformers' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False"


def _copy(folder: str, tmp_path, name: str) -> str:
    target = str(tmp_path / name)
    shutil.copytree(folder, target)
    return target


def test_checkpoints_the_native_encoder_cannot_vouch_for_load_through_transformers(tiny_bert_dir, tmp_path):
    extra = _copy(tiny_bert_dir, tmp_path, "extra_key")
    state = load_file(os.path.join(extra, "model.safetensors"))
    state["cls.predictions.bias"] = torch.zeros(3)
    save_file(state, os.path.join(extra, "model.safetensors"))
    half = _copy(tiny_bert_dir, tmp_path, "half")
    save_file({k: v.half() for k, v in load_file(os.path.join(half, "model.safetensors")).items()},
              os.path.join(half, "model.safetensors"))
    relative = _copy(tiny_bert_dir, tmp_path, "relative")
    config_file = os.path.join(relative, "config.json")
    config = json.load(open(config_file))
    json.dump({**config, "position_embedding_type": "relative_key"}, open(config_file, "w"))
    for path in (extra, half, relative):
        assert not isinstance(SentenceTransformer(path, device="cpu")[0]._encoder(), NativeEncoder), path
    asked = SentenceTransformer(tiny_bert_dir, device="cpu", model_kwargs={"attn_implementation": "eager"})
    assert not isinstance(asked[0]._encoder(), NativeEncoder)


def test_a_tokenizer_config_that_rewrites_the_pipeline_uses_transformers_tokenizer(
    tiny_bert_dir, tmp_path, monkeypatch
):
    cased = _copy(tiny_bert_dir, tmp_path, "cased")
    settings_file = os.path.join(cased, "tokenizer_config.json")
    settings = json.load(open(settings_file))
    json.dump({**settings, "do_lower_case": False}, open(settings_file, "w"))
    model = SentenceTransformer(cased, device="cpu")
    assert model[0]._native_tokenizer() is None
    reference = _through_transformers(cased, monkeypatch)
    assert torch.equal(model.tokenize(["The CAT"])["input_ids"], reference.tokenize(["The CAT"])["input_ids"])


@pytest.mark.integration
def test_minilm_native_matches_transformers_on_stsb(minilm_path, shared_data, monkeypatch):
    """The real all-MiniLM-L6-v2 on every STS-B test sentence: same ids, embeddings within 1e-6."""
    from sentforge.data import load_stsb

    data = load_stsb("test", shared_data)
    texts = sorted(set(data["sentence1"]) | set(data["sentence2"]))
    native = SentenceTransformer(minilm_path, device="cpu")
    reference = _through_transformers(minilm_path, monkeypatch)
    assert native[0].tokenize_ids(texts) == reference[0].tokenize_ids(texts)
    a = native.encode(texts, batch_size=64, convert_to_tensor=True)
    b = reference.encode(texts, batch_size=64, convert_to_tensor=True)
    assert (a - b).abs().max().item() < 1e-6


@pytest.mark.integration
def test_mpnet_native_matches_transformers(monkeypatch):
    """The real all-mpnet-base-v2 (after `make mpnet`): same ids for texts and pairs, same embeddings."""
    from sentforge.packaged_models import packaged_model_dir

    path = packaged_model_dir("all-mpnet-base-v2")
    if path is None:
        pytest.skip("all-mpnet-base-v2 is not installed (make mpnet)")
    texts = [*TEXTS, "Ünïcödé façade naïve", "emoji 🤗 ok", "<s> hi </s> <mask>", "x " * 400]
    native = SentenceTransformer(path, device="cpu")
    reference = _through_transformers(path, monkeypatch)
    assert isinstance(native[0]._encoder(), NativeEncoder)
    assert native[0].tokenize_ids(texts) == reference[0].tokenize_ids(texts)
    pairs = list(zip(texts, reversed(texts)))
    ours, theirs = native.tokenize(pairs), reference.tokenize(pairs)
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
    difference = native.encode(texts, convert_to_tensor=True) - reference.encode(texts, convert_to_tensor=True)
    assert difference.abs().max().item() < 1e-6


def test_reading_the_tokenizer_changes_nothing_and_changing_it_is_obeyed(folder):
    """`model.tokenizer` read (and called) leaves the fast tokenizer in use with the same ids; a token
    added to it, or a tokenizer assigned, is what later calls use."""
    model = SentenceTransformer(folder, device="cpu")
    before = model.tokenize(TEXTS)
    tokenizer = model.tokenizer
    tokenizer(TEXTS, padding=True, truncation=True, max_length=5)
    assert model[0]._native_tokenizer() is not None
    after = model.tokenize(TEXTS)
    assert all(torch.equal(before[key], after[key]) for key in before)
    tokenizer.add_tokens(["zqxjvword"])
    ids = model.tokenize(["zqxjvword"])["input_ids"][0].tolist()
    assert tokenizer.convert_tokens_to_ids("zqxjvword") in ids and model[0]._native_tokenizer() is None
    fresh = SentenceTransformer(folder, device="cpu")
    fresh.tokenizer = tokenizer
    assert fresh[0]._native_tokenizer() is None
    assert fresh.tokenize(["zqxjvword"])["input_ids"][0].tolist() == ids
