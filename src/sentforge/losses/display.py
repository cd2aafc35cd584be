"""How a loss is named on the model card, including a user's own loss classes."""

from __future__ import annotations

from typing import Any

from torch import nn

_LIBRARY_PREFIXES = ("sentforge.", "sentence_transformers.")


def _is_library_loss(cls: type) -> bool:
    """A concrete loss class shipped by sentforge or sentence-transformers (not a base or mixin)."""
    return cls.__module__.startswith(_LIBRARY_PREFIXES) and cls.__name__.endswith("Loss") and cls.__name__ != "BaseLoss"


def loss_display_name(loss: Any) -> str:
    """The loss's name for the model card.

    Library losses give their class name. A user's own class (defined in a script, i.e. module
    ``__main__``, or any module outside the library) gives its class name plus what it builds on,
    e.g. ``"SEF1MSE (custom, based on MSELoss)"`` for a subclass or ``"X (custom, wraps MSELoss)"``
    for a module holding a library loss as ``.loss``, never an unloadable ``__main__.X`` path.
    """
    cls = loss if isinstance(loss, type) else type(loss)
    if cls.__module__.startswith(_LIBRARY_PREFIXES):
        return cls.__name__
    base = next((b for b in cls.__mro__[1:] if _is_library_loss(b)), None)
    if base is not None:
        return f"{cls.__name__} (custom, based on {base.__name__})"
    inner = getattr(loss, "loss", None)
    if isinstance(inner, nn.Module) and _is_library_loss(type(inner)):
        return f"{cls.__name__} (custom, wraps {type(inner).__name__})"
    return cls.__name__
