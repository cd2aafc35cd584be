"""MSELoss: distil a pair's score (a teacher's, or a gold label) into the model's logit."""

from __future__ import annotations

from torch import Tensor, nn

from .base import activation_name, check_label_count, check_model, pair_scores


class MSELoss(nn.Module):
    """``MSE(activation_fn(logit), label)`` on (text, text, score) rows; num_labels must be 1."""

    def __init__(self, model, activation_fn: nn.Module = nn.Identity(), **kwargs) -> None:
        super().__init__()
        self.model = model
        self.activation_fn = activation_fn
        self.loss_fct = nn.MSELoss(**kwargs)
        check_model(self, model)

    def forward(self, inputs: list[list[str]], labels: Tensor, prompt: str | None = None,
                task: str | None = None) -> Tensor:
        if len(inputs) != 2:
            raise ValueError(
                f"MSELoss expects a dataset with two non-label columns, but got a dataset with {len(inputs)} columns."
            )
        logits = self.activation_fn(pair_scores(self.model, inputs[0], inputs[1], prompt))
        labels = check_label_count(self, labels, logits.shape[0])
        return self.loss_fct(logits, labels.detach().float().to(logits.device))

    def get_config_dict(self) -> dict:
        return {"activation_fn": activation_name(self.activation_fn)}
