"""AdamW whose word-embedding state covers only the rows training has used.

AdamW keeps two moment tensors the size of each weight. For a word embedding (30,522 x 384 for
MiniLM) that is 94 MB, mostly for rows no batch has touched: a fine-tuning set uses a third of
the vocabulary or less. A row that never had a gradient has zero moments, so AdamW leaves it
unchanged (its update is 0 / (0 + eps)), apart from weight decay. Here the moments exist only for
rows seen so far (in one block, grown as new rows come), and each step updates those rows with
torch's own AdamW (the same fused or single-tensor kernel, so the same values) and applies weight
decay to the rest. Every other parameter goes through ``torch.optim.AdamW`` unchanged.

It applies to a weight whose gradient is a kept row gradient (``speed/embedding_rows.py``: CPU
training of the packed forward); any other gradient takes the dense path. The state dict is
torch's AdamW's own (dense ``exp_avg``/``exp_avg_sq``), so a checkpoint resumes with
``torch.optim.AdamW`` as well; loaded dense moments go back to rows at the next row gradient
(a row whose moments are zero is updated exactly as a row never seen).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.optim.adamw import adamw

from .embedding_rows import written_rows
from .switches import enabled

_ROW_KEYS = ("rows", "row_exp_avg", "row_exp_avg_sq")
_GROWTH = 1.25  # capacity of the moment block grows by a quarter (and at least 1,024 rows)


class RowAwareAdamW(torch.optim.AdamW):
    """``torch.optim.AdamW`` with row-sparse moments for kept word-embedding gradients."""

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        row_params = []
        for group in self.param_groups:
            for param in group["params"]:
                rows = self._row_update_applies(group, param)
                if rows is not None:
                    row_params.append((group, param, param.grad, rows))
                    param.grad = None  # torch's step skips it; restored below
        try:
            super().step()
        finally:
            for _, param, grad, _ in row_params:
                param.grad = grad
        for group, param, grad, rows in row_params:
            self._row_step(group, param, grad, rows)
        return loss

    def _row_update_applies(self, group: dict, param: Tensor) -> Tensor | None:
        """The rows this step's gradient wrote, when ``param`` can take the row-sparse update."""
        if param.grad is None or group.get("amsgrad") or group.get("maximize") or group.get("capturable"):
            return None
        if group.get("differentiable") or param.is_complex() or param.dim() != 2:
            return None
        state = self.state.get(param, {})
        rows = written_rows(param.grad, param)
        if rows is None and "rows" in state:
            self._make_dense(param)
        elif rows is not None and state and "rows" not in state:
            self._make_rows(param)  # dense moments (a loaded checkpoint) back to the used rows
        return rows

    def state_dict(self) -> dict:
        """torch AdamW's state dict: row moments written out as dense ``exp_avg``/``exp_avg_sq``."""
        packed = super().state_dict()
        params = [param for group in self.param_groups for param in group["params"]]
        for index, state in packed["state"].items():
            if "rows" in state:
                packed["state"][index] = _dense_state(state, params[index])
        return packed

    def _row_step(self, group: dict, param: Tensor, grad: Tensor, new_rows: Tensor) -> None:
        state = self.state[param]
        if not state:
            state["step"] = torch.tensor(0.0, dtype=torch.float32)
            state["rows"] = new_rows.new_empty(0)
            state["row_exp_avg"] = param.new_zeros(0, param.shape[1])
            state["row_exp_avg_sq"] = param.new_zeros(0, param.shape[1])
        rows = self._add_rows(state, param, new_rows)
        count = rows.numel()
        weights = param.index_select(0, rows)
        if group["weight_decay"] != 0:  # decay for the rows without moments; the seen rows get theirs below
            param.mul_(1 - group["lr"] * group["weight_decay"])
        adamw(
            [weights], [_gradient_rows(grad, rows, new_rows)],
            [state["row_exp_avg"][:count]], [state["row_exp_avg_sq"][:count]], [], [state["step"]],
            foreach=False, fused=bool(group.get("fused")),
            amsgrad=False, beta1=group["betas"][0], beta2=group["betas"][1], lr=group["lr"],
            weight_decay=group["weight_decay"], eps=group["eps"], maximize=False,
        )  # fmt: skip
        param.index_copy_(0, rows, weights)

    @staticmethod
    def _add_rows(state: dict, param: Tensor, new_rows: Tensor) -> Tensor:
        """Give rows seen for the first time zero moments; return all seen rows (in block order)."""
        rows = state["rows"].long()  # a loaded state dict may hold them as floats
        seen = torch.zeros(param.shape[0], dtype=torch.bool)
        seen[rows] = True
        fresh = new_rows[~seen[new_rows]]
        if fresh.numel():
            count = rows.numel() + fresh.numel()
            for key in ("row_exp_avg", "row_exp_avg_sq"):
                block = state[key]
                if block.shape[0] < count:
                    capacity = min(param.shape[0], max(count, int(block.shape[0] * _GROWTH), block.shape[0] + 1024))
                    grown = param.new_zeros(capacity, param.shape[1])
                    grown[: rows.numel()] = block[: rows.numel()]
                    state[key] = grown
            rows = torch.cat([rows, fresh])
        state["rows"] = rows
        return rows

    def _make_dense(self, param: Tensor) -> None:
        """Turn row-sparse moments into torch's dense ones (the gradient is no longer a kept one)."""
        self.state[param] = _dense_state(self.state[param], param)

    def _make_rows(self, param: Tensor) -> None:
        """Turn dense moments into row-sparse ones: the rows with any non-zero moment."""
        state = self.state[param]
        exp_avg, exp_avg_sq = state.pop("exp_avg"), state.pop("exp_avg_sq")
        rows = ((exp_avg != 0) | (exp_avg_sq != 0)).any(dim=1).nonzero().flatten()
        state["rows"] = rows
        state["row_exp_avg"] = exp_avg.index_select(0, rows)
        state["row_exp_avg_sq"] = exp_avg_sq.index_select(0, rows)


def _dense_state(state: dict, param: Tensor) -> dict:
    """A row-sparse state as torch AdamW's: ``step``, ``exp_avg``, ``exp_avg_sq`` the size of ``param``."""
    rows = state["rows"].long()
    dense = {key: value for key, value in state.items() if key not in _ROW_KEYS}
    for key, dense_key in (("row_exp_avg", "exp_avg"), ("row_exp_avg_sq", "exp_avg_sq")):
        dense[dense_key] = torch.zeros_like(param).index_copy_(0, rows, state[key][: rows.numel()])
    return dense


def _gradient_rows(grad: Tensor, rows: Tensor, written: Tensor) -> Tensor:
    """``grad.index_select(0, rows)``, reading only the ``written`` rows (a subset of ``rows``).

    The other rows are zero; in a zero-page gradient buffer each read of one costs a page fault.
    """
    block_index = torch.empty(grad.shape[0], dtype=torch.long, device=grad.device)
    block_index[rows] = torch.arange(rows.numel(), device=grad.device)
    selected = grad.new_zeros(rows.numel(), grad.shape[1])
    return selected.index_copy_(0, block_index[written], grad.index_select(0, written))


def in_place_of_torch_adamw(optimizer_cls: type, device: object = None) -> type:
    """``RowAwareAdamW`` where transformers picked ``torch.optim.AdamW`` (and the switch allows it on
    ``device``); any other class as it is."""
    if optimizer_cls is torch.optim.AdamW and enabled("row_adamw", device):
        return RowAwareAdamW
    return optimizer_cls
