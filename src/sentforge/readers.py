"""InputExample: the classic (texts, label) record of sentence-transformers' old fit API."""

from __future__ import annotations

from dataclasses import dataclass, field

from .module_aliases import register_module_aliases


@dataclass
class InputExample:
    """One training example: a list of texts and an optional label."""

    guid: str = ""
    texts: list[str] = field(default_factory=list)
    label: int | float = 0

    def __str__(self) -> str:
        return f"<InputExample> label: {self.label}, texts: {'; '.join(self.texts)}"


# The pre-6 module path ``sentforge.readers.InputExample`` (this module).
register_module_aliases(__name__, {"InputExample": __name__})
