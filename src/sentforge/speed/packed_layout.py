"""Where each real token of a padded batch sits once the padding is taken out (the packed forward's layout).

The packed forward runs position-wise steps on ``[total_tokens, hidden]``; this module maps between
that packed form, the padded input and the padded attention buffer, and splits large batches into
groups of sentences (``sentence_groups``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from .attention_groups import GroupedAttention, attention_groups, head_rows


# Real tokens per group of sentences in one pass: a [512, 4 * 384] MiniLM activation still
# fits the CPU caches. Measured on MiniLM, batch 128: 256-1024 within a few %, 512 best,
# all-at-once 10-25% slower; batches up to 512 tokens are never split.
TOKENS_PER_CHUNK = 512


@dataclass(frozen=True)
class PackedLayout:
    """Where each real token sits in the padded input and in the attention buffer.

    ``token_index`` points into the flattened ``[batch * seq_len]`` input, ``slot_index`` into
    the flattened ``[num_seqs * max_len]`` attention buffer (empty sentences are left out of it).
    """

    batch_size: int
    seq_len: int
    token_index: Tensor  # [T] row-major positions of real tokens in the input
    columns: Tensor  # [T] column of each real token in the input
    slot_index: Tensor  # [T] position in the padded attention buffer
    seq_index: Tensor  # [T] the token's sentence in the attention buffer (slot_index // max_len)
    rank: Tensor  # [T] the token's position within its sentence (slot_index % max_len)
    key_mask: Tensor  # [num_seqs, max_len] True at real tokens
    num_seqs: int
    max_len: int
    contiguous: bool  # every sentence's real tokens are one run of columns (left or right padding)
    _head_rows: dict = field(default_factory=dict, compare=False, repr=False)

    def head_rows(self, num_heads: int) -> tuple[Tensor, Tensor]:
        """Row indices into a head-major ``[3 * n * heads * L, head_dim]`` Q/K/V buffer.

        First: where each ``(token, q/k/v, head)`` row of a packed ``[T * 3 * heads, head_dim]``
        projection goes; second: the ``(token, head)`` rows of an ``[n * heads * L, head_dim]``
        attention output, in packed order. Computed once per forward and number of heads.
        """
        if num_heads not in self._head_rows:
            self._head_rows[num_heads] = head_rows(self.seq_index, self.rank, self.num_seqs, self.max_len, num_heads)
        return self._head_rows[num_heads]

    def length_groups(self, num_heads: int, head_dim: int) -> GroupedAttention | None:
        """Sentences split by length for training attention (None: one buffer); once per forward."""
        key = ("groups", num_heads, head_dim)
        if key not in self._head_rows:
            self._head_rows[key] = attention_groups(self.seq_index, self.rank, self.key_mask, num_heads, head_dim)
        return self._head_rows[key]

    @property
    def num_tokens(self) -> int:
        return int(self.token_index.numel())

    @property
    def has_padding(self) -> bool:
        return self.num_tokens != self.num_seqs * self.max_len


def build_layout(attention_mask: Tensor) -> PackedLayout:
    """Index bookkeeping shared by all layers of one forward (computed once per batch)."""
    mask = attention_mask != 0
    batch_size, seq_len = mask.shape
    lengths = mask.sum(dim=1)
    token_index = mask.reshape(-1).nonzero().squeeze(1)
    rows = torch.div(token_index, seq_len, rounding_mode="floor")
    columns = token_index - rows * seq_len
    rank = (mask.cumsum(dim=1) - 1).reshape(-1)[token_index]
    non_empty = lengths > 0
    if bool(non_empty.all()):
        seq, seq_lengths = rows, lengths
    else:
        seq, seq_lengths = (non_empty.cumsum(dim=0) - 1)[rows], lengths[non_empty]
    num_seqs = int(seq_lengths.numel())
    max_len = int(seq_lengths.max()) if num_seqs else 0
    runs = mask[:, 0].long() + (mask[:, 1:] & ~mask[:, :-1]).sum(dim=1)  # 0->1 switches per row
    return PackedLayout(
        batch_size=batch_size,
        seq_len=seq_len,
        token_index=token_index,
        columns=columns,
        slot_index=seq * max_len + rank,
        seq_index=seq,
        rank=rank,
        key_mask=torch.arange(max_len, device=mask.device)[None, :] < seq_lengths[:, None],
        num_seqs=num_seqs,
        max_len=max_len,
        contiguous=bool((runs <= 1).all()),
    )


def pack(values: Tensor, layout: PackedLayout) -> Tensor:
    """[batch, seq_len, ...] -> [T, ...]: keep the real tokens only."""
    return values.reshape(layout.batch_size * layout.seq_len, *values.shape[2:])[layout.token_index]


def unpack(tokens: Tensor, layout: PackedLayout) -> Tensor:
    """[T, hidden] -> [batch, seq_len, hidden] with zeros at the padded positions."""
    if not layout.has_padding and layout.num_seqs == layout.batch_size and layout.max_len == layout.seq_len:
        return tokens.reshape(layout.batch_size, layout.seq_len, -1)
    out = tokens.new_zeros(layout.batch_size * layout.seq_len, tokens.shape[-1])
    return out.index_copy_(0, layout.token_index, tokens).view(layout.batch_size, layout.seq_len, -1)


def sdpa_mask(layout: PackedLayout, bias: Tensor | None = None) -> Tensor | None:
    """The SDPA ``attn_mask`` for all layers of one forward: key padding, plus an additive bias.

    ``bias`` (MPNet's relative position bias, broadcastable to [num_seqs, heads, L, L]) gets the
    dtype minimum at padded keys, like the additive mask of the Hugging Face eager attention.
    """
    mask = layout.key_mask[:, None, None, :] if layout.has_padding else None
    if bias is None:
        return mask
    return bias if mask is None else torch.where(mask, bias, torch.finfo(bias.dtype).min)


def sentence_groups(lengths: list[int], tokens_per_chunk: int | None) -> list[slice]:
    """Consecutive rows with at most ``tokens_per_chunk`` real tokens together (one row at least)."""
    if tokens_per_chunk is None or sum(lengths) <= tokens_per_chunk:
        return [slice(0, len(lengths))]
    groups, start, total = [], 0, 0
    for row, length in enumerate(lengths):
        if total and total + length > tokens_per_chunk:
            groups.append(slice(start, row))
            start, total = row, 0
        total += length
    groups.append(slice(start, len(lengths)))
    return groups


def mpnet_position_ids(input_ids: Tensor, padding_idx: int) -> Tensor:
    """MPNet's positions: ``padding_idx + 1, 2, ...`` over real tokens, ``padding_idx`` at padding."""
    mask = input_ids.ne(padding_idx).int()
    return (torch.cumsum(mask, dim=1).type_as(mask) * mask).long() + padding_idx
