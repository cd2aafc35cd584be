"""In-batch negatives ranking losses (InfoNCE): MultipleNegativesRankingLoss and its symmetric form.

For each anchor (query) the paired positive must score higher than every other candidate in the
batch: the other rows' positives and all hard-negative columns. ``directions`` adds more
interaction terms (doc->query, query->query, doc->doc) and ``partition_mode`` picks one joint
softmax or one softmax per direction, as in sentence-transformers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import Tensor

from ..similarity import cos_sim
from .base import BaseLoss, embed_columns, similarity_fct_name
from .distributed import all_gather_with_grad, get_rank

logger = logging.getLogger(__name__)

DIRECTIONS = ("query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc")
HARDNESS_MODES = (None, "in_batch_negatives", "hard_negatives", "all_negatives")

HENDERSON_CITATION = """
@misc{henderson2017efficient,
    title={Efficient Natural Language Response Suggestion for Smart Reply},
    author={Matthew Henderson and Rami Al-Rfou and Brian Strope and Yun-hsuan Sung and Laszlo Lukacs and Ruiqi Guo and Sanjiv Kumar and Balint Miklos and Ray Kurzweil},
    year={2017},
    eprint={1705.00652},
    archivePrefix={arXiv},
    primaryClass={cs.CL}
}
"""

GTE_CITATION = """
@misc{li2023generaltextembeddingsmultistage,
      title={Towards General Text Embeddings with Multi-stage Contrastive Learning},
      author={Zehan Li and Xin Zhang and Yanzhao Zhang and Dingkun Long and Pengjun Xie and Meishan Zhang},
      year={2023},
      eprint={2308.03281},
      archivePrefix={arXiv},
      primaryClass={cs.CL},
      url={https://arxiv.org/abs/2308.03281},
}
"""

JINA_CITATION = """
@misc{günther2024jinaembeddings28192token,
      title={Jina Embeddings 2: 8192-Token General-Purpose Text Embeddings for Long Documents},
      author={Michael Günther and Jackmin Ong and Isabelle Mohr and Alaeddine Abdessalem and Tanguy Abel and Mohammad Kalim Akram and Susana Guzman and Georgios Mastrapas and Saba Sturua and Bo Wang and Maximilian Werk and Nan Wang and Han Xiao},
      year={2024},
      eprint={2310.19923},
      archivePrefix={arXiv},
      primaryClass={cs.CL},
      url={https://arxiv.org/abs/2310.19923},
}
"""


class RankingSettings:
    """The hyperparameters of the in-batch ranking objective, validated once."""

    def __init__(
        self,
        scale: float,
        similarity_fct: Callable[[Tensor, Tensor], Tensor],
        gather_across_devices: bool,
        directions: Sequence[str],
        partition_mode: str,
        hardness_mode: str | None,
        hardness_strength: float,
    ) -> None:
        if not scale > 0:
            raise ValueError("Scale must be a positive value.")
        if not directions:
            raise ValueError("At least one direction must be specified.")
        unknown = set(directions) - set(DIRECTIONS)
        if unknown:
            raise ValueError(f"Invalid directions: {unknown}. Valid: {set(DIRECTIONS)}")
        if "query_to_doc" not in directions:
            raise ValueError("'query_to_doc' direction is required (contains the positive pair).")
        if partition_mode not in ("joint", "per_direction"):
            raise ValueError(f"partition_mode must be 'joint' or 'per_direction', got {partition_mode}")
        if partition_mode == "per_direction" and set(directions) & {"query_to_query", "doc_to_doc"}:
            raise ValueError(
                "partition_mode='per_direction' needs every direction to contain the positive pair; "
                "'query_to_query' and 'doc_to_doc' do not. Use partition_mode='joint' instead."
            )
        if hardness_mode not in HARDNESS_MODES:
            raise ValueError(f"hardness_mode must be one of {HARDNESS_MODES}, got {hardness_mode!r}")
        if hardness_strength < 0.0:
            raise ValueError("hardness_strength must be non-negative.")
        if hardness_mode is not None and hardness_strength == 0.0:
            logger.warning(f"hardness_mode={hardness_mode!r} has no effect with hardness_strength=0.0.")
        self.scale = scale
        self.similarity_fct = similarity_fct
        self.gather_across_devices = gather_across_devices
        self.directions = tuple(directions)
        self.partition_mode = partition_mode
        self.hardness_mode = hardness_mode
        self.hardness_strength = hardness_strength


def gather_candidates(queries: Tensor, docs: list[Tensor], gather: bool) -> tuple[Tensor, list[Tensor], int]:
    """All-gather queries and docs when asked; also return this rank's row offset in them."""
    if not gather:
        return queries, docs, 0
    offset = get_rank() * queries.size(0)
    return all_gather_with_grad(queries), [all_gather_with_grad(doc) for doc in docs], offset


def ranking_row_losses(queries: Tensor, docs: list[Tensor], rows: Tensor, settings: RankingSettings) -> Tensor:
    """Per-row InfoNCE losses for the query rows ``rows`` (indices into ``queries``).

    ``queries`` is ``(N, dim)`` (N = all rows, over all ranks when gathered) and ``docs`` one
    ``(N, dim)`` tensor per candidate column, positives first. Row i's positive is ``docs[0][i]``.
    """
    s = settings
    num_rows, num_docs, device = queries.size(0), len(docs), queries.device
    local = torch.arange(len(rows), device=device)
    docs_all = torch.cat(docs, dim=0)
    hardness = s.hardness_mode is not None and s.hardness_strength > 0.0
    if hardness or {"query_to_query", "doc_to_doc"} & set(s.directions):
        own_columns = torch.zeros(len(rows), num_rows, dtype=torch.bool, device=device)
        own_columns[local, rows] = True
        own_docs = own_columns.repeat(1, num_docs)  # the row's own positive and hard negatives

    sims = {"query_to_doc": s.similarity_fct(queries[rows], docs_all)}
    if "query_to_query" in s.directions:
        sims["query_to_query"] = s.similarity_fct(queries[rows], queries).masked_fill(own_columns, -torch.inf)
    if "doc_to_query" in s.directions:
        sims["doc_to_query"] = s.similarity_fct(queries, docs[0][rows]).T
    if "doc_to_doc" in s.directions:
        sims["doc_to_doc"] = s.similarity_fct(docs_all, docs[0][rows]).T.masked_fill(own_docs, -torch.inf)

    penalty = None
    if hardness:
        # Harder negatives weigh more in the softmax: + alpha * stop_grad(similarity), not scaled.
        if s.hardness_mode == "in_batch_negatives":
            penalised = ~own_docs
        elif s.hardness_mode == "hard_negatives":
            penalised = own_docs.clone()
            penalised[:, :num_rows] = False
        else:  # all_negatives: everything except the positive
            penalised = torch.ones_like(own_docs)
            penalised[local, rows] = False
        penalty = s.hardness_strength * sims["query_to_doc"].detach() * penalised

    logits = {key: sim * s.scale for key, sim in sims.items()}
    if penalty is not None:
        logits["query_to_doc"] = logits["query_to_doc"] + penalty
    positive = logits["query_to_doc"][local, rows]
    if s.partition_mode == "joint":
        log_z = torch.logsumexp(torch.cat(list(logits.values()), dim=1), dim=1)
    else:
        log_z = torch.stack([torch.logsumexp(logit, dim=1) for logit in logits.values()]).mean(dim=0)
    return log_z - positive


def settings_property(name: str, writable: bool = True, owner: str = "_settings") -> property:
    """A loss attribute that reads (and writes) ``getattr(self, owner).<name>``."""

    def get(self):
        return getattr(getattr(self, owner), name)

    def set(self, value) -> None:
        setattr(getattr(self, owner), name, value)

    return property(get, set if writable else None)


class MultipleNegativesRankingLoss(BaseLoss):
    """InfoNCE with in-batch negatives over (anchor, positive[, negative_1, ...]) rows; no labels."""

    min_text_columns = 2
    uses_in_batch_negatives = True

    def __init__(
        self,
        model,
        scale: float = 20.0,
        similarity_fct: Callable[[Tensor, Tensor], Tensor] = cos_sim,
        gather_across_devices: bool = False,
        directions: tuple[str, ...] = ("query_to_doc",),
        partition_mode: str = "joint",
        hardness_mode: str | None = None,
        hardness_strength: float = 0.0,
    ) -> None:
        super().__init__()
        self.model = model
        self._settings = RankingSettings(
            scale, similarity_fct, gather_across_devices, directions, partition_mode, hardness_mode, hardness_strength
        )

    # The hyperparameters live in one settings object shared with the scoring function.
    scale = settings_property("scale")
    similarity_fct = settings_property("similarity_fct")
    gather_across_devices = settings_property("gather_across_devices")
    directions = settings_property("directions", writable=False)
    partition_mode = settings_property("partition_mode", writable=False)
    hardness_mode = settings_property("hardness_mode", writable=False)
    hardness_strength = settings_property("hardness_strength", writable=False)

    @property
    def temperature(self) -> float:
        return 1.0 / self.scale

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        return self.compute_loss_from_embeddings(embed_columns(self.model, sentence_features), labels)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None = None) -> Tensor:
        if len(embeddings) < 2:
            raise ValueError(f"Expected at least 2 embeddings, got {len(embeddings)}")
        batch_size = embeddings[0].size(0)
        queries, docs, offset = gather_candidates(embeddings[0], embeddings[1:], self.gather_across_devices)
        rows = torch.arange(offset, offset + batch_size, device=queries.device)
        return ranking_row_losses(queries, docs, rows, self._settings).mean()

    def get_config_dict(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "scale": self.scale,
            "similarity_fct": similarity_fct_name(self.similarity_fct),
            "gather_across_devices": self.gather_across_devices,
        }
        return config | non_default_ranking_options(self._settings)

    @property
    def citation(self) -> str:
        return ranking_citation(self._settings, HENDERSON_CITATION)


def non_default_ranking_options(settings: RankingSettings) -> dict[str, Any]:
    """The newer ranking options, only where they differ from the classic objective."""
    defaults = {"directions": ("query_to_doc",), "partition_mode": "joint", "hardness_mode": None}
    options: dict[str, Any] = {}
    for key, default in defaults.items():
        if getattr(settings, key) != default:
            options[key] = getattr(settings, key)
    if settings.hardness_mode is not None:
        options["hardness_strength"] = settings.hardness_strength
    return options


def ranking_citation(settings: RankingSettings, default: str) -> str:
    """GTE's paper for the four-direction joint variant, Jina's for the symmetric one."""
    directions = set(settings.directions)
    if directions == set(DIRECTIONS) and settings.partition_mode == "joint":
        return GTE_CITATION
    if directions == {"query_to_doc", "doc_to_query"} and settings.partition_mode == "per_direction":
        return JINA_CITATION
    return default


class MultipleNegativesSymmetricRankingLoss(MultipleNegativesRankingLoss):
    """MNRL plus the reverse direction (each positive must find its anchor), averaged."""

    def __init__(
        self,
        model,
        scale: float = 20.0,
        similarity_fct: Callable[[Tensor, Tensor], Tensor] = cos_sim,
        gather_across_devices: bool = False,
    ) -> None:
        super().__init__(
            model,
            scale=scale,
            similarity_fct=similarity_fct,
            gather_across_devices=gather_across_devices,
            directions=("query_to_doc", "doc_to_query"),
            partition_mode="per_direction",
        )

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "similarity_fct": similarity_fct_name(self.similarity_fct),
            "gather_across_devices": self.gather_across_devices,
        }
