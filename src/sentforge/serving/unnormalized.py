"""The served model's vectors before its final Normalize module, so a route can return them unscaled.

text-embeddings-inference answers ``/embed`` with ``"normalize": false`` with the pooled vectors as
they are; a model whose last module is Normalize would return unit vectors whatever was asked. The
server encodes with the modules up to that Normalize (the same module objects: no weights are copied)
and every route scales to unit length itself, except ``/embed`` when asked not to.
"""

from __future__ import annotations

from typing import Any

from ..model import SentenceTransformer
from ..modules.normalize import Normalize


def without_final_normalize(model: Any) -> Any:
    """A SentenceTransformer sharing ``model``'s modules but its last Normalize; ``model`` itself when
    it does not end with one (or is not a sentforge SentenceTransformer)."""
    if not isinstance(model, SentenceTransformer) or len(model) < 2 or not isinstance(model[-1], Normalize):
        return model
    view = SentenceTransformer(
        modules=list(model)[:-1],
        device=str(model.device),
        prompts=dict(model.prompts),
        default_prompt_name=model.default_prompt_name,
        truncate_dim=model.truncate_dim,
    )
    view.backend = getattr(model, "backend", "torch")
    return view
