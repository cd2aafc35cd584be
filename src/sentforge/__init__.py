"""sentforge: train, evaluate, document and serve sentence-embedding models.

Drop-in for the sentence-transformers API: ``from sentforge import SentenceTransformer``.
Training, evaluation and card modules load on first use, so ``import sentforge`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from .errors import SentforgeError
from .model import SentenceTransformer
from .similarity import SimilarityFunction

_LAZY = {
    "evaluation": ("sentforge.evaluation", None),
    "losses": ("sentforge.losses", None),
    "models": ("sentforge.models", None),
    "util": ("sentforge.util", None),
    "InputExample": ("sentforge.readers", "InputExample"),
    "SentencesDataset": ("sentforge.datasets", "SentencesDataset"),
    "SentenceTransformerModelCardData": ("sentforge.card.info", "SentenceTransformerModelCardData"),
    "SentenceTransformerTrainingArguments": ("sentforge.training.args", "SentenceTransformerTrainingArguments"),
    "BatchSamplers": ("sentforge.training.args", "BatchSamplers"),
    "MultiDatasetBatchSamplers": ("sentforge.training.args", "MultiDatasetBatchSamplers"),
    "SentenceTransformerTrainer": ("sentforge.training.trainer", "SentenceTransformerTrainer"),
    "CrossEncoder": ("sentforge.cross_encoder", "CrossEncoder"),
    "cross_encoder": ("sentforge.cross_encoder", None),
    "export_dynamic_quantized_onnx_model": ("sentforge.backends.onnx_export", "export_dynamic_quantized_onnx_model"),
    "export_optimized_onnx_model": ("sentforge.backends.onnx_export", "export_optimized_onnx_model"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'sentforge' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["SentenceTransformer", "SentforgeError", "SimilarityFunction", "__version__", *_LAZY]
