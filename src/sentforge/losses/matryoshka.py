"""MatryoshkaLoss: train an inner loss on several prefixes of the embedding at once.

The loss is ``sum_k weight_k * inner_loss(embeddings[:, :dim_k], normalized)``. The model runs
once per batch: the full embeddings are cached and each dimension reuses them. Losses that embed
through :func:`~sentforge.losses.base.embed_columns` are intercepted there; GradCache losses are
handled by wrapping their ``calculate_loss``; any other loss falls back to patching the model's
``forward`` for the duration of the call.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import BaseLoss, LabelKind, current_embedder, embedding_override, model_embedding_dim

logger = logging.getLogger(__name__)

KUSUPATI_CITATION = """
@misc{kusupati2024matryoshka,
    title={Matryoshka Representation Learning},
    author={Aditya Kusupati and Gantavya Bhatt and Aniket Rege and Matthew Wallingford and Aditya Sinha and Vivek Ramanujan and William Howard-Snyder and Kaifeng Chen and Sham Kakade and Prateek Jain and Ali Farhadi},
    year={2024},
    eprint={2205.13147},
    archivePrefix={arXiv},
    primaryClass={cs.LG}
}
"""


def shrink(embeddings: Tensor, dim: int) -> Tensor:
    """The first ``dim`` components, L2-normalized."""
    if dim > embeddings.shape[-1]:
        raise ValueError(f"Dimension {dim} in matryoshka_dims exceeds the embedding dimension {embeddings.shape[-1]}.")
    shrunk = embeddings[..., :dim]
    if shrunk.dtype in (torch.float16, torch.bfloat16):  # normalized in float32, as sentence-transformers does
        return F.normalize(shrunk.float(), p=2, dim=-1).to(shrunk.dtype)
    return F.normalize(shrunk, p=2, dim=-1)


class _CachedLossDecorator:
    """Replaces a GradCache loss's ``calculate_loss`` with the weighted sum over dimensions."""

    def __init__(self, fn, matryoshka: MatryoshkaLoss) -> None:
        self.fn = fn
        self.matryoshka = matryoshka

    def __call__(self, reps: list[list[Tensor]], *args, **kwargs) -> Tensor:
        grad = torch.is_grad_enabled()
        total = 0.0
        for dim, weight in self.matryoshka.sample_dims():
            shrunk = [[shrink(r, dim) for r in column] for column in reps]
            # The inner loss backpropagates into leaves; carry those gradients through `shrink`.
            leaves = [[r.detach().requires_grad_() for r in column] for column in shrunk] if grad else shrunk
            total = total + weight * self.fn(leaves, *args, **kwargs)
            if grad:
                for s_column, l_column in zip(shrunk, leaves):
                    for s, leaf in zip(s_column, l_column):
                        if leaf.grad is not None:
                            s.backward(weight * leaf.grad)
        return total


class _ForwardPatch:
    """Stand-in for ``model.forward`` that runs the model once per input and shrinks the output."""

    def __init__(self, forward) -> None:
        self.forward = forward
        self.outputs: dict[int, dict[str, Tensor]] = {}
        self.dim: int | None = None

    def __call__(self, features: dict[str, Tensor], *args, **kwargs) -> dict[str, Tensor]:
        key = id(features)
        if key not in self.outputs:
            output = self.forward(features, *args, **kwargs)
            self.outputs[key] = {**output, "full_embedding": output["sentence_embedding"]}
        output = dict(self.outputs[key])
        output["sentence_embedding"] = shrink(output.pop("full_embedding"), self.dim)
        return output


