"""Extra import paths for existing modules, for import lines written against sentence-transformers.

``register_module_aliases("sentforge.losses", {"MSELoss": "distillation"})`` makes
``from sentforge.losses.MSELoss import MSELoss`` import ``sentforge.losses.distillation``. The alias
goes into ``sys.modules``; it becomes an attribute of the package only where that name is free, so
``sentforge.losses.MSELoss`` stays the class.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping


def register_module_aliases(package: str, aliases: Mapping[str, str]) -> None:
    """Make ``package.<alias>`` importable as the module ``package.<target>`` (or ``target`` itself when
    it is a dotted path) for each alias -> target."""
    parent = importlib.import_module(package)
    for alias, target in aliases.items():
        module = importlib.import_module(target if "." in target else f"{package}.{target}")
        sys.modules.setdefault(f"{package}.{alias}", module)
        if not hasattr(parent, alias):
            setattr(parent, alias, module)
