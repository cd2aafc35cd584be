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

    num_seqs: int
    max_len: int
    qkv_offset: int  # first row of the group's [3, num_seqs, heads, max_len, head_dim] block in the Q/K/V buffer
    out_offset: int  # first row of its [num_seqs, heads, max_len, head_dim] block in the output buffer
    key_mask: Tensor | None  # [num_seqs, 1, 1, max_len] True at real tokens; None without padding


@dataclass(frozen=True)
class GroupedAttention:
    """All groups of one forward, laid out one after another in two head-major buffers.

    ``qkv_rows[t * 3 * heads + part * heads + h]`` is the row of token t's q/k/v (part) for head h in
    the Q/K/V buffer; ``out_rows[t * heads + h]`` the row of its attention output in the output buffer.
    """

    groups: list[AttentionGroup]
    qkv_rows: Tensor  # [T * 3 * heads]
    out_rows: Tensor  # [T * heads]
    qkv_buffer_rows: int
    out_buffer_rows: int


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
) -> GroupedAttention | None:
    """The length groups of one forward's sentences (None: attend all in one buffer)."""
    lengths = key_mask.sum(dim=1).tolist()
    members = length_groups(lengths, head_dim)
    if members is None:
        return None
    device = seq_index.device
    group_of_seq = torch.empty(len(lengths), dtype=torch.long, device=device)
    local_seq = torch.empty(len(lengths), dtype=torch.long, device=device)
    groups, qkv_offset, out_offset = [], 0, 0
    for index, group_members in enumerate(members):
        member_index = torch.tensor(group_members, device=device)
        group_of_seq[member_index] = index
        local_seq[member_index] = torch.arange(len(group_members), device=device)
        max_len = max(lengths[i] for i in group_members)
        mask = key_mask[member_index, :max_len]
        groups.append(AttentionGroup(
            num_seqs=len(group_members), max_len=max_len, qkv_offset=qkv_offset, out_offset=out_offset,
            key_mask=None if bool(mask.all()) else mask[:, None, None, :],
        ))
        qkv_offset += 3 * len(group_members) * num_heads * max_len
        out_offset += len(group_members) * num_heads * max_len
    # per token: its group's offsets and longest length, its sentence within the group
    group = group_of_seq[seq_index]
    max_lens = torch.tensor([g.max_len for g in groups], device=device)[group]
    part_rows = torch.tensor([g.num_seqs * num_heads * g.max_len for g in groups], device=device)[group]
    first_qkv = torch.tensor([g.qkv_offset for g in groups], device=device)[group]
    first_out = torch.tensor([g.out_offset for g in groups], device=device)[group]
    heads = torch.arange(num_heads, device=device)[None, :] * max_lens[:, None]  # [T, heads]
    in_group = (local_seq[seq_index] * num_heads * max_lens + rank)[:, None] + heads  # [T, heads]
    parts = torch.arange(3, device=device)[None, :, None] * part_rows[:, None, None]  # [T, 3, 1]
    qkv_rows = (first_qkv[:, None, None] + parts + in_group[:, None, :]).reshape(-1)
    out_rows = (first_out[:, None] + in_group).reshape(-1)
    return GroupedAttention(groups, qkv_rows, out_rows, qkv_offset, out_offset)
