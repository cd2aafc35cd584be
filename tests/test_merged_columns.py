"""One forward for all text columns: the same embeddings and gradients as one forward per column.

Reference: ``model(features)["sentence_embedding"]`` per column, the sentence-transformers way.
Tolerance: 1e-5 max abs difference (fp32; only the padding differs), dropout off.
"""

from __future__ import annotations

import pytest
import torch

from sentforge import SentenceTransformer, losses
from sentforge.losses.base import embed_columns
from sentforge.losses.merged_columns import merge_columns

SHORT = ["the cat sat", "a dog", "gold mining law", "he drove to the stadium"]
LONG = ["the weather is lovely today and it is sunny outside in the park", "a cat", "big red car ran fast", "we"]


@pytest.fixture(params=["bert", "mpnet"])
def model(request, tiny_bert_dir, tiny_mpnet_dir) -> SentenceTransformer:
    return SentenceTransformer(tiny_bert_dir if request.param == "bert" else tiny_mpnet_dir, device="cpu")


def _features(model, *columns):
    return [model.tokenize(list(texts)) for texts in columns]


@pytest.mark.parametrize("fast_forward", [True, False])
def test_merged_embeddings_equal_per_column_forwards(model, fast_forward):
    model.eval()
    model[0].fast_forward = fast_forward
    features = _features(model, SHORT, LONG)
    assert features[0]["input_ids"].shape[1] != features[1]["input_ids"].shape[1]  # padding must differ
    with torch.no_grad():
        merged = embed_columns(model, features)
        separate = [model(dict(f))["sentence_embedding"] for f in features]
    for a, b in zip(merged, separate):
        assert a.shape == b.shape
        assert (a - b).abs().max().item() < 1e-5


def test_merged_gradients_equal_per_column_gradients(model):
    model.eval()  # no dropout: the two ways must then agree exactly up to float rounding
    loss = losses.CosineSimilarityLoss(model)
    labels = torch.tensor([0.9, 0.1, 0.5, 0.3])

    def grads(columns_embedder):
        model.zero_grad(set_to_none=True)
        embeddings = columns_embedder(_features(model, SHORT, LONG))
        loss.compute_loss_from_embeddings(embeddings, labels).backward()
        return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    merged = grads(lambda f: embed_columns(model, f))
    separate = grads(lambda f: [model(x)["sentence_embedding"] for x in f])
    assert merged.keys() == separate.keys() and merged
    for name in merged:
        torch.testing.assert_close(merged[name], separate[name], atol=1e-6, rtol=1e-4, msg=name)


def test_columns_with_a_prompt_length_are_not_merged(model):
    features = _features(model, SHORT, LONG)
    features[0]["prompt_length"] = torch.tensor([2])
    assert merge_columns(features, pad_id=0) is None
    assert merge_columns(features[:1], pad_id=0) is None  # one column: nothing to merge


def test_merge_pads_on_the_right_with_the_pad_id(model):
    features = _features(model, SHORT, LONG)
    merged, sizes = merge_columns(features, pad_id=7)
    assert sizes == [4, 4]
    width = max(f["input_ids"].shape[1] for f in features)
    assert merged["input_ids"].shape == (8, width)
    short = features[0]["input_ids"]
    assert torch.equal(merged["input_ids"][:4, : short.shape[1]], short)
    assert (merged["input_ids"][:4, short.shape[1] :] == 7).all()
    assert (merged["attention_mask"][:4, short.shape[1] :] == 0).all()


def test_encode_after_a_fused_adamw_step_sees_the_new_weights(model):
    """Stacked Q/K/V weights must never outlive a weight update: fused AdamW bumps no version counter."""
    model.eval()
    before = model.encode(SHORT, convert_to_tensor=True)
    for param in model.parameters():
        param.grad = torch.randn_like(param)
    torch.optim.AdamW(model.parameters(), lr=0.05, fused=True).step()
    after = model.encode(SHORT, convert_to_tensor=True)
    model[0].fast_forward = False
    reference = model.encode(SHORT, convert_to_tensor=True)
    assert (after - before).abs().max().item() > 1e-4
    assert (after - reference).abs().max().item() < 1e-5


@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_ids_pads_as_the_tokenizer_does(model, side):
    """encode tokenizes once and pads per batch itself: the tensors must equal the tokenizer's own."""
    texts = SHORT + LONG
    model.tokenizer.padding_side = side
    try:
        ours = model[0].pad_ids(model[0].tokenize_ids(texts))
        reference = model.tokenize(texts)
    finally:
        model.tokenizer.padding_side = "right"
    for key in ("input_ids", "attention_mask"):
        assert torch.equal(ours[key], reference[key]), key
