"""The data doctor's findings and their report, as plain text, markdown (model card) or a dict."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

from ..errors import SentforgeError

Severity = Literal["error", "warning", "info"]
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
_SEVERITY_LABEL = {"error": "ERROR", "warning": "WARNING", "info": "NOTE"}

EVAL_LABELS_CONSTANT = "eval-labels-constant"


@dataclass(frozen=True)
class Finding:
    """One problem (or fact) about the data: what, how bad, the number behind it, and the fix."""

    code: str
    severity: Severity
    message: str
    value: float | int | None
    fix: str
    dataset: str = "train"
    """Which data it concerns: "train", "eval" or "train+eval"."""

    def __post_init__(self) -> None:
        if self.severity not in _SEVERITY_ORDER:
            raise ValueError(f"severity must be one of {list(_SEVERITY_ORDER)}, not {self.severity!r}")


@dataclass
class DoctorReport:
    """All findings of one diagnosis, most severe first."""

    findings: list[Finding]

    def __post_init__(self) -> None:
        self.findings = sorted(self.findings, key=lambda f: _SEVERITY_ORDER[f.severity])

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def infos(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "info"]

    @property
    def ok(self) -> bool:
        """True when nothing would stop a run."""
        return not self.errors

    @property
    def evaluate_pairs_by_retrieval(self) -> bool:
        """True when evaluation labels are all equal: score the eval pairs with retrieval metrics instead."""
        return any(f.code == EVAL_LABELS_CONSTANT for f in self.findings)

    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def get(self, code: str, dataset: str | None = None) -> Finding | None:
        """The first finding with this code (and dataset, if given), or None."""
        for finding in self.findings:
            if finding.code == code and (dataset is None or finding.dataset == dataset):
                return finding
        return None

    def raise_for_errors(self) -> None:
        """Raise SentforgeError listing the errors, if any (the caller decides whether a run may go on)."""
        if self.errors:
            lines = [f"- {f.message} Fix: {f.fix}" for f in self.errors]
            raise SentforgeError("The data doctor found problems that would spoil training:\n" + "\n".join(lines))

    def summary(self) -> str:
        counts = [(len(self.errors), "error"), (len(self.warnings), "warning"), (len(self.infos), "note")]
        parts = [f"{n} {word}{'s' if n != 1 else ''}" for n, word in counts]
        return "Data doctor: " + ", ".join(parts)

    def format_text(self) -> str:
        """Plain text for a terminal or a log."""
        lines = [self.summary()]
        if not self.findings:
            lines.append("  No problems found.")
        for f in self.findings:
            lines.append(f"  {_SEVERITY_LABEL[f.severity]:<8}{f.code} ({f.dataset}): {f.message}")
            if f.value is not None:
                lines.append(f"  {'':<8}value: {format_value(f.value)}")
            lines.append(f"  {'':<8}fix: {f.fix}")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """A markdown table for the model card (no heading; the card chooses where it goes)."""
        if not self.findings:
            return "The data doctor found no problems in the training data."
        rows = [
            "| Severity | Check | Data | Value | Finding | Fix |",
            "|:---------|:------|:-----|------:|:--------|:----|",
        ]
        for f in self.findings:
            cells = [f.severity, f"`{f.code}`", f.dataset, format_value(f.value), f.message, f.fix]
            rows.append("| " + " | ".join(_escape(str(cell)) for cell in cells) + " |")
        return "\n".join(rows)

    def to_dict(self) -> dict:
        """JSON-ready: findings (NaN values become None) and counts."""
        findings = []
        for f in self.findings:
            item = asdict(f)
            if isinstance(f.value, float) and not math.isfinite(f.value):
                item["value"] = None
            findings.append(item)
        return {
            "findings": findings,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "infos": len(self.infos),
            "evaluate_pairs_by_retrieval": self.evaluate_pairs_by_retrieval,
        }


def format_value(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e9:
        return str(int(value))
    return f"{value:.4g}"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
