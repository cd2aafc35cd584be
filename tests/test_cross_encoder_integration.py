"""CrossEncoder on real weights: all-MiniLM-L6-v2's encoder with a seeded new head, against sentence-transformers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.integration
st_ce = pytest.importorskip("sentence_transformers.cross_encoder")

QUERY = "0-dimensional biomaterials show inductive properties."
DOCUMENTS = [
    "Microstructural development of human newborn cerebral white matter assessed in vivo by diffusion tensor "
    "magnetic resonance imaging. " * 12,  # longer than 512 tokens: truncated the same way in both
    "Nanoscale materials with zero dimensions induce osteogenic differentiation of stem cells.",
    "The weather is lovely today.",
    "A statistical analysis of cohort studies on smoking and lung cancer.",
]


@pytest.fixture(scope="module")
def minilm_cross_encoder_dir(minilm_path, tmp_path_factory) -> str:
    """all-MiniLM-L6-v2's weights with a one-label head drawn from a fixed seed, saved as a checkpoint."""
    from transformers import AutoTokenizer, BertForSequenceClassification

    folder = str(tmp_path_factory.mktemp("minilm_ce"))
    torch.manual_seed(0)
    model = BertForSequenceClassification.from_pretrained(minilm_path, num_labels=1)
    model.save_pretrained(folder, safe_serialization=True)
    AutoTokenizer.from_pretrained(minilm_path).save_pretrained(folder)
    return folder


def test_minilm_predict_and_folders_match_sentence_transformers(minilm_cross_encoder_dir, tmp_path):
    from sentforge import CrossEncoder

    pairs = [(QUERY, doc) for doc in DOCUMENTS] + [(doc, QUERY) for doc in DOCUMENTS]
    ours = CrossEncoder(minilm_cross_encoder_dir, device="cpu")
    theirs = st_ce.CrossEncoder(minilm_cross_encoder_dir, device="cpu")
    for activation in (None, torch.nn.Identity()):
        np.testing.assert_allclose(ours.predict(pairs, activation_fn=activation),
                                   theirs.predict(pairs, activation_fn=activation), atol=1e-5)
    ranked = [[r["corpus_id"] for r in model.rank(QUERY, DOCUMENTS)] for model in (ours, theirs)]
    assert ranked[0] == ranked[1]
    ours.save(str(tmp_path / "ours"))
    theirs.save(str(tmp_path / "theirs"))
    expected = theirs.predict(pairs)
    np.testing.assert_allclose(st_ce.CrossEncoder(str(tmp_path / "ours"), device="cpu").predict(pairs), expected,
                               atol=1e-5)
    np.testing.assert_allclose(CrossEncoder(str(tmp_path / "theirs"), device="cpu").predict(pairs), expected,
                               atol=1e-5)
