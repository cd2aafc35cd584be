"""``Module`` and ``InputModule``: the base classes of sentence-transformers' modules, for custom modules.

sentforge's own modules are registered with them (``isinstance(Pooling(...), Module)`` is True;
Transformer is an ``InputModule``). A custom module subclasses them and implements ``forward`` and
``save``; it runs in ``encode`` and in training like the built-in ones. Loading a saved model folder
accepts the built-in module types only (Transformer, Pooling, Dense, Normalize).
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from .errors import SentforgeError


class Module(ABC, nn.Module):
    """A step of a SentenceTransformer: ``forward`` maps a features dict to a features dict.

    Class settings: ``config_file_name`` (the JSON file ``save_config`` writes), ``config_keys`` (the
    attributes saved there and passed back to ``__init__`` by ``load``), ``save_in_root`` (a first module
    saved in the model folder itself), ``forward_kwargs`` (keyword arguments ``forward`` takes from ``encode``).
    """

    config_file_name: str = "config.json"
    config_keys: list[str] = []
    save_in_root: bool = False
    forward_kwargs: set[str] = set()

    @abstractmethod
    def forward(self, features: dict[str, Tensor | Any], **kwargs: Any) -> dict[str, Tensor | Any]:
        """Return the features with this module's outputs added or replaced."""

    @abstractmethod
    def save(self, output_path: str, *args: Any, safe_serialization: bool = True, **kwargs: Any) -> None:
        """Write the module's config and weights into the folder ``output_path``."""

    def get_config_dict(self) -> dict[str, Any]:
        """The ``config_keys`` attributes, as saved by ``save_config``."""
        return {key: getattr(self, key) for key in self.config_keys}

    def save_config(self, output_path: str, filename: str | None = None) -> None:
        """Write ``get_config_dict()`` as JSON to ``output_path/filename`` (default ``config_file_name``)."""
        with open(os.path.join(output_path, filename or self.config_file_name), "w", encoding="utf-8") as f:
            json.dump(self.get_config_dict(), f, indent=4)

    def save_torch_weights(self, output_path: str, safe_serialization: bool = True) -> None:
        """Write the weights as ``model.safetensors`` (or ``pytorch_model.bin`` when not safe_serialization)."""
        if safe_serialization:
            from safetensors.torch import save_model

            save_model(self, os.path.join(output_path, "model.safetensors"))
        else:
            torch.save(self.state_dict(), os.path.join(output_path, "pytorch_model.bin"))

    @classmethod
    def load_config(cls, model_name_or_path: str, subfolder: str = "", config_filename: str | None = None,
                    **_: Any) -> dict[str, Any]:
        """The saved config of a module folder ({} when the file is missing)."""
        path = os.path.join(model_name_or_path, subfolder, config_filename or cls.config_file_name)
        if not os.path.exists(path):
            return {}
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    @classmethod
    def load(cls, model_name_or_path: str, subfolder: str = "", **kwargs: Any) -> Module:
        """A module built from its saved config (``cls(**config)``); override it to load weights too."""
        return cls(**cls.load_config(model_name_or_path, subfolder=subfolder))

    @classmethod
    def load_torch_weights(cls, model_name_or_path: str, subfolder: str = "", model: nn.Module | None = None,
                           **_: Any) -> nn.Module | dict[str, Tensor]:
        """Weights from ``model.safetensors`` in the folder: loaded into ``model`` (strictly) and returned,
        or returned as a state dict. Pickled weights are refused: they can run code when read."""
        from safetensors.torch import load_file, load_model

        path = os.path.join(model_name_or_path, subfolder, "model.safetensors")
        if not os.path.exists(path):
            raise SentforgeError(
                f"No model.safetensors in {os.path.dirname(path)!r}. Save the module with safe_serialization=True."
            )
        if model is None:
            return load_file(path)
        load_model(model, path)
        return model

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.get_config_dict()})"


class InputModule(Module):
    """A first module: turns inputs into features (``preprocess``) and is saved in the model folder's root."""

    save_in_root: bool = True
    tokenizer: Any

    @property
    def modalities(self) -> list[str]:
        return ["text"]

    def preprocess(self, inputs: Sequence[str], prompt: str | None = None, **kwargs: Any) -> dict[str, Tensor | Any]:
        """Features for a batch of inputs (``prompt`` prepended to each text); subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement the `preprocess` method.")

    def tokenize(self, texts: list[str], **kwargs: Any) -> dict[str, Tensor | Any]:
        """The older name of ``preprocess``."""
        return self.preprocess(texts, **kwargs)

    def save_tokenizer(self, output_path: str, **kwargs: Any) -> None:
        """Save ``self.tokenizer`` (a transformers or tokenizers tokenizer) into ``output_path``, if there is one."""
        tokenizer = getattr(self, "tokenizer", None)
        if tokenizer is None:
            return
        if hasattr(tokenizer, "save_pretrained"):
            tokenizer.save_pretrained(output_path, **kwargs)
        else:
            tokenizer.save(os.path.join(output_path, "tokenizer.json"), **kwargs)


def _register_builtin_modules() -> None:
    from .modules import Dense, Normalize, Pooling, Transformer

    InputModule.register(Transformer)
    for module_class in (Pooling, Dense, Normalize):
        Module.register(module_class)


_register_builtin_modules()
