"""What the listwise losses share: (query, [documents], [labels]) rows into padded score matrices."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .base import chunked_pair_scores


@dataclass
class ScoredLists:
    """Scores of every (query, document) of a batch, laid out ``[queries, longest list]``."""

    logits: Tensor  # the activated logits, flat, in row order
    batch_index: Tensor  # [pairs] the query of each pair
    doc_index: Tensor  # [pairs] the pair's position in its list
    labels: Tensor  # [pairs] float labels, flat
    shape: tuple[int, int]

    def matrix(self, values: Tensor, fill: float) -> Tensor:
        """``values`` (one per pair) in a ``[queries, longest]`` matrix, ``fill`` where a list is shorter."""
        out = torch.full(self.shape, fill, device=values.device, dtype=values.dtype)
        out[self.batch_index.to(values.device), self.doc_index.to(values.device)] = values
        return out


def score_lists(loss: nn.Module, inputs: list, labels, prompt: str | None = None) -> ScoredLists:
    """Check the rows, score every pair (``loss.mini_batch_size`` pairs per forward) and index them."""
    name = type(loss).__name__
    if isinstance(labels, Tensor):
        raise ValueError(f"{name} expects a list of labels for each sample, but got a single value for each sample.")
    if len(inputs) != 2:
        raise ValueError(f"{name} expects two inputs (queries, documents_list), but got {len(inputs)} inputs.")
    queries, docs_list = inputs
    docs_per_query = [len(docs) for docs in docs_list]
    if docs_per_query != [len(values) for values in labels]:
        raise ValueError(
            f"Number of documents per query in inputs ({docs_per_query}) does not match number of labels per "
            f"query ({[len(values) for values in labels]})."
        )
    pairs = [(query, doc) for query, docs in zip(queries, docs_list) for doc in docs]
    chunk = loss.mini_batch_size or len(queries)
    logits = loss.activation_fn(chunked_pair_scores(loss.model, pairs, chunk, prompt).float())
    device = logits.device
    return ScoredLists(
        logits=logits,
        batch_index=torch.repeat_interleave(torch.arange(len(queries)), torch.tensor(docs_per_query)),
        doc_index=torch.cat([torch.arange(n) for n in docs_per_query]),
        labels=torch.cat([torch.as_tensor(values) for values in labels]).float().to(device),
        shape=(len(queries), max(docs_per_query)),
    )
