"""MegaBatchMarginLoss (Wieting & Gimpel 2018): push each anchor's positive above
``positive_margin`` and its hardest in-batch negative below ``negative_margin``.

Hard negatives are mined from large batches; the default mini-batched version computes the loss
with GradCache, so the batch can be far larger than what fits one forward.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ..similarity import cos_sim
from .base import embed_columns
from .gradcache import CachedLossMixin

WIETING_CITATION = """
@inproceedings{wieting-gimpel-2018-paranmt,
    title = "{P}ara{NMT}-50{M}: Pushing the Limits of Paraphrastic Sentence Embeddings with Millions of Machine Translations",
    author = "Wieting, John and Gimpel, Kevin",
    editor = "Gurevych, Iryna and Miyao, Yusuke",
    booktitle = "Proceedings of the 56th Annual Meeting of the Association for Computational Linguistics (Volume 1: Long Papers)",
    month = jul,
    year = "2018",
    address = "Melbourne, Australia",
    publisher = "Association for Computational Linguistics",
    url = "https://aclanthology.org/P18-1042",
    doi = "10.18653/v1/P18-1042",
    pages = "451--462",
}
"""


def check_mini_batch_num_tokens(mini_batch_num_tokens: int | None) -> None:
    """A token budget per mini-batch must be a positive integer (or None for row counts)."""
    value = mini_batch_num_tokens
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
        raise ValueError(f"mini_batch_num_tokens must be a positive integer or None, got {mini_batch_num_tokens!r}.")


class MegaBatchMarginLoss(CachedLossMixin):
    """(anchor, positive) pairs, no labels; the other rows' positives are the negatives."""

    min_text_columns = 2
    max_text_columns = 2
    uses_in_batch_negatives = True

    def __init__(
        self,
        model,
        positive_margin: float = 0.8,
        negative_margin: float = 0.3,
        use_mini_batched_version: bool = True,
        mini_batch_size: int = 50,
        mini_batch_num_tokens: int | None = None,
        show_progress_bar: bool = False,
    ) -> None:
        super().__init__()
        check_mini_batch_num_tokens(mini_batch_num_tokens)
        self.model = model
        self.positive_margin = positive_margin
        self.negative_margin = negative_margin
        self.use_mini_batched_version = use_mini_batched_version
        self.mini_batch_size = mini_batch_size
        self.mini_batch_num_tokens = mini_batch_num_tokens
        self.show_progress_bar = show_progress_bar
        self.uses_gradient_cache = use_mini_batched_version

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        sentence_features = list(sentence_features)
        if len(sentence_features) != 2:
            raise ValueError(
                f"MegaBatchMarginLoss expects exactly 2 input columns, (anchor, positive), but got "
                f"{len(sentence_features)}. It mines the hardest negative for each anchor from the other "
                "positives in the batch, so it has no use for an explicit negative column. Consider "
                "CachedMultipleNegativesRankingLoss if you want to train with explicit negatives."
            )
        if self.use_mini_batched_version:
            return self.forward_cached(sentence_features, labels)
        reps = embed_columns(self.model, sentence_features)
        return self.calculate_loss([[rep] for rep in reps])

    def calculate_loss(
        self, reps: list[list[Tensor]], labels: Tensor | None = None, *, with_backward: bool = False
    ) -> Tensor:
        """The margin loss over the whole batch, ``mini_batch_size`` anchors at a time."""
        anchors = torch.cat(reps[0])
        positives = torch.cat(reps[1])
        batch_size = len(anchors)
        # Chunks save memory only when each chunk's graph is freed as we go.
        chunk_size = self.mini_batch_size if with_backward or not torch.is_grad_enabled() else batch_size
        total = []
        for begin in range(0, batch_size, chunk_size):
            end = min(begin + chunk_size, batch_size)
            rows = torch.arange(end - begin, device=anchors.device)
            scores = cos_sim(anchors[begin:end], positives)
            positive_scores = scores[rows, rows + begin]
            hardest_negatives = scores.index_put((rows, rows + begin), scores.new_tensor(-torch.inf)).max(dim=1).values
            chunk = (
                F.relu(self.positive_margin - positive_scores) + F.relu(hardest_negatives - self.negative_margin)
            ).sum() / batch_size
            if with_backward:
                chunk.backward()
                chunk = chunk.detach()
            total.append(chunk)
        return sum(total)

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "positive_margin": self.positive_margin,
            "negative_margin": self.negative_margin,
            "mini_batch_size": self.mini_batch_size,
            "mini_batch_num_tokens": self.mini_batch_num_tokens,
        }

    @property
    def citation(self) -> str:
        return WIETING_CITATION
