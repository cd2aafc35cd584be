"""Gathering tensors from every process, as ``sentence_transformers.util.distributed``.

Without a process group every function returns the local tensor (a single process has it all).
"""

from __future__ import annotations

import logging

import torch
import torch.distributed as dist

from .environment import is_dist_initialized

logger = logging.getLogger(__name__)

__all__ = ["all_gather", "all_gather_padded", "all_gather_with_grad", "get_rank", "get_world_size"]

_warned = False


def get_rank() -> int:
    """This process's rank, 0 when not distributed."""
    return dist.get_rank() if is_dist_initialized() else 0


def get_world_size() -> int:
    """Number of processes, 1 when not distributed."""
    return dist.get_world_size() if is_dist_initialized() else 1


def all_gather(tensor: torch.Tensor, with_grad: bool = False) -> torch.Tensor:
    """Every rank's ``tensor`` concatenated along dim 0, in rank order.

    With ``with_grad`` gradients flow back to each rank's own rows; without, only this rank's
    part keeps its graph.
    """
    global _warned
    if not is_dist_initialized():
        if not _warned:
            _warned = True
            logger.warning(
                "Trying to gather while torch.distributed is not available or has not been initialized, "
                "returning the original (local) tensor. This is expected if you are only using one GPU; "
                "consider not using gathering to remove this warning."
            )
        return tensor
    if with_grad:
        import torch.distributed.nn

        return torch.cat(torch.distributed.nn.all_gather(tensor), dim=0)
    parts = [torch.zeros_like(tensor) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, tensor)
    parts[dist.get_rank()] = tensor  # keep this rank's graph
    return torch.cat(parts, dim=0)


def all_gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """:func:`all_gather` with gradients flowing back to every rank's rows."""
    return all_gather(tensor, with_grad=True)


def all_gather_padded(
    tensor: torch.Tensor, mask: torch.Tensor, with_grad: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`all_gather` of ``(batch, tokens, dim)`` token embeddings and their masks, whose token
    counts may differ between ranks: each is right-padded to the largest first."""
    if is_dist_initialized():
        width = torch.tensor(tensor.size(1), device=tensor.device)
        dist.all_reduce(width, op=dist.ReduceOp.MAX)
        width = int(width.item())
        if tensor.size(1) < width:
            tensor = torch.nn.functional.pad(tensor, (0, 0, 0, width - tensor.size(1)))
            mask = torch.nn.functional.pad(mask, (0, width - mask.size(1)))
    return all_gather(tensor, with_grad=with_grad), all_gather(mask)
