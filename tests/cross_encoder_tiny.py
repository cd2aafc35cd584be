"""Tiny random cross-encoder checkpoints (BertForSequenceClassification) for fast tests."""

from __future__ import annotations

import os

import torch

from tiny_models import build_tokenizer


def build_tiny_cross_encoder(folder: str, num_labels: int = 1, seed: int = 0, dropout: float = 0.1) -> str:
    """Save a random BertForSequenceClassification + tokenizer to ``folder``; return it."""
    from transformers import BertConfig, BertForSequenceClassification

    os.makedirs(folder, exist_ok=True)
    _, vocab_size = build_tokenizer(folder)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
        max_position_embeddings=128, num_labels=num_labels, hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
    )
    model = BertForSequenceClassification(config)
    with torch.no_grad():  # a head that separates pairs clearly, so rankings are not ties
        model.classifier.weight.normal_(0, 1.0)
    model.save_pretrained(folder, safe_serialization=True)
    return folder


PAIRS = [
    ("the cat sat on the mat", "a dog ran in the park"),
    ("river bank", "money loan at the bank"),
    ("he drove to the stadium", "the car was fast"),
    ("gold mining permit", "the miner has a license for the land"),
    ("sunny weather today", "it is lovely outside"),
    ("law court rule", "the owner paid a fee"),
]
