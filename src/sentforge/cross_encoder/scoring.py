"""The cross-encoder forward: token ids of text pairs in, classification logits out.

For ``BertForSequenceClassification`` (MiniLM included) the model runs padding-free, with the
last layer computed for [CLS] only (``packed_classifier.py``), on the Hugging Face model's own
modules, so the logits match ``model(**features).logits`` to float rounding. Every other
architecture, and what the packed forward does not support, runs the Hugging Face forward.
"""

from __future__ import annotations

from torch import Tensor, nn

from ..speed.packed_forward import packed_forward_unsupported_reason
from ..speed.switches import enabled
from .packed_classifier import bert_classifier_logits

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def sequence_logits(model: nn.Module, features: dict[str, Tensor], fast: bool = True) -> Tensor:
    """``[batch, num_labels]`` logits of a ``*ForSequenceClassification`` model for tokenized pairs."""
    if fast and enabled("packed_forward", features["input_ids"].device):
        logits = _packed_bert_logits(model, features)
        if logits is not None:
            return logits
    inputs = {key: features[key] for key in MODEL_INPUTS if key in features}
    return model(**inputs, return_dict=True).logits


def packed_path_applies(model: nn.Module) -> bool:
    """Whether the padding-free forward can run this classification model."""
    from transformers import BertForSequenceClassification

    return (
        type(model) is BertForSequenceClassification
        and getattr(model.bert, "pooler", None) is not None
        and len(model.bert.encoder.layer) > 0
        and packed_forward_unsupported_reason(model.bert) is None
    )


def _packed_bert_logits(model: nn.Module, features: dict[str, Tensor]) -> Tensor | None:
    if not packed_path_applies(model):
        return None
    return bert_classifier_logits(
        model, features["input_ids"], features.get("attention_mask"), features.get("token_type_ids")
    )
