"""CrossEncoderModelCardData: the card settings a user passes to a CrossEncoder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..card.info import SentenceTransformerModelCardData

CROSS_ENCODER_TAGS = ("sentence-transformers", "cross-encoder", "reranker")
_EMBEDDING_TAGS = {"sentence-similarity", "feature-extraction", "dense"}


@dataclass
class CrossEncoderModelCardData(SentenceTransformerModelCardData):
    """Same fields as sentence-transformers' CrossEncoderModelCardData (language, license, model_name,
    model_id, train_datasets, eval_datasets, task_name, tags, local_files_only)."""

    task_name: str | None = None
    tags: list[str] | None = field(default_factory=lambda: list(CROSS_ENCODER_TAGS))

    def __post_init__(self) -> None:
        given_task, given_tags = self.task_name, list(self.tags or [])
        super().__post_init__()
        self.task_name = given_task
        self.tags = list(dict.fromkeys([*CROSS_ENCODER_TAGS, *(t for t in given_tags if t not in _EMBEDDING_TAGS)]))

    def register_model(self, model: Any) -> None:
        """Fill what depends on the model: the task name and the hub pipeline tag."""
        if self.task_name is None:
            self.task_name = (
                "text reranking and semantic search" if model.num_labels == 1 else "text pair classification"
            )

    @staticmethod
    def pipeline_tag(num_labels: int) -> str:
        return "text-ranking" if num_labels == 1 else "text-classification"
