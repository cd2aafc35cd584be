"""How the pipeline speaks: a line of text at a time, with an optional style for a terminal."""

from __future__ import annotations

from typing import Any, Protocol


class Reporter(Protocol):
    """Receives the pipeline's messages: lines, the doctor's findings, tables of metrics, and the
    training progress (a transformers TrainerCallback, or None for none)."""

    def say(self, text: str, style: str | None = None) -> None: ...

    def findings(self, report: Any) -> None: ...

    def metrics(self, title: str, columns: dict[str, dict[str, float]], primary: str | None,
                nan_reasons: dict[str, str]) -> None: ...

    def progress(self, primary_metric: str | None) -> Any: ...


class NullReporter:
    """Says nothing (the default for Python callers)."""

    def say(self, text: str, style: str | None = None) -> None:
        return None

    def findings(self, report: Any) -> None:
        return None

    def metrics(self, title: str, columns: dict[str, dict[str, float]], primary: str | None,
                nan_reasons: dict[str, str]) -> None:
        return None

    def progress(self, primary_metric: str | None) -> Any:
        return None


class ListReporter(NullReporter):
    """Keeps every line, e.g. to show them later or to test what a run said."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, text: str, style: str | None = None) -> None:
        self.lines.append(text)

    def findings(self, report: Any) -> None:
        self.lines.append(report.summary() if hasattr(report, "summary") else str(report))

    def metrics(self, title: str, columns: dict[str, dict[str, float]], primary: str | None,
                nan_reasons: dict[str, str]) -> None:
        for name, values in columns.items():
            self.lines.append(f"{title}: {name}: " + ", ".join(f"{k} = {v:.4f}" for k, v in values.items()))
