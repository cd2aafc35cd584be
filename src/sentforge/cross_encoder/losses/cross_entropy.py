"""CrossEntropyLoss: class logits per pair against a class id."""

from __future__ import annotations

from torch import Tensor, nn

from .base import check_model


class CrossEntropyLoss(nn.Module):
    """``nn.CrossEntropyLoss(activation_fn(logits), label)`` on (text, text, class id) rows."""

    def __init__(self, model, activation_fn: nn.Module = nn.Identity(), **kwargs) -> None:
        super().__init__()
        self.model = model
        self.activation_fn = activation_fn
        self.ce_loss = nn.CrossEntropyLoss(**kwargs)
        check_model(self, model, one_label=False)

    def forward(self, inputs: list[list[str]], labels: Tensor, prompt: str | None = None,
                task: str | None = None) -> Tensor:
        if len(inputs) != 2:
            raise ValueError(
                f"CrossEntropyLoss expects a dataset with two non-label columns, but got a dataset with "
                f"{len(inputs)} columns."
            )
        logits = self.activation_fn(self.model.pair_logits(list(zip(inputs[0], inputs[1])), prompt=prompt))
        labels = labels.to(logits.device)
        if not labels.is_floating_point() and labels.shape == (logits.shape[0], 1):
            labels = labels.view(-1)
        return self.ce_loss(logits, labels)
