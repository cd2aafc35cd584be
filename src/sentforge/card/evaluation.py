"""The card's Evaluation section: one table per evaluator, NaN explained, baseline compared.

A NaN metric is never printed as a number: its cell reads "n/a" and a note below the table
says why it is undefined and what to do about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .info import EvaluatorResult, RunInfo
from .links import json_block, library_link
from .metadata import short_metrics
from .tables import NOT_A_NUMBER, is_nan, join_names, markdown_table, round4, table_cell

DEFAULT_NAN_REASON = (
    "the evaluator returned NaN, so this metric is undefined on this evaluation data (a correlation is "
    "undefined when all gold scores are equal). Use evaluation data whose labels vary, and evaluate again"
)
DEFAULT_LOSS_NAN_REASON = (
    "the loss was NaN: training diverged. Lower the learning rate, look for bad labels (NaN, out of "
    "range), or train without fp16, and train again"
)


@dataclass
class _Group:
    """Evaluators of one class, with the same metrics and parameters, on different datasets."""

    class_name: str
    description: str
    config: str
    primary: str | None
    members: list[tuple[EvaluatorResult, dict[str, float]]] = field(default_factory=list)

    def accepts(self, result: EvaluatorResult, metrics: dict[str, float], config: str) -> bool:
        names = [member.name for member, _ in self.members]
        first_metrics = self.members[0][1]
        same_kind = (self.class_name, self.config, set(first_metrics)) == (result.class_name, config, set(metrics))
        return same_kind and result.name not in names


def evaluation_blocks(info: RunInfo) -> list[dict[str, Any]]:
    """Per evaluator (or group of them): heading, dataset line, "Evaluated with", table, NaN notes."""
    groups: list[_Group] = []
    for result in info.evaluator_results:
        metrics, primary = short_metrics(result)
        config = json_block(result.config) if result.config else ""
        group = next((g for g in groups if g.accepts(result, metrics, config)), None)
        if group is None:
            group = _Group(result.class_name, result.description, config, primary)
            groups.append(group)
        group.members.append((result, metrics))
    return [_block(info, group) for group in groups]


def _block(info: RunInfo, group: _Group) -> dict[str, Any]:
    grouped = len(group.members) > 1
    rows, notes = [], []
    for key in group.members[0][1]:
        bold = key == group.primary
        row = {"Metric": f"**{key}**" if bold else key}
        for result, metrics in group.members:
            value = metrics[key]
            if is_nan(value):
                where = f" on `{result.name}`" if grouped else ""
                full_key = f"{result.name}_{key}" if result.name else key
                notes.append(f"* `{key}`{where} is {NOT_A_NUMBER}: {nan_reason(info, full_key)}.")
            cell = NOT_A_NUMBER if is_nan(value) else table_cell(round4(value))
            row[result.name if grouped else "Value"] = f"**{cell}**" if bold else cell
        rows.append(row)

    names = [result.name for result, _ in group.members if result.name]
    class_name = group.class_name.split(".")[-1]
    evaluated_with = library_link(
        group.class_name, class_name, "evaluation", f"sentence_transformers.evaluation.{class_name}"
    )
    if group.config:
        evaluated_with += f" with these parameters:\n{group.config}"
    return {
        "description": group.description,
        "dataset_line": f"* Dataset{'s' if len(names) > 1 else ''}: {join_names([f'`{n}`' for n in names])}"
        if names
        else "",
        "evaluated_with": evaluated_with,
        "table": markdown_table(rows).rstrip("\n"),
        "nan_notes": notes,
    }


def nan_reason(info: RunInfo, key: str) -> str:
    """Why `key` (a full metric key or log column) is NaN: the recorded reason, else a general one.

    Reasons may be recorded under the full key ("dev_spearman_cosine") or the short one.
    """
    candidates = [key] + [
        key[len(result.name) + 1 :]
        for result in info.evaluator_results
        if result.name and key.startswith(result.name + "_")
    ]
    for candidate in candidates:
        if info.nan_reasons.get(candidate):
            return info.nan_reasons[candidate]
    return DEFAULT_LOSS_NAN_REASON if key.lower().endswith("loss") else DEFAULT_NAN_REASON


def baseline_table(info: RunInfo) -> str:
    """Every metric before training, after, and the difference; "" without a baseline."""
    if not info.baseline_metrics:
        return ""
    final = {key: value for result in info.evaluator_results for key, value in result.metrics.items()}
    rows = []
    for key in dict.fromkeys([*info.baseline_metrics, *final]):
        before, after = info.baseline_metrics.get(key), final.get(key)
        rows.append(
            {
                "Metric": key,
                "Baseline": _metric_cell(before),
                "Fine-tuned": _metric_cell(after),
                "Difference": _difference(before, after),
            }
        )
    return markdown_table(rows).rstrip("\n")


def _metric_cell(value: Any) -> str:
    if value is None:
        return "-"
    return NOT_A_NUMBER if is_nan(value) else table_cell(round4(float(value)))


def _difference(before: Any, after: Any) -> str:
    if before is None or after is None:
        return "-"
    if is_nan(before) or is_nan(after):
        return NOT_A_NUMBER
    return f"{float(after) - float(before):+.4f}"
