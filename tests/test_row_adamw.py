"""RowAwareAdamW gives torch AdamW's updates while holding moments only for rows training used.

Reference: ``torch.optim.AdamW`` on the same model with a plain ``nn.Embedding`` forward (dense
gradient), same batches. With weight decay 0 the weights are bitwise equal (the same AdamW kernel
runs on the used rows; unused rows stay as they are in both); with weight decay the unused rows
are decayed by a separate multiply, so they agree to 1e-7.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from sentforge.speed.embedding_rows import lookup
from sentforge.speed.row_adamw import RowAwareAdamW

VOCAB, DIM = 50, 8
BATCHES = [[1, 2, 3, 2], [4, 5, 1], [6, 7, 8, 9], [1, 10], [11, 12, 13, 14, 15], [2, 16]]


class TinyEncoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embedding = nn.Embedding(VOCAB, DIM, padding_idx=0)
        self.linear = nn.Linear(DIM, 3)

    def forward(self, ids: torch.Tensor, kept_rows: bool) -> torch.Tensor:
        hidden = lookup(self.embedding, ids) if kept_rows else self.embedding(ids)
        return self.linear(torch.tanh(hidden)).pow(2).sum()


def train(model, optimizer, batches, kept_rows: bool) -> None:
    for ids in batches:
        model(torch.tensor(ids), kept_rows).backward()
        optimizer.step()
        model.zero_grad(set_to_none=True)


def optimizer_for(cls, model, fused: bool, weight_decay: float):
    return cls(model.parameters(), lr=0.05, weight_decay=weight_decay, fused=fused)


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_updates_equal_torch_adamw(fused, weight_decay):
    model, reference = TinyEncoder(), TinyEncoder()
    train(model, optimizer_for(RowAwareAdamW, model, fused, weight_decay), BATCHES, kept_rows=True)
    train(reference, optimizer_for(torch.optim.AdamW, reference, fused, weight_decay), BATCHES, kept_rows=False)
    for (name, got), expected in zip(model.named_parameters(), reference.parameters()):
        if weight_decay == 0.0:
            assert torch.equal(got, expected), name
        else:
            assert (got - expected).abs().max().item() < 1e-7, name
    assert not torch.equal(model.embedding.weight, TinyEncoder().embedding.weight)  # training happened


def test_moments_only_for_used_rows():
    model = TinyEncoder()
    optimizer = optimizer_for(RowAwareAdamW, model, fused=False, weight_decay=0.0)
    train(model, optimizer, BATCHES, kept_rows=True)
    state = optimizer.state[model.embedding.weight]
    used = sorted({i for ids in BATCHES for i in ids})
    assert sorted(state["rows"].tolist()) == used
    assert "exp_avg" not in state
    assert state["row_exp_avg"][: len(used)].abs().sum() > 0
    assert "exp_avg" in optimizer.state[model.linear.weight]  # other weights: torch's own state


def test_state_dict_round_trip_resumes_exactly():
    model = TinyEncoder()
    optimizer = optimizer_for(RowAwareAdamW, model, fused=False, weight_decay=0.0)
    train(model, optimizer, BATCHES[:3], kept_rows=True)
    resumed_model = copy.deepcopy(model)
    resumed = optimizer_for(RowAwareAdamW, resumed_model, fused=False, weight_decay=0.0)
    resumed.load_state_dict(copy.deepcopy(optimizer.state_dict()))

    train(model, optimizer, BATCHES[3:], kept_rows=True)
    train(resumed_model, resumed, BATCHES[3:], kept_rows=True)
    for got, expected in zip(resumed_model.parameters(), model.parameters()):
        assert torch.equal(got, expected)


def test_state_dict_is_torch_adamws_and_resumes_there_exactly():
    """A checkpoint of RowAwareAdamW resumes with torch.optim.AdamW (and back) to the same weights."""
    model = TinyEncoder()
    optimizer = optimizer_for(RowAwareAdamW, model, fused=False, weight_decay=0.0)
    train(model, optimizer, BATCHES[:3], kept_rows=True)
    saved = copy.deepcopy(optimizer.state_dict())
    embedding_state = saved["state"][0]
    assert set(embedding_state) == {"step", "exp_avg", "exp_avg_sq"}
    assert embedding_state["exp_avg"].shape == (VOCAB, DIM)
    assert "rows" in optimizer.state[model.embedding.weight]  # the live state stays row-sparse

    stock_model = copy.deepcopy(model)
    stock = optimizer_for(torch.optim.AdamW, stock_model, fused=False, weight_decay=0.0)
    stock.load_state_dict(copy.deepcopy(saved))
    back_model = copy.deepcopy(model)
    back = optimizer_for(RowAwareAdamW, back_model, fused=False, weight_decay=0.0)
    back.load_state_dict(copy.deepcopy(saved))

    train(model, optimizer, BATCHES[3:], kept_rows=True)
    train(stock_model, stock, BATCHES[3:], kept_rows=False)
    train(back_model, back, BATCHES[3:], kept_rows=True)
    assert "rows" in back.state[back_model.embedding.weight]  # dense moments went back to rows
    for got_stock, got_back, expected in zip(stock_model.parameters(), back_model.parameters(), model.parameters()):
        assert torch.equal(got_back, expected)
        assert torch.equal(got_stock, expected)


def test_a_dense_gradient_switches_to_dense_moments():
    model, reference = TinyEncoder(), TinyEncoder()
    optimizer = optimizer_for(RowAwareAdamW, model, fused=False, weight_decay=0.0)
    train(model, optimizer, BATCHES[:3], kept_rows=True)
    train(model, optimizer, BATCHES[3:], kept_rows=False)  # plain embedding: a dense gradient
    assert "exp_avg" in optimizer.state[model.embedding.weight]
    assert "rows" not in optimizer.state[model.embedding.weight]
    train(reference, optimizer_for(torch.optim.AdamW, reference, False, 0.0), BATCHES, kept_rows=False)
    for got, expected in zip(model.parameters(), reference.parameters()):
        assert torch.equal(got, expected)


def test_trainer_uses_it_in_place_of_torch_adamw(tmp_path):
    from sentforge import SentenceTransformerTrainer, SentenceTransformerTrainingArguments

    choose = SentenceTransformerTrainer.get_optimizer_cls_and_kwargs  # no trainer needed to pick the class
    default = SentenceTransformerTrainingArguments(output_dir=str(tmp_path))
    assert choose(None, default)[0] is RowAwareAdamW
    sgd = SentenceTransformerTrainingArguments(output_dir=str(tmp_path), optim="sgd")
    assert choose(None, sgd)[0] is torch.optim.SGD
