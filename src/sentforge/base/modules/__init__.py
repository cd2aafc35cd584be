"""Drop-in path ``sentforge.base.modules``: the module base classes and the shared modules."""

from ...module_aliases import register_module_aliases
from ...module_base import InputModule, Module
from ...modules import Dense, Normalize, Transformer

__all__ = ["Dense", "InputModule", "Module", "Normalize", "Transformer"]

register_module_aliases(
    __name__,
    {
        "dense": "sentforge.modules.dense",
        "input_module": "sentforge.module_base",
        "module": "sentforge.module_base",
        "normalize": "sentforge.modules.normalize",
        "transformer": "sentforge.modules.transformer",
    },
)
