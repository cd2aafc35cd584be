"""InputExample: the classic (texts, label) record of sentence-transformers' old fit API."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class InputExample:
    """One training example: a list of texts and an optional label."""

    guid: str = ""
    texts: list[str] = field(default_factory=list)
    label: int | float = 0

    def __str__(self) -> str:
        return f"<InputExample> label: {self.label}, texts: {'; '.join(self.texts)}"
