"""Run under `torchrun --nproc_per_node 2`: MNRL with gather_across_devices over two processes equals
single-process MNRL on the whole (global) batch. Rank 0 prints the two values."""

from __future__ import annotations

import sys

import torch
import torch.distributed as dist

from sentforge import SentenceTransformer, losses

WORDS = "law mining permit claim land gold coal rock miner owner court rule right license fee year month day".split()


def main() -> None:
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    model = SentenceTransformer(sys.argv[1], device="cpu")
    model.eval()  # no dropout: both computations see the same embeddings
    anchors = [f"the {w} of gold" for w in WORDS[:8]]
    positives = [f"a {w} with coal" for w in WORDS[:8]]
    per_rank = len(anchors) // world
    mine = slice(rank * per_rank, (rank + 1) * per_rank)

    gathered_loss = losses.MultipleNegativesRankingLoss(model, gather_across_devices=True)
    local = gathered_loss([model.tokenize(anchors[mine]), model.tokenize(positives[mine])], None)
    local.backward()
    grad = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
    dist.all_reduce(grad)
    grad /= world
    value = local.detach().clone()
    dist.all_reduce(value)
    value /= world

    model.zero_grad()
    full = losses.MultipleNegativesRankingLoss(model)([model.tokenize(anchors), model.tokenize(positives)], None)
    full.backward()
    full_grad = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
    if rank == 0:
        print(f"GATHERED {value.item():.8f} FULL {full.item():.8f} GRAD_DIFF {(grad - full_grad).abs().max().item():.3e}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
