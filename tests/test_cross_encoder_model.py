"""CrossEncoder: predict/rank match sentence-transformers on the same weights; folders load both ways."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from torch import nn

from cross_encoder_tiny import PAIRS, build_tiny_cross_encoder
from sentforge import CrossEncoder, SentforgeError

st_cross_encoder = pytest.importorskip("sentence_transformers.cross_encoder")


@pytest.fixture(scope="module")
def tiny_ce_dir(tmp_path_factory) -> str:
    return build_tiny_cross_encoder(str(tmp_path_factory.mktemp("tiny_ce")))


@pytest.fixture(scope="module")
def tiny_ce3_dir(tmp_path_factory) -> str:
    return build_tiny_cross_encoder(str(tmp_path_factory.mktemp("tiny_ce3")), num_labels=3)


def test_predict_matches_sentence_transformers(tiny_ce_dir):
    ours, theirs = CrossEncoder(tiny_ce_dir, device="cpu"), st_cross_encoder.CrossEncoder(tiny_ce_dir, device="cpu")
    for kwargs in ({}, {"activation_fn": nn.Identity()}, {"batch_size": 2}):
        np.testing.assert_allclose(ours.predict(PAIRS, **kwargs), theirs.predict(PAIRS, **kwargs), atol=1e-5)
    single_ours, single_theirs = ours.predict(PAIRS[0]), theirs.predict(PAIRS[0])
    assert np.ndim(single_ours) == 0 and abs(float(single_ours) - float(single_theirs)) < 1e-5
    assert ours.predict([]).shape == (0,)
    documents = [p[1] for p in PAIRS]
    mine = ours.rank("river bank", documents, return_documents=True, top_k=3)
    reference = theirs.rank("river bank", documents, return_documents=True, top_k=3)
    assert [(r["corpus_id"], r["text"]) for r in mine] == [(r["corpus_id"], r["text"]) for r in reference]
    np.testing.assert_allclose([r["score"] for r in mine], [r["score"] for r in reference], atol=1e-5)


def test_rank_format_and_output_types(tiny_ce_dir):
    model = CrossEncoder(tiny_ce_dir, device="cpu")
    ranked = model.rank("river bank", [p[1] for p in PAIRS], return_documents=True)
    assert [set(r) for r in ranked] == [{"corpus_id", "score", "text"}] * len(PAIRS)
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True)
    assert len(model.rank("river bank", [p[1] for p in PAIRS], top_k=2)) == 2
    assert isinstance(model.predict(PAIRS, convert_to_tensor=True), torch.Tensor)
    as_list = model.predict(PAIRS, convert_to_numpy=False)
    assert isinstance(as_list, list) and len(as_list) == len(PAIRS)
    np.testing.assert_allclose(model.predict(sentences=PAIRS), model.predict(PAIRS))


def test_multi_label_softmax_matches(tiny_ce3_dir):
    ours, theirs = CrossEncoder(tiny_ce3_dir, device="cpu"), st_cross_encoder.CrossEncoder(tiny_ce3_dir, device="cpu")
    assert ours.num_labels == 3
    np.testing.assert_allclose(ours.predict(PAIRS), theirs.predict(PAIRS), atol=1e-5)
    probabilities = ours.predict(PAIRS, apply_softmax=True)
    np.testing.assert_allclose(probabilities, theirs.predict(PAIRS, apply_softmax=True), atol=1e-5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(SentforgeError, match="one-label"):
        ours.rank("a", ["b"])


def test_fast_forward_equals_hugging_face_forward(tiny_ce_dir):
    model = CrossEncoder(tiny_ce_dir, device="cpu")
    fast = model.predict(PAIRS, activation_fn=nn.Identity())
    model.fast_forward = False
    np.testing.assert_allclose(model.predict(PAIRS, activation_fn=nn.Identity()), fast, atol=1e-5)


def test_predict_never_changes_mode_and_uses_no_dropout(tiny_ce_dir):
    model = CrossEncoder(tiny_ce_dir, device="cpu")
    assert not model.training
    eval_scores = model.predict(PAIRS)
    model.train()
    assert np.allclose(model.predict(PAIRS), eval_scores, atol=1e-6)  # no dropout although in training mode
    assert model.training and all(m.training for m in model.modules())
    model.eval()
    model.predict(PAIRS)
    assert not any(m.training for m in model.modules())


def test_saved_folder_loads_in_sentence_transformers(tiny_ce_dir, tmp_path):
    model = CrossEncoder(tiny_ce_dir, device="cpu", activation_fn=nn.Identity())
    model.save(str(tmp_path / "ours"))
    config = json.loads((tmp_path / "ours" / "config.json").read_text())
    assert config["sentence_transformers"]["activation_fn"] == "torch.nn.modules.linear.Identity"
    assert not list(tmp_path.glob("ours/*.bin"))
    theirs = st_cross_encoder.CrossEncoder(str(tmp_path / "ours"), device="cpu")
    assert type(theirs.activation_fn).__name__ == "Identity"
    np.testing.assert_allclose(theirs.predict(PAIRS), model.predict(PAIRS), atol=1e-5)
    again = CrossEncoder(str(tmp_path / "ours"), device="cpu")
    assert type(again.activation_fn).__name__ == "Identity"
    np.testing.assert_allclose(again.predict(PAIRS), model.predict(PAIRS), atol=1e-6)


def test_sentence_transformers_folder_loads_here(tiny_ce_dir, tmp_path):
    theirs = st_cross_encoder.CrossEncoder(tiny_ce_dir, device="cpu", activation_fn=nn.Identity(), max_length=16)
    theirs.save(str(tmp_path / "theirs"))
    ours = CrossEncoder(str(tmp_path / "theirs"), device="cpu")
    assert type(ours.activation_fn).__name__ == "Identity" and ours.max_length == 16
    np.testing.assert_allclose(ours.predict(PAIRS), theirs.predict(PAIRS), atol=1e-5)


def test_older_folder_with_config_block_loads(tiny_ce_dir, tmp_path):
    """A folder with only config.json's block (sentence-transformers 4-5) keeps its activation."""
    model = CrossEncoder(tiny_ce_dir, device="cpu", activation_fn=nn.Tanh())
    model.save(str(tmp_path / "old"))
    for name in ("modules.json", "config_sentence_transformers.json", "sentence_bert_config.json"):
        os.remove(tmp_path / "old" / name)
    assert type(CrossEncoder(str(tmp_path / "old"), device="cpu").activation_fn).__name__ == "Tanh"
    theirs = st_cross_encoder.CrossEncoder(str(tmp_path / "old"), device="cpu")
    np.testing.assert_allclose(theirs.predict(PAIRS), model.predict(PAIRS), atol=1e-5)


def test_encoder_checkpoint_gets_one_label_head(tiny_bert_dir):
    model = CrossEncoder(tiny_bert_dir, device="cpu")
    assert model.num_labels == 1 and type(model.activation_fn).__name__ == "Sigmoid"
    scores = model.predict(PAIRS)
    assert scores.shape == (len(PAIRS),) and np.all((scores > 0) & (scores < 1))


def test_constructor_errors(tiny_ce_dir, tmp_path):
    with pytest.raises(TypeError, match="unexpected keyword"):
        CrossEncoder(tiny_ce_dir, not_an_argument=1)
    model = CrossEncoder(model_name=tiny_ce_dir, device="cpu")  # an older name still works
    assert model.num_labels == 1
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "config.json").write_text((open(os.path.join(tiny_ce_dir, "config.json"))).read())
    (pickled / "pytorch_model.bin").write_bytes(b"not really")
    with pytest.raises(SentforgeError, match="pickled"):
        CrossEncoder(str(pickled))
    with pytest.raises(SentforgeError, match="pairs"):
        model.predict(["just one text", "another"] * 2 + [["a"]])
