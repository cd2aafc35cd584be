"""CrossEncoderTrainingArguments: the same fields and defaults as the SentenceTransformer's arguments."""

from __future__ import annotations

from dataclasses import dataclass

from ..training.args import SentenceTransformerTrainingArguments


@dataclass
class CrossEncoderTrainingArguments(SentenceTransformerTrainingArguments):
    """transformers' TrainingArguments plus ``prompts`` (one string, or one per dataset), ``batch_sampler``,
    ``multi_dataset_batch_sampler``, ``router_mapping`` and ``learning_rate_mapping``."""
