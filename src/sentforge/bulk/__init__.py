"""Bulk encoding of large corpora on a Ray cluster (needs ``pip install "sentforge[ray]"``).

Nothing here imports ray until a function runs, so ``import sentforge`` never needs it.
"""

from .ray_encode import encode_on_ray
from .ray_output import BulkEncodeResult

__all__ = ["BulkEncodeResult", "encode_on_ray"]