class MatryoshkaLoss(BaseLoss):
    """Wraps ``loss`` so it is applied at every dimension in ``matryoshka_dims``."""

    def __init__(
        self,
        model,
        loss: nn.Module,
        matryoshka_dims: Sequence[int],
        matryoshka_weights: Sequence[float] | None = None,
        n_dims_per_step: int = -1,
    ) -> None:
        super().__init__()
        if not matryoshka_dims:
            raise ValueError("You must provide at least one dimension in matryoshka_dims.")
        if any(dim <= 0 for dim in matryoshka_dims):
            raise ValueError("All dimensions passed to a matryoshka loss must be > 0.")
        if matryoshka_weights is None:
            matryoshka_weights = [1] * len(matryoshka_dims)
        elif len(matryoshka_weights) != len(matryoshka_dims):
            raise ValueError("matryoshka_weights must be the same length as matryoshka_dims.")
        full_dim = model_embedding_dim(model)
        if full_dim is not None:
            if any(dim > full_dim for dim in matryoshka_dims):
                raise ValueError(f"Dimensions in matryoshka_dims cannot exceed the embedding dimension {full_dim}.")
            if full_dim not in matryoshka_dims:
                logger.warning(
                    f"The model's embedding dimension {full_dim} is not in matryoshka_dims {list(matryoshka_dims)}: "
                    "the full embedding will not be trained. Add it to matryoshka_dims."
                )
        self.model = model
        self.loss = loss
        pairs = sorted(zip(matryoshka_dims, matryoshka_weights), key=lambda pair: pair[0], reverse=True)
        self.matryoshka_dims, self.matryoshka_weights = (tuple(x) for x in zip(*pairs))
        self.n_dims_per_step = n_dims_per_step
        # The data the inner loss needs is what this loss needs.
        for name in ("label_kind", "label_range", "min_text_columns", "max_text_columns", "uses_in_batch_negatives"):
            setattr(self, name, getattr(loss, name, getattr(BaseLoss, name)))
        self.uses_gradient_cache = getattr(loss, "uses_gradient_cache", False)
        if self.uses_gradient_cache:
            loss.calculate_loss = _CachedLossDecorator(loss.calculate_loss, self)
        self._patch_forward = False  # set once the inner loss is seen to bypass embed_columns

    def requires_labels(self, num_text_columns: int) -> bool:
        inner = getattr(self.loss, "requires_labels", None)
        return inner(num_text_columns) if inner else self.label_kind is not LabelKind.NONE

    def sample_dims(self) -> list[tuple[int, float]]:
        """The (dim, weight) pairs to train this step: all, or ``n_dims_per_step`` random ones."""
        indices = list(range(len(self.matryoshka_dims)))
        if 0 < self.n_dims_per_step < len(indices):
            indices = sorted(random.sample(indices, self.n_dims_per_step))
        return [(self.matryoshka_dims[i], self.matryoshka_weights[i]) for i in indices]

    def _labels_at(self, labels: Tensor | None, dim: int) -> Tensor | None:
        """Teacher-embedding labels are truncated along with the embeddings."""
        if isinstance(labels, Tensor) and labels.ndim in (2, 3) and labels.size(-1) == model_embedding_dim(self.model):
            return labels[..., :dim]
        return labels

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        sentence_features = list(sentence_features)
        if self.uses_gradient_cache:
            return self.loss(sentence_features, labels)
        if self._patch_forward:
            return self._forward_patched(sentence_features, labels)
        full: dict[tuple[int, ...], list[Tensor]] = {}
        state = {"dim": None, "calls": 0}
        embed = current_embedder()

        def truncated(model: nn.Module, features: list[dict[str, Tensor]]) -> list[Tensor]:
            if model is not self.model:  # e.g. a guide model: leave it alone
                return embed(model, features)
            state["calls"] += 1
            key = tuple(id(f) for f in features)
            if key not in full:
                full[key] = embed(model, features)
            return [shrink(e, state["dim"]) for e in full[key]]

        total = 0.0
        with embedding_override(truncated):
            for dim, weight in self.sample_dims():
                state["dim"] = dim
                value = self.loss(sentence_features, self._labels_at(labels, dim))
                if state["calls"] == 0:
                    # The inner loss calls the model directly: intercept model.forward instead.
                    self._patch_forward = True
                    return self._forward_patched(sentence_features, labels)
                total = total + weight * value
        return total

    def _forward_patched(self, sentence_features: list[dict[str, Tensor]], labels: Tensor | None) -> Tensor:
        had_own_forward = "forward" in vars(self.model)  # e.g. already patched by someone else
        original = self.model.forward
        patch = _ForwardPatch(original)
        self.model.forward = patch
        try:
            total = 0.0
            for dim, weight in self.sample_dims():
                patch.dim = dim
                total = total + weight * self.loss(sentence_features, self._labels_at(labels, dim))
        finally:
            if had_own_forward:
                self.model.forward = original
            else:
                del self.model.forward
        return total

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "loss": type(self.loss).__name__,
            "matryoshka_dims": self.matryoshka_dims,
            "matryoshka_weights": self.matryoshka_weights,
            "n_dims_per_step": self.n_dims_per_step,
        }

    @property
    def citation(self) -> str:
        return KUSUPATI_CITATION
