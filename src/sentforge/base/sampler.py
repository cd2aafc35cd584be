"""Drop-in path ``sentforge.base.sampler``: the batch samplers and the sampler choices.

sentforge's ``MultiDatasetBatchSampler`` is sentence-transformers' ``MultiDatasetDefaultBatchSampler``."""

from ..training.args import BatchSamplers, MultiDatasetBatchSamplers
from ..training.samplers import (
    DefaultBatchSampler,
    GroupByLabelBatchSampler,
    MultiDatasetBatchSampler as MultiDatasetDefaultBatchSampler,
    NoDuplicatesBatchSampler,
    ProportionalBatchSampler,
    RoundRobinBatchSampler,
)

__all__ = [
    "BatchSamplers",
    "MultiDatasetBatchSamplers",
    "DefaultBatchSampler",
    "MultiDatasetDefaultBatchSampler",
    "GroupByLabelBatchSampler",
    "NoDuplicatesBatchSampler",
    "RoundRobinBatchSampler",
    "ProportionalBatchSampler",
]
