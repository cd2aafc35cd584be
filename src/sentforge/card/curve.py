"""The training curve shown in the card: loss and each evaluator's primary metric against step.

Drawn with matplotlib's Agg canvas directly (no pyplot), so saving a model never changes the
user's plotting backend or opens a window.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

from .info import LogRow


def plot_training_curve(
    log_rows: list[LogRow],
    primary_metric_names: list[str],
    path: str | os.PathLike[str],
    best_step: int | None = None,
) -> Path | None:
    """Save a PNG of training loss (and validation loss) and the given metrics per step.

    Returns the path written, or None when the log has nothing to plot. The kept checkpoint's
    step, if given, is marked with a dashed line.
    """
    losses = {
        "training loss": _points(log_rows, lambda row: row.training_loss),
        "validation loss": _points(log_rows, lambda row: row.validation_loss),
    }
    losses = {label: points for label, points in losses.items() if points}
    metrics = {
        name: _points(log_rows, lambda row, name=name: row.metrics.get(name)) for name in primary_metric_names
    }
    metrics = {name: points for name, points in metrics.items() if points}
    panels = [panel for panel in [(losses, "loss"), (metrics, "metric")] if panel[0]]
    if not panels:
        return None

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.2 * len(panels)), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (series, ylabel) in zip(axes, panels):
        for label, points in series.items():
            steps, values = zip(*points)
            ax.plot(steps, values, marker="o" if len(points) < 30 else None, markersize=3, label=label)
        if best_step is not None:
            ax.axvline(best_step, color="grey", linestyle="--", linewidth=1, label="saved checkpoint")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    axes[-1].set_xlabel("step")
    figure.suptitle("Training curve")

    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            figure.savefig(file, format="png", dpi=100)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _points(rows: list[LogRow], value_of) -> list[tuple[int, float]]:
    """(step, value) for the rows that have a finite value."""
    points = []
    for row in rows:
        value = value_of(row)
        if value is not None and math.isfinite(float(value)):
            points.append((row.step, float(value)))
    return points
