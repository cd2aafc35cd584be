"""EpochWeightAverage: a running mean of the model's weights at the end of each epoch (from ``first_epoch``).

Averaging the weights a run passes through late in training (a "model soup" along one trajectory)
often scores a little better than any single epoch's weights. The callback only keeps the mean;
whether the averaged weights are used is decided on held-out data by whoever trains
(``sentforge train`` keeps them only when its held-out split prefers them).
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import TrainerCallback


class EpochWeightAverage(TrainerCallback):
    """Keeps the mean of the floating-point weights at the ends of epochs ``first_epoch``, ``first_epoch + 1``, ..."""

    def __init__(self, first_epoch: int = 2) -> None:
        self.first_epoch = first_epoch
        self.epochs: list[int] = []
        self._sum: dict[str, torch.Tensor] = {}

    def on_epoch_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        epoch = int(round(state.epoch or 0))
        if model is None or epoch < self.first_epoch or epoch in self.epochs:
            return
        with torch.no_grad():
            for name, tensor in model.state_dict().items():
                if not tensor.is_floating_point():
                    continue
                value = tensor.detach().to("cpu", torch.float32)
                if name in self._sum:
                    self._sum[name].add_(value)
                else:
                    self._sum[name] = value.clone()
        self.epochs.append(epoch)

    def averaged_state(self) -> dict[str, torch.Tensor]:
        """The mean weights (float32, on the CPU); empty before ``first_epoch`` ended."""
        count = len(self.epochs)
        return {name: total / count for name, total in self._sum.items()} if count else {}
