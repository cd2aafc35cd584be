"""Normalize: scale each sentence embedding to unit length (cosine == dot afterwards)."""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn


class Normalize(nn.Module):
    """L2-normalizes ``sentence_embedding``; has no parameters and no config."""

    def forward(self, features: dict[str, Tensor]) -> dict[str, Tensor]:
        features["sentence_embedding"] = F.normalize(features["sentence_embedding"], p=2, dim=1)
        return features

    def save(self, output_path: str) -> None:
        """Nothing to save: the folder itself marks the module."""

    @classmethod
    def load(cls, input_path: str, **_: Any) -> "Normalize":
        return cls()

    def __repr__(self) -> str:
        return "Normalize()"
