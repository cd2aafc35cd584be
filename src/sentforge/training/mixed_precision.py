"""Mixed precision (``bf16=True`` / ``fp16=True``) around the whole loss, whichever path the loss takes."""

from __future__ import annotations

import contextlib


class WholeLossAutocast:
    """Mixin for a ``transformers.Trainer`` subclass: the loss is computed under the run's autocast.

    transformers relies on accelerate wrapping ``model.forward``; sentforge's losses may reach the
    network another way (the cross-encoder's padding-free scoring), which would then run in float32
    without a word. Entering ``accelerator.autocast()`` here covers every path; it is a no-op
    without mixed precision and nests harmlessly with the wrapped forward.
    """

    def autocast_smart_context_manager(self, cache_enabled: bool | None = True) -> contextlib.AbstractContextManager:
        accelerator = getattr(self, "accelerator", None)
        return accelerator.autocast() if accelerator is not None else contextlib.nullcontext()
