"""Drop-in path ``sentforge.sentence_transformer.training_args``: training arguments and sampler choices."""

from ..training.args import BatchSamplers, MultiDatasetBatchSamplers, SentenceTransformerTrainingArguments

__all__ = ["SentenceTransformerTrainingArguments", "BatchSamplers", "MultiDatasetBatchSamplers"]
