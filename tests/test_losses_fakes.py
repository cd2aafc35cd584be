"""Tiny stand-ins for a SentenceTransformer, shared by the loss tests (no tests in this file).

They honour the model contract the losses rely on: ``model(features)`` fills
``features["sentence_embedding"]``; plus ``get_sentence_embedding_dimension`` / ``device`` /
``tokenizer`` / ``tokenize`` / ``max_seq_length`` where a loss needs them.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class _MeanEmbedder(nn.Module):
    """Token embedding -> linear -> dropout -> masked mean: learnable, dropout-able, padding-safe."""

    def __init__(self, vocab_size: int, dim: int, dropout: float) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim)
        self.linear = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, features: dict[str, Tensor]) -> dict[str, Tensor]:
        ids = features["input_ids"]
        mask = features.get("attention_mask", torch.ones_like(ids)).unsqueeze(-1).float()
        tokens = self.dropout(self.linear(self.embedding(ids)))
        features["sentence_embedding"] = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1)
        return features


class _FixedEmbedder(nn.Module):
    """Sentence i (input_ids[:, 0] == i) gets row i of a fixed table."""

    def __init__(self, table: Tensor) -> None:
        super().__init__()
        self.table = nn.Parameter(table.clone())

    def forward(self, features: dict[str, Tensor]) -> dict[str, Tensor]:
        features["sentence_embedding"] = self.table[features["input_ids"][:, 0]]
        return features


class FakeModel(nn.Sequential):
    """A one-module Sequential, indexable like a SentenceTransformer."""

    def __init__(self, module: nn.Module, dim: int, tokenizer=None, max_seq_length: int = 16) -> None:
        super().__init__(module)
        self.dim = dim
        self.tokenizer = tokenizer
        self.max_seq_length = max_seq_length

    def get_sentence_embedding_dimension(self) -> int:
        return self.dim

    get_embedding_dimension = _get_untruncated_embedding_dimension = get_sentence_embedding_dimension

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def tokenize(self, texts: list[str]) -> dict[str, Tensor]:
        out = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_seq_length, return_tensors="pt")
        return {"input_ids": out["input_ids"], "attention_mask": out["attention_mask"]}

    preprocess = tokenize


def mean_model(seed: int = 0, vocab_size: int = 40, dim: int = 8, dropout: float = 0.0, **kwargs) -> FakeModel:
    torch.manual_seed(seed)
    return FakeModel(_MeanEmbedder(vocab_size, dim, dropout), dim, **kwargs)


def fixed_model(table: Tensor) -> FakeModel:
    return FakeModel(_FixedEmbedder(table), table.shape[1])


def random_features(num_columns: int, batch: int, seed: int = 1, vocab_size: int = 40, max_len: int = 6):
    """Token-id features per column with varied lengths (right padding, attention masks)."""
    g = torch.Generator().manual_seed(seed)
    columns = []
    for _ in range(num_columns):
        lengths = torch.randint(1, max_len + 1, (batch,), generator=g)
        ids = torch.randint(1, vocab_size, (batch, max_len), generator=g)
        mask = (torch.arange(max_len).unsqueeze(0) < lengths.unsqueeze(1)).long()
        columns.append({"input_ids": ids * mask, "attention_mask": mask})
    return columns


def fixed_features(num_columns: int, batch: int) -> list[dict[str, Tensor]]:
    """Column c, row i -> sentence number c * batch + i of the fixed table."""
    return [{"input_ids": (c * batch + torch.arange(batch)).unsqueeze(1)} for c in range(num_columns)]


def copy_features(features: list[dict[str, Tensor]]) -> list[dict[str, Tensor]]:
    """Fresh dicts (models write their outputs into the dicts they get)."""
    return [{k: v.clone() for k, v in f.items() if k in ("input_ids", "attention_mask")} for f in features]


def param_grads(model: nn.Module) -> dict[str, Tensor]:
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
