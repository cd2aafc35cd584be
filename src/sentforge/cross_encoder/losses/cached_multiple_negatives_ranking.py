"""CachedMultipleNegativesRankingLoss: MultipleNegativesRankingLoss in mini-batches (GradCache).

1. Score every pair in mini-batches without a graph, saving each mini-batch's RNG state.
2. Compute the loss on the detached scores and backpropagate to them: the cached gradients.
3. ``loss.backward()`` runs a hook that re-scores each mini-batch with a graph (replaying its RNG
   state, so dropout draws the same masks) and backpropagates ``scores . cached_gradient``.
Only one mini-batch of activations is alive at a time; the gradients equal the plain loss's.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import Tensor, nn

from ...losses.gradcache import RandContext, autocast_like_now
from .multiple_negatives_ranking import MultipleNegativesRankingLoss


class CachedMultipleNegativesRankingLoss(MultipleNegativesRankingLoss):
    """As MultipleNegativesRankingLoss, with memory for ``mini_batch_size`` pairs at a time."""

    def __init__(self, model, num_negatives: int | None = 4, scale: float = 10.0,
                 activation_fn: nn.Module | None = nn.Sigmoid(), mini_batch_size: int = 32,
                 show_progress_bar: bool = False) -> None:
        super().__init__(model, num_negatives=num_negatives, scale=scale, activation_fn=activation_fn)
        self.mini_batch_size = mini_batch_size
        self.show_progress_bar = show_progress_bar

    def forward(self, inputs: list[list[str]], labels: Tensor | None = None, prompt: str | None = None,
                task: str | None = None) -> Tensor:
        anchors = list(inputs[0])
        columns = self.candidate_columns(inputs)
        pairs = [(anchor, doc) for column in columns for anchor, doc in zip(anchors, column)]
        chunks = [pairs[i : i + self.mini_batch_size] for i in range(0, len(pairs), self.mini_batch_size)]
        grad_enabled = torch.is_grad_enabled()
        scores, states = [], []
        for chunk in chunks:
            state = RandContext(next(self.model.parameters())) if grad_enabled else None
            with torch.no_grad():
                scores.append(self.model.pair_logits(chunk, prompt=prompt).view(-1).detach())
            states.append(state)
        if not grad_enabled:
            return self.calculate_loss(scores, len(anchors))
        scores = [s.requires_grad_() for s in scores]
        with torch.enable_grad():
            loss = self.calculate_loss(scores, len(anchors))
            loss.backward()
        cache = [s.grad for s in scores]
        loss = loss.detach().requires_grad_()
        loss.register_hook(partial(self._replay, chunks=chunks, cache=cache, states=states, prompt=prompt,
                                   autocast=autocast_like_now(self.model.device.type)))
        return loss

    def _replay(self, grad_output: Tensor, *, chunks, cache, states, prompt, autocast) -> None:
        """Re-score each mini-batch with a graph and backpropagate its cached gradient."""
        with torch.enable_grad():
            for chunk, gradient, state in zip(chunks, cache, states):
                with state, autocast():
                    scores = self.model.pair_logits(chunk, prompt=prompt).view(-1)
                (scores * (gradient * grad_output)).sum().backward()

    def get_config_dict(self) -> dict:
        return {**super().get_config_dict(), "mini_batch_size": self.mini_batch_size}
