"""Terminal output shared by the commands: one console, user errors as one line, tables of findings and metrics.

Every message goes through rich with markup off, so text such as ``[0, 1]`` in an error is printed
as written. A user error (bad file, unknown model, NaN label...) becomes ``Error: <message>`` on
stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..errors import SentforgeError

USER_ERROR_EXIT = 2
F = TypeVar("F", bound=Callable[..., Any])

NON_TERMINAL_WIDTH = 160


def _width(stream: Any) -> int | None:
    """A terminal keeps its own width; a file or pipe (a log) gets room for the tables."""
    if os.environ.get("COLUMNS") or (hasattr(stream, "isatty") and stream.isatty()):
        return None
    return NON_TERMINAL_WIDTH


console = Console(highlight=False, width=_width(sys.stdout))
error_console = Console(stderr=True, highlight=False, width=_width(sys.stderr))

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def say(text: str = "", style: str | None = None) -> None:
    """Print one message to stdout (markup off: brackets are shown as written)."""
    console.print(text, style=style, markup=False, emoji=False)


def fail(message: str) -> typer.Exit:
    """Print ``Error: message`` on stderr and return the exit to raise (code 2)."""
    error_console.print(f"Error: {message}", style="bold red", markup=False, emoji=False)
    return typer.Exit(USER_ERROR_EXIT)


def user_errors(command: F) -> F:
    """Run a command, turning user errors (our own and the usual file/parse errors) into ``fail``."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SentforgeError as err:
            raise fail(str(err)) from None
        except KeyboardInterrupt:
            error_console.print("Interrupted.", markup=False)
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as err:  # noqa: BLE001 - only the kinds below are the user's, the rest re-raise
            message = describe_user_error(err)
            if message is None:
                raise
            raise fail(message) from None

    return wrapper  # type: ignore[return-value]


def describe_user_error(err: Exception) -> str | None:
    """A one-line message for errors caused by the user's files or settings; None for a bug."""
    import pandas
    import pyarrow
    import yaml

    if isinstance(err, FileNotFoundError):
        return f"File not found: {err.filename or err}. Check the path."
    if isinstance(err, IsADirectoryError):
        return f"'{err.filename}' is a folder, not a file. Pass a file."
    if isinstance(err, PermissionError):
        return f"Permission denied: {err.filename or err}. Check the file's permissions or choose another path."
    if isinstance(err, UnicodeDecodeError):
        return f"The file is not valid UTF-8 ({err.reason} at byte {err.start}). Re-encode it as UTF-8."
    if isinstance(err, (pandas.errors.ParserError, pandas.errors.EmptyDataError)):
        return f"The file could not be parsed: {_first_line(err)}. Check its format and quoting."
    if isinstance(err, (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError)):
        return f"The data could not be read as a table: {_first_line(err)}. Give each column one type."
    if isinstance(err, (yaml.YAMLError, json.JSONDecodeError)):
        return f"The file is not valid YAML/JSON: {_first_line(err)}."
    if isinstance(err, MemoryError):
        return "Out of memory. Use a smaller --batch-size, a smaller --max-seq-length or less data."
    if isinstance(err, OSError):
        return f"{type(err).__name__}: {_first_line(err)}. Check the path and free disk space."
    return None


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def format_metric(value: Any) -> str:
    """A metric for the terminal: 4 decimals; NaN as "n/a" (its reason is printed apart)."""
    if value is None:
        return "-"
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def findings_table(report: Any) -> Table:
    """The data doctor's findings as a rich table: severity, check, data, value, finding and fix."""
    from ..data.report import format_value

    table = Table(title=Text(report.summary()), show_lines=True, title_justify="left")
    for column in ("Severity", "Check", "Data", "Value", "Finding", "Fix"):
        table.add_column(column, overflow="fold")
    for finding in report.findings:
        style = _SEVERITY_STYLE[finding.severity]
        cells = [finding.severity.upper(), finding.code, finding.dataset, format_value(finding.value),
                 finding.message, finding.fix]
        table.add_row(*(Text(cell) for cell in cells), style=style)
    return table


def print_findings(report: Any) -> None:
    """Print the findings table, or one line when there is nothing to report."""
    if not report.findings:
        say(f"{report.summary()}: no problems found.", style="green")
        return
    console.print(findings_table(report))


def metrics_table(title: str, columns: dict[str, dict[str, Any]], primary: str | None = None) -> Table:
    """Metrics side by side (one column per run, e.g. baseline and fine-tuned), primary metric first."""
    names = list(dict.fromkeys(name for values in columns.values() for name in values))
    if primary in names:
        names.remove(primary)
        names.insert(0, primary)
    table = Table(title=Text(title), title_justify="left")
    table.add_column("Metric")
    for heading in columns:
        table.add_column(heading, justify="right")
    if len(columns) == 2:
        table.add_column("Change", justify="right")
    for name in names:
        values = [columns[heading].get(name) for heading in columns]
        cells = [format_metric(v) for v in values]
        if len(columns) == 2:
            cells.append(_change(*values))
        label = f"{name} (primary)" if name == primary else name
        table.add_row(*(Text(cell) for cell in [label, *cells]), style="bold" if name == primary else None)
    return table


def _change(before: Any, after: Any) -> str:
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (before, after)):
        return "-"
    return f"{after - before:+.4f}"


def print_nan_reasons(metrics: dict[str, Any], reasons: dict[str, str]) -> None:
    """Say why each NaN metric is undefined (a NaN is never shown as a bare number)."""
    for name, value in metrics.items():
        if isinstance(value, float) and math.isnan(value):
            reason = reasons.get(name) or "the evaluator returned NaN for this metric on this data"
            say(f"{name} is n/a: {reason}", style="yellow")


def quiet_libraries() -> None:
    """Silence the libraries' own progress bars and info logs: the commands print what matters."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import datasets
    import transformers

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    # Evaluators log why a metric is NaN; the commands print that reason beside the metric instead.
    logging.getLogger("sentforge.evaluation").setLevel(logging.ERROR)


class ConsoleReporter:
    """The pipeline's reporter on the terminal: lines through `say`, findings as a table."""

    def say(self, text: str, style: str | None = None) -> None:
        say(text, style=style)

    def findings(self, report: Any) -> None:
        print_findings(report)

    def metrics(self, title: str, columns: dict[str, dict[str, float]], primary: str | None,
                nan_reasons: dict[str, str]) -> None:
        console.print(metrics_table(title, columns, primary))
        print_nan_reasons({k: v for values in columns.values() for k, v in values.items()}, nan_reasons)

    def progress(self, primary_metric: str | None) -> Any:
        from .progress import RichProgress

        return RichProgress(console, primary_metric)
