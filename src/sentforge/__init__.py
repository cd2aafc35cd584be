"""sentforge: train, evaluate, document and serve sentence-embedding models.

Drop-in for the sentence-transformers API: ``from sentforge import SentenceTransformer``; both the older
module paths (``sentforge.losses``) and sentence-transformers 6's (``sentforge.sentence_transformer.losses``) work.
Training, evaluation and card modules load on first use, so ``import sentforge`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from .errors import SentforgeError
from .model import SentenceTransformer
from .module_aliases import register_module_aliases as _register_module_aliases
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
    "export_static_quantized_openvino_model": ("sentforge.backend.quantize", "export_static_quantized_openvino_model"),
    "CrossEncoderTrainer": ("sentforge.cross_encoder.trainer", "CrossEncoderTrainer"),
    "CrossEncoderTrainingArguments": ("sentforge.cross_encoder.training_args", "CrossEncoderTrainingArguments"),
    "CrossEncoderModelCardData": ("sentforge.cross_encoder.card_data", "CrossEncoderModelCardData"),
    "DefaultBatchSampler": ("sentforge.base.sampler", "DefaultBatchSampler"),
    "MultiDatasetDefaultBatchSampler": ("sentforge.base.sampler", "MultiDatasetDefaultBatchSampler"),
    "LoggingHandler": ("sentforge.util.logging", "LoggingHandler"),
    "mine_hard_negatives": ("sentforge.util.hard_negatives", "mine_hard_negatives"),
    "quantize_embeddings": ("sentforge.util.quantization", "quantize_embeddings"),
    "resolve_ids": ("sentforge.util.dataset", "resolve_ids"),
    # sentence-transformers 6's canonical packages (the older paths above stay as they were).
    "sentence_transformer": ("sentforge.sentence_transformer", None),
    "base": ("sentforge.base", None),
    "backend": ("sentforge.backend", None),
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

# The pre-6 module path ``sentforge.SentenceTransformer`` (the attribute stays the class).
_register_module_aliases(__name__, {"SentenceTransformer": "sentforge.model"})
