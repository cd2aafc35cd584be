"""The speed layer's two hooks into transformers' Trainer, shared by both of sentforge's trainers."""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

from torch import nn

from transformers import Trainer

from . import row_adamw
from .grad_clip import clip_grad_norm
from .switches import enabled


class SpeedTrainerHooks:
    """Mixin for a ``transformers.Trainer`` subclass: row-aware AdamW and fewer-call gradient clipping."""

    def get_optimizer_cls_and_kwargs(self, args: Any, model: Any = None) -> tuple[type, dict[str, Any]]:
        """transformers' choice, with torch's AdamW (the default) as RowAwareAdamW on CPU: same updates.

        The parameters come from the loss(es), which hold the model: weights a loss has of its own
        (SoftmaxLoss's classifier, DenoisingAutoEncoderLoss's decoder) are trained too, as in
        sentence-transformers; weight decay as transformers sets it (none on biases and LayerNorm).
        ``args.learning_rate_mapping`` ({name regex: lr}) moves the matching weights into groups of
        their own with that learning rate, as sentence-transformers does.
        """
        loss = getattr(self, "loss", None)
        owner = nn.Sequential(OrderedDict(loss)) if isinstance(loss, dict) else loss
        if not isinstance(owner, nn.Module):
            owner = model
        optimizer_cls, optimizer_kwargs = Trainer.get_optimizer_cls_and_kwargs(args, owner)
        decay = set(self.get_decay_parameter_names(owner)) if owner is not None else set()
        if owner is not None and not {"params", "model", "optimizer_dict"} & set(optimizer_kwargs):
            named = [(n, p) for n, p in owner.named_parameters() if p.requires_grad]
            optimizer_kwargs["optimizer_dict"] = [
                {"params": [p for n, p in named if n in decay], "weight_decay": args.weight_decay},
                {"params": [p for n, p in named if n not in decay], "weight_decay": 0.0},
            ]
        if owner is not None and getattr(args, "learning_rate_mapping", None):
            _apply_learning_rate_mapping(owner, decay, args, optimizer_kwargs)
        return row_adamw.in_place_of_torch_adamw(optimizer_cls, args.device), optimizer_kwargs

    def _clip_grad_norm(self, model: Any) -> Any:
        """Clip to max_grad_norm with fewer calls where every process holds whole gradients (CPU)."""
        from accelerate.utils import DistributedType

        plain = (DistributedType.NO, DistributedType.MULTI_CPU, DistributedType.MULTI_GPU)
        if self.accelerator.distributed_type not in plain or not enabled("grad_clip", self.args.device):
            return super()._clip_grad_norm(model)
        self.accelerator.unscale_gradients()
        return clip_grad_norm(model.parameters(), self.args.max_grad_norm)


def _apply_learning_rate_mapping(owner: nn.Module, decay: set[str], args: Any, optimizer_kwargs: dict[str, Any]) -> None:
    """Give the weights whose names match each pattern their own learning rate (``decay``: the names
    that take weight decay)."""
    key = next(iter({"params", "model", "optimizer_dict"} & set(optimizer_kwargs)), "optimizer_dict")
    groups = optimizer_kwargs.setdefault(key, [])
    for pattern, learning_rate in args.learning_rate_mapping.items():
        matching = {n: p for n, p in owner.named_parameters() if p.requires_grad and re.search(pattern, n)}
        if not matching:
            raise ValueError(
                f"learning_rate_mapping: no parameter name matches {pattern!r}; names look like "
                f"{next(iter(n for n, _ in owner.named_parameters()), '?')!r}."
            )
        taken = {id(p) for p in matching.values()}
        for group in groups:
            if "params" in group:
                group["params"] = [p for p in group["params"] if id(p) not in taken]
        for with_decay in (True, False):
            params = [p for n, p in matching.items() if (n in decay) == with_decay]
            if params:
                groups.append({"params": params, "lr": float(learning_rate),
                               "weight_decay": args.weight_decay if with_decay else 0.0})
    optimizer_kwargs[key] = [group for group in groups if group.get("params")]
