"""The speed layer's two hooks into transformers' Trainer, shared by both of sentforge's trainers."""

from __future__ import annotations

from typing import Any

from transformers import Trainer

from . import row_adamw
from .grad_clip import clip_grad_norm
from .switches import enabled


class SpeedTrainerHooks:
    """Mixin for a ``transformers.Trainer`` subclass: row-aware AdamW and fewer-call gradient clipping."""

    @staticmethod
    def get_optimizer_cls_and_kwargs(args: Any, model: Any = None) -> tuple[type, dict[str, Any]]:
        """transformers' choice, with torch's AdamW (the default) as RowAwareAdamW on CPU: same updates."""
        optimizer_cls, optimizer_kwargs = Trainer.get_optimizer_cls_and_kwargs(args, model)
        return row_adamw.in_place_of_torch_adamw(optimizer_cls, args.device), optimizer_kwargs

    def _clip_grad_norm(self, model: Any) -> Any:
        """Clip to max_grad_norm with fewer calls where every process holds whole gradients (CPU)."""
        from accelerate.utils import DistributedType

        plain = (DistributedType.NO, DistributedType.MULTI_CPU, DistributedType.MULTI_GPU)
        if self.accelerator.distributed_type not in plain or not enabled("grad_clip", self.args.device):
            return super()._clip_grad_norm(model)
        self.accelerator.unscale_gradients()
        return clip_grad_norm(model.parameters(), self.args.max_grad_norm)
