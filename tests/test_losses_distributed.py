"""gather_across_devices on two CPU processes (gloo): each rank scores its own rows against the
candidates of both ranks, so the mean of the rank losses and the averaged parameter gradients
(what DDP applies) equal the single-process loss on the whole batch. Tolerance 1e-6, float64."""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

WORLD_SIZE = 2
ROWS_PER_RANK = 3
KINDS = ("mnrl", "mnrl_all_directions", "cached_mnrl")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _make(kind: str, model, gather: bool):
    from sentforge import losses

    if kind == "mnrl":
        return losses.MultipleNegativesRankingLoss(model, gather_across_devices=gather)
    if kind == "mnrl_all_directions":
        return losses.MultipleNegativesRankingLoss(
            model, gather_across_devices=gather, directions=losses.ranking.DIRECTIONS
        )
    return losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=2, gather_across_devices=gather)


def _check_kind(kind: str, rank: int) -> None:
    from test_losses_fakes import copy_features, mean_model, param_grads, random_features

    model = mean_model().double()
    features = random_features(3, WORLD_SIZE * ROWS_PER_RANK)
    rows = slice(rank * ROWS_PER_RANK, (rank + 1) * ROWS_PER_RANK)
    local = [{k: v[rows] for k, v in f.items()} for f in features]

    loss = _make(kind, model, gather=True)(copy_features(local), None)
    loss.backward()
    grads = param_grads(model)
    mean_loss = loss.detach().clone()
    dist.all_reduce(mean_loss)
    for tensor in (mean_loss, *grads.values()):
        if tensor is not mean_loss:
            dist.all_reduce(tensor)
        tensor /= WORLD_SIZE

    # Reference: one process, the whole batch, no gathering.
    model.zero_grad()
    reference = _make(kind, model, gather=False)(copy_features(features), None)
    reference.backward()
    assert abs(mean_loss.item() - reference.item()) < 1e-6, (kind, mean_loss.item(), reference.item())
    expected = param_grads(model)
    for name, grad in grads.items():
        torch.testing.assert_close(grad, expected[name], atol=1e-6, rtol=0, msg=f"{kind}: {name}")


def _worker(rank: int, port: int) -> None:
    from sentforge.losses.distributed import get_rank

    # A forked child must not enter the OpenMP pool it inherited (a copy of the parent's threads'
    # state, which can deadlock the first parallel matrix product); one thread runs inline.
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=WORLD_SIZE)
    try:
        assert get_rank() == rank
        for kind in KINDS:
            _check_kind(kind, rank)
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed not available")
def test_gathered_loss_equals_whole_batch_loss():
    # fork: the workers reuse this process's imports instead of importing torch again.
    mp.start_processes(_worker, args=(_free_port(),), nprocs=WORLD_SIZE, join=True, start_method="fork")
