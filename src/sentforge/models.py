"""Drop-in path `sentforge.models` (as `sentence_transformers.models`): the module classes, the
`Module` / `InputModule` base classes for custom modules, and the `sentforge.models.pooling` path."""

from .module_aliases import register_module_aliases
from .module_base import InputModule, Module
from .modules import Dense, Normalize, Pooling, Transformer

__all__ = ["Transformer", "Pooling", "Dense", "Normalize", "Module", "InputModule"]

register_module_aliases("sentforge.models", {"pooling": "sentforge.modules.pooling"})
