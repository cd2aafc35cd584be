"""Drop-in path `sentforge.training_args` (as `sentence_transformers.training_args`)."""

from .training.args import BatchSamplers, MultiDatasetBatchSamplers, SentenceTransformerTrainingArguments

__all__ = ["SentenceTransformerTrainingArguments", "BatchSamplers", "MultiDatasetBatchSamplers"]
