"""Drop-in path `sentforge.models` (as `sentence_transformers.models`): the module classes, the
`Module` / `InputModule` base classes for custom modules, and the `sentforge.models.pooling` and
`sentforge.models.Pooling` (etc.) module paths."""

from .module_aliases import register_module_aliases
from .module_base import InputModule, Module
from .modules import Dense, Normalize, Pooling, Transformer

__all__ = ["Transformer", "Pooling", "Dense", "Normalize", "Module", "InputModule"]

register_module_aliases(
    "sentforge.models",
    {
        "pooling": "sentforge.modules.pooling",
        # The pre-6 module paths named like the class (``from sentforge.models.Pooling import Pooling``).
        "Dense": "sentforge.modules.dense",
        "InputModule": "sentforge.module_base",
        "Module": "sentforge.module_base",
        "Normalize": "sentforge.modules.normalize",
        "Pooling": "sentforge.modules.pooling",
        "Transformer": "sentforge.modules.transformer",
    },
)
