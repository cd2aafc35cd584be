"""Hard-negative mining, as ``sentence_transformers.util.hard_negatives`` (the code lives in
:mod:`sentforge.search`)."""

from ..search import mine_hard_negatives

__all__ = ["mine_hard_negatives"]
