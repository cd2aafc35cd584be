"""Dense: a linear layer plus activation on the sentence embedding (projection heads)."""

from __future__ import annotations

import importlib
import json
import os
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from ..errors import SentforgeError


def _full_name(obj: object) -> str:
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _activation_from_name(name: str | None, trust_remote_code: bool) -> nn.Module:
    if name is None:
        return nn.Identity()
    if not (name.startswith("torch.") or trust_remote_code):
        raise SentforgeError(
            f"Dense activation {name!r} is not a torch class; load with trust_remote_code=True if you trust it."
        )
    module_name, _, class_name = name.rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)()


class Dense(nn.Module):
    """``activation(linear(x))`` on ``sentence_embedding``; default activation Tanh, as sentence-transformers."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        activation_function: nn.Module | None = nn.Tanh(),
        init_weight: Tensor | None = None,
        init_bias: Tensor | None = None,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.bias = bias
        self.activation_function = nn.Identity() if activation_function is None else activation_function
        self.linear = nn.Linear(in_features, out_features, bias=bias)
        if init_weight is not None:
            self.linear.weight = nn.Parameter(init_weight)
        if init_bias is not None:
            self.linear.bias = nn.Parameter(init_bias)

    def forward(self, features: dict[str, Tensor]) -> dict[str, Tensor]:
        features["sentence_embedding"] = self.activation_function(self.linear(features["sentence_embedding"]))
        return features

    def get_sentence_embedding_dimension(self) -> int:
        return self.out_features

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.bias,
            "activation_function": _full_name(self.activation_function),
        }

    def save(self, output_path: str) -> None:
        with open(os.path.join(output_path, "config.json"), "w", encoding="utf-8") as f:
            json.dump(self.get_config_dict(), f, indent=2)
        state = {k: v.detach().contiguous() for k, v in self.state_dict().items()}
        save_file(state, os.path.join(output_path, "model.safetensors"))

    @classmethod
    def load(cls, input_path: str, trust_remote_code: bool = False, allow_pickle: bool = False, **_: Any) -> "Dense":
        with open(os.path.join(input_path, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        activation = _activation_from_name(config.get("activation_function"), trust_remote_code)
        module = cls(
            in_features=config["in_features"],
            out_features=config["out_features"],
            bias=config.get("bias", True),
            activation_function=activation,
        )
        safe = os.path.join(input_path, "model.safetensors")
        pickled = os.path.join(input_path, "pytorch_model.bin")
        if os.path.exists(safe):
            state = load_file(safe)
        elif os.path.exists(pickled) and allow_pickle:
            state = torch.load(pickled, map_location="cpu", weights_only=True)
        else:
            raise SentforgeError(
                f"No safetensors weights in {input_path!r}. Convert the Dense weights to model.safetensors, or "
                "opt in to pickled weights with model_kwargs={'use_safetensors': False}."
            )
        module.load_state_dict(state)
        return module

    def __repr__(self) -> str:
        return f"Dense({self.get_config_dict()})"
