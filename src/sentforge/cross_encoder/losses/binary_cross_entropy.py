"""BinaryCrossEntropyLoss: one logit per pair against a 0/1 (or 0-1) label."""

from __future__ import annotations

from torch import Tensor, nn

from .base import activation_name, check_label_count, check_model, pair_scores


class BinaryCrossEntropyLoss(nn.Module):
    """``BCEWithLogitsLoss(activation_fn(logit), label)`` on (text, text, label) rows; num_labels must be 1.

    ``pos_weight`` (a tensor, e.g. ``torch.tensor(5)``) weighs positives, e.g. by the number of
    mined negatives per positive.
    """

    def __init__(self, model, activation_fn: nn.Module = nn.Identity(), pos_weight: Tensor | None = None,
                 **kwargs) -> None:
        super().__init__()
        self.model = model
        self.activation_fn = activation_fn
        self.pos_weight = pos_weight
        self.bce_with_logits_loss = nn.BCEWithLogitsLoss(pos_weight=pos_weight, **kwargs)
        check_model(self, model)

    def forward(self, inputs: list[list[str]], labels: Tensor, prompt: str | None = None,
                task: str | None = None) -> Tensor:
        if len(inputs) != 2:
            raise ValueError(
                f"BinaryCrossEntropyLoss expects a dataset with two non-label columns, but got a dataset with "
                f"{len(inputs)} columns."
            )
        logits = self.activation_fn(pair_scores(self.model, inputs[0], inputs[1], prompt))
        labels = check_label_count(self, labels, logits.shape[0])
        return self.bce_with_logits_loss(logits, labels.float().to(logits.device))

    def get_config_dict(self) -> dict:
        return {
            "activation_fn": activation_name(self.activation_fn),
            "pos_weight": self.pos_weight if self.pos_weight is None else self.pos_weight.item(),
        }
