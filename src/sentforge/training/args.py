"""SentenceTransformerTrainingArguments: transformers' TrainingArguments plus the embedding-specific ones.

Same names, defaults and meanings as sentence-transformers, so a script's arguments carry over.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Union

from transformers import TrainingArguments

logger = logging.getLogger(__name__)


class BatchSamplers(str, Enum):
    """How rows are grouped into batches."""

    BATCH_SAMPLER = "batch_sampler"  # shuffled, fixed-size batches
    NO_DUPLICATES = "no_duplicates"  # no text twice in one batch (in-batch negatives stay negative)
    NO_DUPLICATES_HASHED = "no_duplicates_hashed"
    GROUP_BY_LABEL = "group_by_label"  # several rows per label in each batch (batch-triplet losses)


class MultiDatasetBatchSamplers(str, Enum):
    """How batches from several datasets are interleaved."""

    ROUND_ROBIN = "round_robin"  # one batch of each in turn, until the smallest runs out
    PROPORTIONAL = "proportional"  # every batch of every dataset, sampled in proportion to size


@dataclass
class SentenceTransformerTrainingArguments(TrainingArguments):
    """Training arguments; see transformers.TrainingArguments for the shared ones."""

    _VALID_DICT_FIELDS = [
        "accelerator_config",
        "fsdp_config",
        "deepspeed",
        "gradient_checkpointing_kwargs",
        "lr_scheduler_kwargs",
        "learning_rate_mapping",
        "prompts",
        "router_mapping",
    ]

    output_dir: str | None = field(default=None, metadata={"help": "Where checkpoints and the model go."})
    prompts: Union[str, None, dict[str, str], dict[str, dict[str, str]]] = field(  # noqa: UP007
        default=None, metadata={"help": "Prompt per column / dataset, prepended to the texts."}
    )
    batch_sampler: Union[BatchSamplers, str, Callable[..., Any]] = field(  # noqa: UP007
        default=BatchSamplers.BATCH_SAMPLER, metadata={"help": "The batch sampler to use."}
    )
    multi_dataset_batch_sampler: Union[MultiDatasetBatchSamplers, str, Callable[..., Any]] = field(  # noqa: UP007
        default=MultiDatasetBatchSamplers.PROPORTIONAL, metadata={"help": "How to interleave several datasets."}
    )
    router_mapping: Union[str, None, dict[str, str], dict[str, dict[str, str]]] = field(  # noqa: UP007
        default_factory=dict, metadata={"help": "Column -> route mapping (accepted for compatibility)."}
    )
    learning_rate_mapping: Union[str, None, dict[str, float]] = field(  # noqa: UP007
        default_factory=dict, metadata={"help": "Parameter-name regex -> learning rate."}
    )
    warmup_ratio: float | None = field(
        default=None, metadata={"help": "Share of the steps for linear warmup (same as a float warmup_steps)."}
    )

    def __post_init__(self) -> None:
        if self.output_dir is None:
            self.output_dir = "trainer_output"
        if self.warmup_ratio is not None and not self.warmup_steps:
            self.warmup_steps = float(self.warmup_ratio)
            self.warmup_ratio = None
        super().__post_init__()
        if isinstance(self.batch_sampler, str):
            self.batch_sampler = BatchSamplers(self.batch_sampler)
        if isinstance(self.multi_dataset_batch_sampler, str):
            self.multi_dataset_batch_sampler = MultiDatasetBatchSamplers(self.multi_dataset_batch_sampler)
        for name in ("prompts", "learning_rate_mapping", "router_mapping"):
            value = getattr(self, name)
            if isinstance(value, str):
                try:
                    setattr(self, name, json.loads(value))
                except json.JSONDecodeError:
                    if name != "prompts":
                        raise ValueError(f"`{name}` must be a dict (or its JSON string).") from None
            elif value is None and name != "prompts":
                setattr(self, name, {})
        # Embedding losses return only a loss; evaluation goes through evaluators.
        self.prediction_loss_only = True
        # BERT-style models modify buffers in place; broadcasting them breaks DDP backward.
        self.ddp_broadcast_buffers = False
        if self.parallel_mode.value == "distributed" and not self.dataloader_drop_last:
            self.dataloader_drop_last = True  # an uneven last batch would hang the other processes

    def to_dict(self) -> dict[str, Any]:
        config = super().to_dict()
        for name in ("batch_sampler", "multi_dataset_batch_sampler"):
            if callable(config.get(name)) and not isinstance(config.get(name), Enum):
                del config[name]
        return config
