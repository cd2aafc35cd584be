"""Pooling: token embeddings -> one sentence embedding (cls, mean, max, ... and combinations)."""

from __future__ import annotations

import json
import os
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import SentforgeError

MODES = ("cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken")
# Classic config keys, in the order their outputs are concatenated.
LEGACY_KEYS = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens": "weightedmean",
    "pooling_mode_lasttoken": "lasttoken",
}
# The order sentence-transformers writes (and prints) the classic flags in.
CONFIG_ORDER = (
    "pooling_mode_cls_token",
    "pooling_mode_mean_tokens",
    "pooling_mode_max_tokens",
    "pooling_mode_mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens",
    "pooling_mode_lasttoken",
)
MODE_ALIASES = {"mean_tokens": "mean", "max_tokens": "max", "cls_token": "cls", "weightedmean_tokens": "weightedmean"}


class Pooling(nn.Module):
    """Pools ``token_embeddings`` under the attention mask into ``sentence_embedding``.

    ``pooling_mode`` is one mode name or a list of them (outputs concatenated in the classic order);
    the classic boolean flags (``pooling_mode_mean_tokens=True`` ...) are accepted as well.
    """

    def __init__(
        self,
        word_embedding_dimension: int | None = None,
        pooling_mode: str | list[str] | tuple[str, ...] | None = None,
        pooling_mode_cls_token: bool = False,
        pooling_mode_max_tokens: bool = False,
        pooling_mode_mean_tokens: bool = False,
        pooling_mode_mean_sqrt_len_tokens: bool = False,
        pooling_mode_weightedmean_tokens: bool = False,
        pooling_mode_lasttoken: bool = False,
        include_prompt: bool = True,
        embedding_dimension: int | None = None,
    ) -> None:
        super().__init__()
        dim = word_embedding_dimension if word_embedding_dimension is not None else embedding_dimension
        if dim is None:
            raise SentforgeError("Pooling needs the token embedding size: Pooling(word_embedding_dimension=384).")
        flags = {
            "cls": pooling_mode_cls_token,
            "max": pooling_mode_max_tokens,
            "mean": pooling_mode_mean_tokens,
            "mean_sqrt_len_tokens": pooling_mode_mean_sqrt_len_tokens,
            "weightedmean": pooling_mode_weightedmean_tokens,
            "lasttoken": pooling_mode_lasttoken,
        }
        if pooling_mode is not None:
            requested = [pooling_mode] if isinstance(pooling_mode, str) else list(pooling_mode)
            for mode in requested:
                mode = MODE_ALIASES.get(mode, mode)
                if mode not in MODES:
                    raise SentforgeError(f"Unknown pooling mode {mode!r}. Use one of: {', '.join(MODES)}.")
                flags[mode] = True
        if not any(flags.values()):
            flags["mean"] = True
        self.word_embedding_dimension = int(dim)
        self.modes = tuple(m for m in MODES if flags[m])
        self.include_prompt = include_prompt
        self.pooling_output_dimension = len(self.modes) * self.word_embedding_dimension

    @property
    def pooling_mode(self) -> str | tuple[str, ...]:
        return self.modes[0] if len(self.modes) == 1 else self.modes

    def forward(self, features: dict[str, Tensor]) -> dict[str, Tensor]:
        tokens = features["token_embeddings"]
        mask = features.get("attention_mask")
        if mask is None or mask.shape[-1] != tokens.shape[1]:
            mask = torch.ones(tokens.shape[:-1], dtype=torch.int64, device=tokens.device)
        original_mask = mask
        prompt_length = features.get("prompt_length")
        if not self.include_prompt and prompt_length is not None:
            prompt_length = int(prompt_length[0]) if isinstance(prompt_length, Tensor) else int(prompt_length)
            if prompt_length:
                mask = mask.clone()
                mask[:, :prompt_length] = 0
        outputs = [self._pool(mode, tokens, mask, original_mask) for mode in self.modes]
        features["sentence_embedding"] = torch.cat(outputs, dim=-1)
        return features

    @staticmethod
    def _pool(mode: str, tokens: Tensor, mask: Tensor, original_mask: Tensor) -> Tensor:
        acc = torch.float32 if tokens.dtype in (torch.float16, torch.bfloat16) else tokens.dtype
        if mode == "cls":
            first = mask.to(torch.int).argmax(dim=1)
            return tokens[torch.arange(tokens.shape[0], device=tokens.device), first]
        if mode == "max":
            keep = mask.unsqueeze(-1).to(tokens.dtype)
            return tokens.masked_fill(keep == 0, float("-inf")).max(dim=1).values
        if mode in ("mean", "mean_sqrt_len_tokens"):
            keep = mask.unsqueeze(-1).to(tokens.dtype)
            total = (tokens * keep).sum(dim=1, dtype=acc)
            count = torch.clamp(keep.sum(dim=1, dtype=acc), min=1e-9)
            denominator = count if mode == "mean" else torch.sqrt(count)
            return (total / denominator).to(tokens.dtype)
        if mode == "weightedmean":
            keep = mask.unsqueeze(-1).to(acc)
            weights = torch.arange(1, tokens.shape[1] + 1, device=tokens.device, dtype=acc).view(1, -1, 1)
            left_pad = original_mask.to(torch.int32).argmax(dim=1)
            weights = weights - left_pad.view(-1, 1, 1)
            weighted = keep * weights
            total = (tokens * weighted).sum(dim=1)
            return (total / torch.clamp(weighted.sum(dim=1), min=1e-9)).to(tokens.dtype)
        # lasttoken: the last position the mask keeps
        seq_len = tokens.shape[1]
        values, idx = mask.flip(1).max(1)
        idx = torch.where(values == 0, seq_len - 1, idx)
        last = seq_len - idx - 1
        keep = mask.unsqueeze(-1).to(tokens.dtype)
        return (tokens * keep)[torch.arange(tokens.shape[0], device=tokens.device), last]

    def get_sentence_embedding_dimension(self) -> int:
        return self.pooling_output_dimension

    def get_config_dict(self) -> dict[str, Any]:
        config: dict[str, Any] = {"word_embedding_dimension": self.word_embedding_dimension}
        for key in CONFIG_ORDER:
            config[key] = LEGACY_KEYS[key] in self.modes
        config["include_prompt"] = self.include_prompt
        return config

    def save(self, output_path: str) -> None:
        with open(os.path.join(output_path, "config.json"), "w", encoding="utf-8") as f:
            json.dump(self.get_config_dict(), f, indent=2)

    @classmethod
    def load(cls, input_path: str, **_: Any) -> "Pooling":
        with open(os.path.join(input_path, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        known = set(LEGACY_KEYS) | {"word_embedding_dimension", "embedding_dimension", "pooling_mode", "include_prompt"}
        return cls(**{k: v for k, v in config.items() if k in known})

    def __repr__(self) -> str:
        return f"Pooling({self.get_config_dict()})"
