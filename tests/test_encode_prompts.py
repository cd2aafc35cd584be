"""Prompts in ``encode``, ``encode_query`` and ``encode_document`` against sentence-transformers 6.

Both libraries load the same tiny model with the same prompts; embeddings must agree within 1e-5
(float32, same kernels). sentence-transformers models always carry "query" and "document" prompts (""
unless set), so ``encode_document`` on a model whose prompts name only "passage" uses no prompt, and
neither method falls back to ``default_prompt_name``.
"""

from __future__ import annotations

import numpy as np
import pytest

from sentforge import SentenceTransformer, models
from sentforge.errors import SentforgeError

st = pytest.importorskip("sentence_transformers")
from sentence_transformers.base.modules.transformer import Transformer as STTransformer  # noqa: E402
from sentence_transformers.sentence_transformer.modules.pooling import Pooling as STPooling  # noqa: E402

TOLERANCE = 1e-5
TEXTS = ["the cat sat on the mat", "a dog ran in the park", "sunny weather today"]
PROMPTS = {"query": "query: ", "passage": "passage: ", "classify": "the weather is: "}


def close(a, b) -> bool:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max()) < TOLERANCE


@pytest.fixture(scope="module", params=[None, "classify"], ids=["no-default", "default-classify"])
def pair(request, tiny_bert_dir):
    """(ours, sentence-transformers') with the same prompts and default prompt name."""
    kwargs = {"prompts": dict(PROMPTS), "default_prompt_name": request.param, "device": "cpu"}
    return SentenceTransformer(tiny_bert_dir, **kwargs), st.SentenceTransformer(tiny_bert_dir, **kwargs)


@pytest.mark.parametrize("call", [
    lambda m: m.encode(TEXTS),
    lambda m: m.encode_query(TEXTS),
    lambda m: m.encode_document(TEXTS),
    lambda m: m.encode(TEXTS, prompt_name="passage"),
    lambda m: m.encode(TEXTS, prompt="custom prompt: "),
    lambda m: m.encode(TEXTS, prompt=""),
    lambda m: m.encode(TEXTS, prompt="custom prompt: ", prompt_name="query"),
    lambda m: m.encode_query(TEXTS, prompt_name="classify"),
    lambda m: m.encode_document(TEXTS, prompt_name="passage"),
    lambda m: m.encode_query(TEXTS[0]),
], ids=["encode", "encode_query", "encode_document", "prompt_name", "prompt", "empty-prompt", "prompt-wins",
        "query-with-name", "document-with-name", "query-one-string"])
def test_prompted_embeddings_match_sentence_transformers(pair, call):
    ours, theirs = pair
    assert close(call(ours), call(theirs))


def test_prompts_change_the_embeddings(pair):
    """The comparisons above are not vacuous: each prompt gives other vectors."""
    ours, _ = pair
    plain = ours.encode(TEXTS, prompt="")
    for name in PROMPTS:
        assert not close(ours.encode(TEXTS, prompt_name=name), plain)


def test_unknown_prompt_name_is_a_value_error(pair):
    ours, theirs = pair
    with pytest.raises(ValueError):
        theirs.encode(TEXTS, prompt_name="missing")
    with pytest.raises(SentforgeError, match="missing"):
        ours.encode_query(TEXTS, prompt_name="missing")


def test_saved_prompts_merge_with_passed_ones_like_sentence_transformers(tiny_bert_dir, tmp_path):
    SentenceTransformer(tiny_bert_dir, device="cpu", prompts=dict(PROMPTS)).save(str(tmp_path / "m"))
    override = {"query": "search: "}
    ours = SentenceTransformer(str(tmp_path / "m"), device="cpu", prompts=dict(override))
    theirs = st.SentenceTransformer(str(tmp_path / "m"), device="cpu", prompts=dict(override))
    assert {k: v for k, v in theirs.prompts.items() if v} == ours.prompts == {**PROMPTS, **override}
    for call in (lambda m: m.encode_query(TEXTS), lambda m: m.encode(TEXTS, prompt_name="passage")):
        assert close(call(ours), call(theirs))


def test_prompt_left_out_of_pooling_matches(tiny_bert_dir):
    """``include_prompt=False``: the prompt's tokens are left out of mean pooling, as in sentence-transformers."""
    ours = SentenceTransformer(
        modules=[models.Transformer(tiny_bert_dir), models.Pooling(32, "mean", include_prompt=False)],
        prompts=dict(PROMPTS), device="cpu",
    )
    theirs = st.SentenceTransformer(
        modules=[STTransformer(tiny_bert_dir), STPooling(32, "mean", include_prompt=False)],
        prompts=dict(PROMPTS), device="cpu",
    )
    assert close(ours.encode_query(TEXTS), theirs.encode_query(TEXTS))
    included = SentenceTransformer(modules=[models.Transformer(tiny_bert_dir), models.Pooling(32, "mean")],
                                   prompts=dict(PROMPTS), device="cpu")
    assert not close(ours.encode_query(TEXTS), included.encode_query(TEXTS))
