"""What a SentenceTransformer is made of, under sentence-transformers' names: its backend, device,
dtype, the transformers model inside it and that model's config."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from .card.info import SentenceTransformerModelCardData


class ModelInfoMixin:
    """Adds the class constants and read-outs of sentence-transformers' ``SentenceTransformer``."""

    model_type: str = "SentenceTransformer"
    """Written to ``config_sentence_transformers.json`` as ``model_type``."""
    default_huggingface_organization: str | None = "sentence-transformers"
    """Hub organisation of a model id without ``/`` (except the original transformers ids)."""
    model_card_data_class = SentenceTransformerModelCardData
    SUPPORTED_SIMILARITY_FN_NAMES: ClassVar[tuple[str, ...]] = ("cosine", "dot", "euclidean", "manhattan")

    def get_backend(self) -> str:
        """The inference backend: ``"torch"`` or ``"onnx"``."""
        return getattr(self, "backend", "torch")

    def get_device_name(self) -> str:
        """The device a model goes to by default: ``cuda:<local rank>``, ``mps``, ``npu``, ``xpu``, ``hpu``,
        ``neuron`` or ``cpu``."""
        from .util.environment import get_device_name

        return get_device_name()

    @property
    def transformers_model(self) -> nn.Module | None:
        """The transformers ``PreTrainedModel`` of the first Transformer module, or None without one."""
        from transformers import PreTrainedModel

        from .modules import Transformer

        for module in self.modules():
            if isinstance(module, Transformer):
                return module.auto_model
            if isinstance(module, PreTrainedModel):
                return module
        return None

    @property
    def config(self) -> Any:
        """The transformers config of ``transformers_model`` (None without one)."""
        return getattr(self.transformers_model, "config", None)

    @config.setter
    def config(self, value: Any) -> None:
        model = self.transformers_model
        if model is not None:
            model.config = value

    @property
    def dtype(self) -> torch.dtype | None:
        """The dtype of the first parameter (None for a model without parameters)."""
        for parameter in self.parameters():
            return parameter.dtype
        return None

    def get_model_kwargs(self) -> list[str]:
        """Keyword arguments the modules' forward accepts from ``encode`` (``forward_kwargs`` of each
        module); ``[]`` for Transformer, Pooling, Dense and Normalize."""
        names: set[str] = set()
        for module in self.children():
            names.update(getattr(module, "forward_kwargs", ()) or ())
        return sorted(names)
