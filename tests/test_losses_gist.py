"""GISTEmbedLoss against sentence-transformers, with a guide that shares the tokenizer and one
that needs the texts re-tokenized. Tokenizers are built in-process (no downloads)."""

from __future__ import annotations

import pytest
import torch
from sentence_transformers.sentence_transformer import losses as st_losses
from test_losses_fakes import copy_features, mean_model
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from sentforge import losses

WORDS = "the a cat dog sat ran on under mat rug big small red blue house car tree park".split()
TEXTS = [
    ["the cat sat on the mat", "a dog ran in the park", "the red car", "a big tree", "blue house", "small rug"],
    ["a cat on a mat", "the dog in a park", "a red car", "the big tree", "a blue house", "the small rug"],
    ["a dog under a tree", "the cat on a car", "a blue tree", "the red house", "small car", "big dog"],
]


def tokenizer(words: list[str]) -> PreTrainedTokenizerFast:
    vocab = {"[PAD]": 0, "[UNK]": 1, **{w: i + 2 for i, w in enumerate(words)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]")


@pytest.mark.parametrize("num_columns", [2, 3])
@pytest.mark.parametrize("guide_words", ["same", "reversed"])
@pytest.mark.parametrize("options", [{}, {"margin_strategy": "relative", "margin": 0.1, "contrast_anchors": False}])
def test_gist_equals_sentence_transformers(num_columns, guide_words, options):
    words = WORDS if guide_words == "same" else WORDS[::-1]  # another vocabulary: re-tokenize
    model = mean_model(seed=0, vocab_size=len(WORDS) + 2, tokenizer=tokenizer(WORDS)).double()
    guide = mean_model(seed=1, vocab_size=len(WORDS) + 2, tokenizer=tokenizer(words)).double()
    features = [model.tokenize(texts) for texts in TEXTS[:num_columns]]
    ours = losses.GISTEmbedLoss(model, guide, temperature=0.05, **options)
    theirs = st_losses.GISTEmbedLoss(model, guide, temperature=0.05, **options)
    assert ours.must_retokenize == (guide_words == "reversed")
    value = ours(copy_features(features), None).item()
    assert value == pytest.approx(theirs(copy_features(features), None).item(), abs=1e-6)
    assert value > 0
    assert ours.get_config_dict() == theirs.get_config_dict()
    assert ours.citation == theirs.citation


def test_gist_guide_gets_no_gradient_and_model_does():
    model = mean_model(seed=0, vocab_size=len(WORDS) + 2, tokenizer=tokenizer(WORDS))
    guide = mean_model(seed=1, vocab_size=len(WORDS) + 2, tokenizer=tokenizer(WORDS))
    loss = losses.GISTEmbedLoss(model, guide)
    loss([model.tokenize(t) for t in TEXTS[:2]], None).backward()
    assert all(p.grad is None for p in guide.parameters())
    assert any(p.grad is not None and torch.any(p.grad != 0) for p in model.parameters())
