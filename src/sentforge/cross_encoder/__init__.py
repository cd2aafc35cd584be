"""Cross-encoders (rerankers): score text pairs jointly, train them, evaluate them.

Drop-in paths as ``sentence_transformers.cross_encoder``: ``CrossEncoder``, ``CrossEncoderTrainer``,
``CrossEncoderTrainingArguments``, ``CrossEncoderDataCollator``, ``CrossEncoderModelCardData``,
``losses`` and ``evaluation``. The trainer and its parts load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..module_aliases import register_module_aliases
from .card_data import CrossEncoderModelCardData
from .model import CrossEncoder

_LAZY = {
    "CrossEncoderTrainer": ("sentforge.cross_encoder.trainer", "CrossEncoderTrainer"),
    "CrossEncoderTrainingArguments": ("sentforge.cross_encoder.training_args", "CrossEncoderTrainingArguments"),
    "CrossEncoderDataCollator": ("sentforge.cross_encoder.data_collator", "CrossEncoderDataCollator"),
    "losses": ("sentforge.cross_encoder.losses", None),
    "evaluation": ("sentforge.cross_encoder.evaluation", None),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'sentforge.cross_encoder' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


__all__ = ["CrossEncoder", "CrossEncoderModelCardData", *_LAZY]

# sentence-transformers 6's module name for the card data class, and the pre-6 ``cross_encoder.CrossEncoder``.
register_module_aliases(__name__, {"model_card": "card_data", "CrossEncoder": "model"})
