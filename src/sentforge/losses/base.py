"""What every loss shares: the one embedding function, the data declarations, config naming.

All losses embed their text columns through :func:`embed_columns`, so there is exactly one place
to optimise (e.g. one merged forward over all columns) and one place a wrapper such as
:class:`~sentforge.losses.MatryoshkaLoss` can intercept (:func:`embedding_override`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import Enum
from typing import Any, ClassVar

from torch import Tensor, nn

from ..util.misc import similarity_fct_name  # noqa: F401  (the losses name their similarity with it)
from .merged_columns import forward_merged

ColumnEmbedder = Callable[[nn.Module, list[dict[str, Tensor]]], list[Tensor]]

_OVERRIDE: ContextVar[ColumnEmbedder | None] = ContextVar("sentforge_embedding_override", default=None)


def forward_columns(model: nn.Module, sentence_features: Iterable[dict[str, Tensor]]) -> list[Tensor]:
    """Each column's ``sentence_embedding``: one merged forward where possible, else one per column."""
    features = list(sentence_features)
    merged = forward_merged(model, features)
    if merged is not None:
        return merged
    return [model(f)["sentence_embedding"] for f in features]


def embed_columns(model: nn.Module, sentence_features: Iterable[dict[str, Tensor]]) -> list[Tensor]:
    """Embed every text column: one ``(batch, dim)`` tensor per features dict, in column order.

    This is the only way losses reach the model. An active :func:`embedding_override` (set by
    a wrapping loss) takes over; otherwise each column goes through ``model(features)``.
    """
    features = list(sentence_features)
    override = _OVERRIDE.get()
    if override is not None:
        return override(model, features)
    return forward_columns(model, features)


@contextmanager
def embedding_override(embedder: ColumnEmbedder) -> Iterator[None]:
    """Route :func:`embed_columns` through ``embedder`` inside the block.

    ``embedder`` receives ``(model, features_list)``; :func:`current_embedder` gives what it
    replaces, so overrides can be stacked.
    """
    token = _OVERRIDE.set(embedder)
    try:
        yield
    finally:
        _OVERRIDE.reset(token)


def current_embedder() -> ColumnEmbedder:
    """The embedder :func:`embed_columns` uses right now (the override, or plain forwards)."""
    return _OVERRIDE.get() or forward_columns


class LabelKind(str, Enum):
    """What a loss expects in the label column."""

    NONE = "none"  # no labels: pairs / triplets / n-tuples of texts
    SCORE = "score"  # one float per row, maybe within label_range
    SCORES = "scores"  # one float or a list of floats per row (e.g. teacher margins)
    BINARY = "binary"  # 0 or 1 per row
    CLASS_ID = "class_id"  # an integer class id per row
    EMBEDDING = "embedding"  # a vector per row (teacher embedding)


class BaseLoss(nn.Module):
    """Base of every sentforge loss: data declarations the trainer checks before training.

    Subclasses set the class attributes below (instances may override them, e.g. SoftmaxLoss
    derives ``label_range`` from ``num_labels``) and implement ``forward(sentence_features,
    labels)``. ``get_config_dict`` and ``citation`` feed the model card.
    """

    label_kind: ClassVar[LabelKind] = LabelKind.NONE
    label_range: ClassVar[tuple[float, float] | None] = None
    min_text_columns: ClassVar[int] = 2
    max_text_columns: ClassVar[int | None] = None
    uses_in_batch_negatives: ClassVar[bool] = False
    uses_gradient_cache: ClassVar[bool] = False

    def requires_labels(self, num_text_columns: int) -> bool:
        """Whether a label column is needed for data with this many text columns."""
        return self.label_kind is not LabelKind.NONE

    def get_config_dict(self) -> dict[str, Any]:
        """The parameters the model card prints for this loss."""
        return {}

    @property
    def citation(self) -> str | None:
        """BibTeX of the paper behind this loss, or None."""
        return None


def fullname(obj: Any) -> str:
    """``module.ClassName`` of an object or class (builtins give just the name)."""
    cls = obj if inspect.isclass(obj) else type(obj)
    module = cls.__module__
    if module is None or module == "builtins":
        return cls.__name__
    return f"{module}.{cls.__name__}"


def check_label_count(loss: nn.Module, labels: Tensor | None, batch_size: int) -> Tensor:
    """Labels as a flat vector, after checking there is one per row."""
    if labels is None:
        raise ValueError(f"{type(loss).__name__} needs a label per row, but got no labels.")
    if labels.numel() != batch_size:
        raise ValueError(
            f"{type(loss).__name__} expects {batch_size} labels (one per row), "
            f"but got {labels.numel()} with shape {tuple(labels.shape)}."
        )
    return labels.view(-1)


def model_embedding_dim(model: nn.Module) -> int | None:
    """The model's output dimension, under either name sentence-transformers has used."""
    for name in ("get_sentence_embedding_dimension", "get_embedding_dimension"):
        method = getattr(model, name, None)
        if callable(method):
            return method()
    return None
