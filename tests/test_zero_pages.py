"""Zero-page buffers: zeros until written, zeros again after clear(), memory only where written."""

from __future__ import annotations

import sys

import pytest
import torch
from torch import nn

from sentforge.speed import zero_pages
from sentforge.speed.embedding_rows import _state, lookup
from sentforge.speed.zero_pages import ZeroPageBuffer

LINUX = sys.platform.startswith("linux")


def _resident_anonymous_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("RssAnon:"))
    return int(line.split()[1]) / 1024


@pytest.mark.parametrize("zero_pages_on", [True, False])
def test_clear_zeroes_what_was_written(monkeypatch, zero_pages_on):
    monkeypatch.setattr(zero_pages, "_MAPS_ZERO_PAGES", zero_pages_on and LINUX)
    buffer = ZeroPageBuffer(torch.empty(1000, 8, dtype=torch.float32))
    assert buffer.maps_zero_pages == (zero_pages_on and LINUX)
    assert buffer.tensor.shape == (1000, 8) and not buffer.tensor.any()
    rows = torch.tensor([3, 500, 999])
    buffer.tensor.index_add_(0, rows, torch.ones(3, 8))
    assert buffer.tensor.sum().item() == 24.0
    buffer.clear([rows[:1], rows[1:]])  # the written rows, as the kept gradient lists them
    assert not buffer.tensor.any()
    buffer.tensor[7] = 2.0  # written again after clearing: an ordinary tensor still
    assert buffer.tensor.sum().item() == 16.0


@pytest.mark.skipif(not LINUX, reason="zero pages are a Linux mapping")
def test_memory_is_taken_only_for_written_pages_and_given_back_on_clear():
    size_mb = 128
    before = _resident_anonymous_mb()
    buffer = ZeroPageBuffer(torch.empty(size_mb * 2**20 // 4, dtype=torch.float32))
    buffer.tensor[:: 2**16].fill_(1.0)  # one float every 256 KB: 512 pages
    sparse = _resident_anonymous_mb() - before
    buffer.tensor.fill_(1.0)
    dense = _resident_anonymous_mb() - before
    buffer.clear()
    cleared = _resident_anonymous_mb() - before
    assert sparse < 16, sparse  # 2 MB written, with slack for whatever else the process does
    assert dense > size_mb - 16, dense
    assert cleared < 16, cleared
    assert not buffer.tensor.any()


@pytest.mark.skipif(not LINUX, reason="zero pages are a Linux mapping")
def test_kept_embedding_gradient_lives_in_zero_pages():
    embedding = nn.Embedding(64, 4)
    lookup(embedding, torch.tensor([[1, 2, 3]])).sum().backward()
    assert _state(embedding.weight)._pages.maps_zero_pages
    assert embedding.weight.grad.data_ptr() == _state(embedding.weight).buffer.data_ptr()


@pytest.mark.skipif(not LINUX, reason="zero pages are a Linux mapping")
def test_clearing_few_rows_keeps_their_pages_and_many_rows_hands_them_back():
    """Rows of 1 KB in a 64 MB buffer: 1,000 written rows (~4 MB) stay resident after clear(rows);
    written rows past KEPT_SHARE of the buffer make clear(rows) hand every page back."""
    row_floats, rows_total = 256, 2**16
    buffer = ZeroPageBuffer(torch.empty(rows_total, row_floats, dtype=torch.float32))
    before = _resident_anonymous_mb()
    few = torch.arange(0, 4000, 4)
    buffer.tensor.index_fill_(0, few, 1.0)
    buffer.clear([few])
    assert _resident_anonymous_mb() - before > 3  # the pages were kept, zeroed in place
    assert not buffer.tensor[:4000].any()
    many = torch.arange(0, int(rows_total * (zero_pages.KEPT_SHARE + 0.1)))
    buffer.tensor.index_fill_(0, many, 1.0)
    buffer.clear([many])
    assert _resident_anonymous_mb() - before < 3  # handed back (measured before reading the buffer)
    assert not buffer.tensor.any()
