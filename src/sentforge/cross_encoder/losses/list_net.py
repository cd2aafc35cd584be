"""ListNetLoss (Cao et al. 2007): cross-entropy between the softmax of labels and of scores."""

from __future__ import annotations

from torch import Tensor, nn

from ...losses.base import fullname
from .listwise import score_lists


class ListNetLoss(nn.Module):
    """Listwise loss on (query, [documents], [labels]) rows; num_labels must be 1."""

    def __init__(self, model, activation_fn: nn.Module | None = nn.Identity(),
                 mini_batch_size: int | None = None) -> None:
        super().__init__()
        self.model = model
        self.activation_fn = activation_fn or nn.Identity()
        self.mini_batch_size = mini_batch_size
        self.cross_entropy_loss = nn.CrossEntropyLoss()
        if model.num_labels != 1:
            raise ValueError(
                f"{type(self).__name__} supports a model with 1 output label, "
                f"but got a model with {model.num_labels} output labels."
            )

    def forward(self, inputs: list, labels: list[Tensor], prompt: str | None = None,
                task: str | None = None) -> Tensor:
        scored = score_lists(self, inputs, labels, prompt)
        logits = scored.matrix(scored.logits, -1e16)
        targets = scored.matrix(scored.labels, float("-inf"))
        return self.cross_entropy_loss(logits, targets.softmax(dim=1))

    def get_config_dict(self) -> dict:
        return {"activation_fn": fullname(self.activation_fn), "mini_batch_size": self.mini_batch_size}

    @property
    def citation(self) -> str:
        return """
@inproceedings{cao2007learning,
    title={Learning to Rank: From Pairwise Approach to Listwise Approach},
    author={Cao, Zhe and Qin, Tao and Liu, Tie-Yan and Tsai, Ming-Feng and Li, Hang},
    booktitle={Proceedings of the 24th international conference on Machine learning},
    pages={129--136},
    year={2007}
}
"""
