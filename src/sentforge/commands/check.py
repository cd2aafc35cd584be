"""`sentforge check`: the data doctor alone, on the data exactly as `sentforge train` would use it.

It runs the same pre-flight as `train` (same plan, same defaults), so it says "ready to train"
only for data that `train` accepts.
"""

from typing import Optional

import typer

from . import console as out
from .console import user_errors

NO_MODEL = "none"


@user_errors
def check(
    data: str = typer.Argument(..., help="Training data: csv/tsv/jsonl/json/parquet file, hub dataset id, or a recipe .yaml."),
    eval: Optional[str] = typer.Option(
        None, "--eval", help="Evaluation data (default: as train does, DATA's dev split beside it, else 10% held out)."
    ),
    hold_out: bool = typer.Option(
        False, "--hold-out", help="Hold out 10% of DATA even when a dev split sits beside it (as train --hold-out)."
    ),
    base: Optional[str] = typer.Option(
        None, "--base", help="Base model for token counts and label direction (default: all-MiniLM-L6-v2); 'none' skips those checks."
    ),
    loss: Optional[str] = typer.Option(None, "--loss", help="auto or a loss class name (default: auto)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="Batch size training would use (default: 32)."),
    epochs: Optional[float] = typer.Option(None, "--epochs", min=0.0, help="Epochs training would run (default: 1)."),
    max_seq_length: Optional[int] = typer.Option(None, "--max-seq-length", help="Truncate texts to N tokens."),
    columns: Optional[str] = typer.Option(None, "--columns", help="Columns in order, label last: a,b[,label]."),
    config: Optional[str] = typer.Option(None, "--config", help="Check the data of a recipe YAML (options given here win)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed of the held-out split and of the sampled rows (default: 42)."),
    allow_inverted_labels: bool = typer.Option(
        False, "--allow-inverted-labels", help="Report inverted labels as a warning, not an error."
    ),
) -> None:
    """Check training data before training: exit code 2 when it finds errors, 0 otherwise."""
    from ..pipeline.models import load_model
    from ..pipeline.plan import build_plan
    from ..pipeline.run import doctor_stop_message
    from ..pipeline.token_memo import RunTokenMemo
    from ..pipeline import preflight

    out.quiet_libraries()
    skip_model = base is not None and base.lower() == NO_MODEL
    options = {
        "eval": eval, "base": None if skip_model else base, "loss": loss, "epochs": epochs,
        "batch_size": batch_size, "max_seq_length": max_seq_length, "columns": columns, "seed": seed,
        "allow_inverted": allow_inverted_labels, "output": "-", "hold_out": hold_out,
    }
    plan = build_plan(data, config, options)
    with RunTokenMemo() as memo:
        checked = preflight(plan, None if skip_model else memo.loading(load_model), out.ConsoleReporter())
    out.print_findings(checked.report)
    if not checked.ok:
        raise out.fail(doctor_stop_message(checked.report, "training would be spoilt"))
    if checked.evaluator is not None:
        out.say(f"Evaluator: {checked.evaluator.reason}")
    out.say("No errors: the data is ready to train on.", style="green")
