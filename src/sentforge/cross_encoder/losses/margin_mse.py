"""MarginMSELoss: distil score margins sim(query, positive) - sim(query, negative_i)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .base import activation_name, check_model, pair_scores


class MarginMSELoss(nn.Module):
    """MSE between the model's margins and the labels, on (query, doc_1, doc_2[, ...]) rows.

    Labels are the margins (``[batch]`` or ``[batch, n_negatives]``) or the gold scores of every
    document (``[batch, n_negatives + 1]``), as in sentence-transformers. All pairs of a batch
    go through one forward.
    """

    def __init__(self, model, activation_fn: nn.Module = nn.Identity(), **kwargs) -> None:
        super().__init__()
        self.model = model
        self.activation_fn = activation_fn
        self.loss_fct = nn.MSELoss(**kwargs)
        check_model(self, model)

    def forward(self, inputs: list[list[str]], labels: Tensor | list[Tensor], prompt: str | None = None,
                task: str | None = None) -> Tensor:
        anchors, documents = inputs[0], inputs[1:]
        batch_size, negatives = len(anchors), len(documents) - 1
        if isinstance(labels, list):
            labels = torch.stack(labels)
        if labels.shape == (batch_size, negatives + 1):
            labels = labels[:, 0].unsqueeze(1) - labels[:, 1:]
        if labels.shape == (batch_size,):
            labels = labels.unsqueeze(1)
        if labels.shape != (batch_size, negatives):
            raise ValueError(
                f"Labels shape {labels.shape} does not match expected shape {(batch_size, negatives)}. "
                "Ensure that your dataset labels/scores are 1) lists of differences between positive scores and "
                "negatives scores (length `num_negatives`), or 2) lists of positive and negative scores "
                "(length `num_negatives + 1`)."
            )
        queries = list(anchors) * len(documents)
        texts = [text for column in documents for text in column]
        logits = self.activation_fn(pair_scores(self.model, queries, texts, prompt)).view(len(documents), batch_size)
        margins = logits[0].unsqueeze(1) - logits[1:].T
        return self.loss_fct(margins, labels.detach().float().to(margins.device))

    def logits_from_pairs(self, pairs: list[tuple[str, str]], prompt: str | None = None,
                          task: str | None = None) -> Tensor:
        """The activated logits of pairs (sentence-transformers' helper of the same name)."""
        return self.activation_fn(self.model.pair_logits(pairs, prompt=prompt).view(-1))

    def get_config_dict(self) -> dict:
        return {"activation_fn": activation_name(self.activation_fn)}

    @property
    def citation(self) -> str:
        return """
@misc{hofstätter2021improving,
    title={Improving Efficient Neural Ranking Models with Cross-Architecture Knowledge Distillation},
    author={Sebastian Hofstätter and Sophia Althammer and Michael Schröder and Mete Sertkan and Allan Hanbury},
    year={2021},
    eprint={2010.02666},
    archivePrefix={arXiv},
    primaryClass={cs.IR}
}
"""
