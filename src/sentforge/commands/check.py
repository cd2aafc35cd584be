"""`sentforge check`: the data doctor alone, on the data exactly as `sentforge train` would use it."""

from typing import Optional

import typer

from sentforge.commands import console as out
from sentforge.commands.console import user_errors
from sentforge.commands.models import DEFAULT_BASE
from sentforge.errors import SentforgeError

NO_MODEL = "none"


@user_errors
def check(
    data: str = typer.Argument(..., help="Training data: csv/tsv/jsonl/json/parquet file or hub dataset id."),
    eval: Optional[str] = typer.Option(None, "--eval", help="Evaluation data (default: hold out 10% as train does)."),
    base: str = typer.Option(
        DEFAULT_BASE, "--base", help="Base model for token counts and label direction; 'none' skips those checks."
    ),
    loss: str = typer.Option("auto", "--loss", help="auto or a loss class name."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Batch size training would use."),
    epochs: float = typer.Option(1.0, "--epochs", min=0.0, help="Epochs training would run."),
    columns: Optional[str] = typer.Option(None, "--columns", help="Columns in order, label last: a,b[,label]."),
    seed: int = typer.Option(42, "--seed", help="Seed of the held-out split and of the sampled rows."),
    allow_inverted_labels: bool = typer.Option(
        False, "--allow-inverted-labels", help="Report inverted labels as a warning, not an error."
    ),
) -> None:
    """Check training data before training: exit code 2 when it finds errors, 0 otherwise."""
    from sentforge.commands.choose import wants_scores
    from sentforge.commands.doctor import run_doctor
    from sentforge.commands.models import load_model
    from sentforge.commands.prepare import parse_columns, prepare, rescale_scores
    from sentforge.commands.run import doctor_stop_message

    out.quiet_libraries()
    model = None if base.lower() == NO_MODEL else load_model(base)
    names = parse_columns(columns)
    prepared = prepare(data, eval, columns=names, eval_columns=names, seed=seed)
    chosen = _pick_loss(model, prepared, loss)
    if chosen is not None and wants_scores(chosen.value):
        rescale_scores(prepared, any_scale=loss.lower() == "auto")
    out.say(f"Data: {data} ({len(prepared.train)} training rows; columns {', '.join(prepared.train.column_names)})")
    for note in prepared.notes:
        out.say(note)
    if chosen is not None:
        out.say(f"Task: {prepared.roles.task}. Loss: {chosen.name}. Why: {chosen.reason}")
    if model is None:
        out.say("No base model: token lengths and label direction were not checked.", style="yellow")
    report = run_doctor(model, prepared, chosen.value if chosen else None, batch_size=batch_size, epochs=epochs,
                        allow_inverted=allow_inverted_labels, seed=seed)
    out.print_findings(report)
    if not report.ok:
        raise out.fail(doctor_stop_message(report, "training would be spoilt"))
    out.say("No errors: the data is ready to train on.", style="green")


def _pick_loss(model, prepared, loss: str):
    """The loss training would use; without a model, built on None when the loss allows it (the doctor
    reads only what the loss declares), else None and the doctor goes by the task alone."""
    from sentforge.commands.choose import choose_loss

    if model is not None:
        return choose_loss(model, prepared, loss)
    try:
        return choose_loss(None, prepared, loss)
    except SentforgeError:
        raise
    except Exception:  # noqa: BLE001 - a loss that needs a real model
        return None
