"""Gives the training batch sampler its epoch at the start of every epoch, in every transformers version."""

from __future__ import annotations

from typing import Any

from transformers import TrainerCallback


class SamplerEpochCallback(TrainerCallback):
    """``set_epoch`` on the training batch sampler when an epoch begins.

    transformers 5.0 calls ``set_epoch`` only on accelerate's wrapper, which does not pass it on to a
    batch sampler, so a resumed run replayed the first epoch's order (later releases reach the sampler
    themselves; setting the same epoch twice changes nothing). The epoch comes from the trainer state:
    whole at an epoch's start, and ``1.25`` -> ``1`` when resuming part way through the second epoch.
    """

    def __init__(self) -> None:
        self.sampler: Any = None

    def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.sampler is not None and hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(int(state.epoch or 0))
