"""Drop-in path ``sentforge.sentence_transformer.readers`` (the old ``readers``): InputExample."""

from ...module_aliases import register_module_aliases
from ...readers import InputExample

__all__ = ["InputExample"]

register_module_aliases(__name__, {"input_example": "sentforge.readers"})
