"""Sentences of similar length attended together in training, instead of all padded to the longest.

Attention mixes the tokens of one sentence only, so which sentences share a padded buffer does
not change any sentence's result. A training batch is in random order: padded to its longest
sentence, a batch of STS-B pairs computes about 4.4x the attention scores its sentences need.
Split by length into up to three groups (each padded to its own longest), it computes about 1.4x.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

MAX_GROUPS = 3
MIN_SAVING = 0.2  # split only when it saves at least this share of the attention work


@dataclass(frozen=True)
class AttentionGroup:
    """Sentences attended in one padded buffer of shape (num_seqs, heads, max_len, head_dim)."""

    rows: Tensor  # [T_g] the group's packed token rows
    scatter: Tensor  # rows of the group's head-major Q/K/V buffer, as PackedLayout.head_rows
    gather: Tensor
    num_seqs: int
    max_len: int
    key_mask: Tensor | None  # [num_seqs, 1, 1, max_len] True at real tokens; None without padding


def head_rows(seq_index: Tensor, rank: Tensor, num_seqs: int, max_len: int, num_heads: int) -> tuple[Tensor, Tensor]:
    """Where each token's (q/k/v, head) rows go in a head-major [3 * n * heads * L, head_dim] buffer,
    and the (token, head) rows of an [n * heads * L, head_dim] attention output, in packed order."""
    per_seq, per_part = num_heads * max_len, num_seqs * num_heads * max_len
    heads = torch.arange(num_heads, device=rank.device) * max_len
    token_rows = (seq_index * per_seq + rank)[:, None] + heads[None, :]  # [T, heads]
    parts = torch.arange(3, device=rank.device) * per_part
    scatter = (parts[None, :, None] + token_rows[:, None, :]).reshape(-1)  # [T * 3 * heads]
    return scatter, token_rows.reshape(-1)


def length_groups(lengths: list[int], head_dim: int) -> list[list[int]] | None:
    """Sentence indices per group (sorted by length), or None when one padded buffer is as good."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    sorted_lengths = [lengths[i] for i in order]

    def cost(start: int, end: int) -> int:  # scores plus Q/K/V positions of one padded buffer
        longest = sorted_lengths[end - 1]
        return (end - start) * longest * (longest + head_dim)

    count = len(order)
    # best[g][end]: least cost of the first `end` sentences in g groups, with the cut that achieves it
    best = [{end: (cost(0, end), 0) for end in range(1, count + 1)}]
    for groups in range(2, MAX_GROUPS + 1):  # best[groups - 1] holds ends >= groups
        previous = best[-1]
        best.append({
            end: min((previous[cut][0] + cost(cut, end), cut) for cut in range(groups - 1, end))
            for end in range(groups, count + 1)
        })
    single = best[0][count][0]
    groups_used = min(range(len(best)), key=lambda g: best[g].get(count, (single + 1, 0))[0])
    if best[groups_used][count][0] > (1 - MIN_SAVING) * single:
        return None
    cuts, end = [], count
    for g in range(groups_used, 0, -1):
        end = best[g][end][1]
        cuts.append(end)
    bounds = [0, *reversed(cuts), count]
    return [order[bounds[i]:bounds[i + 1]] for i in range(len(bounds) - 1)]


def attention_groups(
    seq_index: Tensor, rank: Tensor, key_mask: Tensor, num_heads: int, head_dim: int
) -> list[AttentionGroup] | None:
    """The length groups of one forward's sentences (None: attend all in one buffer)."""
    lengths = key_mask.sum(dim=1).tolist()
    groups = length_groups(lengths, head_dim)
    if groups is None:
        return None
    result = []
    for members in groups:
        member_index = torch.tensor(members, device=seq_index.device)
        local = torch.full((len(lengths),), -1, dtype=torch.long, device=seq_index.device)
        local[member_index] = torch.arange(len(members), device=seq_index.device)
        token_seq = local[seq_index]
        rows = (token_seq >= 0).nonzero().squeeze(1)
        rows = rows[torch.argsort(token_seq[rows] * key_mask.shape[1] + rank[rows])]
        max_len = max(lengths[i] for i in members)
        scatter, gather = head_rows(token_seq[rows], rank[rows], len(members), max_len, num_heads)
        mask = key_mask[member_index, :max_len]
        result.append(AttentionGroup(
            rows=rows, scatter=scatter, gather=gather, num_seqs=len(members), max_len=max_len,
            key_mask=None if bool(mask.all()) else mask[:, None, None, :],
        ))
    return result
