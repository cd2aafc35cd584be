"""How the pipeline speaks: a line of text at a time, with an optional style for a terminal."""

from __future__ import annotations

from typing import Any, Protocol


class Reporter(Protocol):
    """Receives the pipeline's messages: lines, the doctor's findings, and tables of metrics."""

    def say(self, text: str, style: str | None = None) -> None: ...

    def findings(self, report: Any) -> None: ...


class NullReporter:
    """Says nothing (the default for Python callers)."""

    def say(self, text: str, style: str | None = None) -> None:
        return None

    def findings(self, report: Any) -> None:
        return None


class ListReporter:
    """Keeps every line, e.g. to show them later or to test what a run said."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, text: str, style: str | None = None) -> None:
        self.lines.append(text)

    def findings(self, report: Any) -> None:
        self.lines.append(report.summary() if hasattr(report, "summary") else str(report))
