"""Loading a model for a command: see sentforge.pipeline.models."""

from ..pipeline.models import DEFAULT_BASE, load_model, shape_model

__all__ = ["DEFAULT_BASE", "load_model", "shape_model"]
