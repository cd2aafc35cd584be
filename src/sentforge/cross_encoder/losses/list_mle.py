"""ListMLELoss (Xia et al. 2008): Plackett-Luce likelihood of the labelled order, unweighted."""

from __future__ import annotations

from torch import nn

from .plist_mle import PListMLELoss


class ListMLELoss(PListMLELoss):
    """PListMLELoss without rank weights."""

    def __init__(self, model, activation_fn: nn.Module | None = nn.Identity(), mini_batch_size: int | None = None,
                 respect_input_order: bool = True) -> None:
        super().__init__(model=model, lambda_weight=None, activation_fn=activation_fn,
                         mini_batch_size=mini_batch_size, respect_input_order=respect_input_order)

    def get_config_dict(self) -> dict:
        config = super().get_config_dict()
        del config["lambda_weight"]
        return config

    @property
    def citation(self) -> str:
        return """
@inproceedings{10.1145/1390156.1390306,
    title = {Listwise Approach to Learning to Rank - Theory and Algorithm},
    author = {Xia, Fen and Liu, Tie-Yan and Wang, Jue and Zhang, Wensheng and Li, Hang},
    booktitle = {Proceedings of the 25th International Conference on Machine Learning},
    pages = {1192-1199},
    year = {2008},
    url = {https://doi.org/10.1145/1390156.1390306},
}
"""
