"""`sentforge eval`: evaluate a model on a data file, with the evaluator `sentforge train` would pick."""

from pathlib import Path
from typing import Optional

import typer

from . import console as out
from .console import user_errors


@user_errors
def evaluate(
    model: str = typer.Argument(..., help="Model folder or id."),
    data: str = typer.Argument(..., help="Evaluation data: csv/tsv/jsonl/json/parquet file or hub dataset id."),
    columns: Optional[str] = typer.Option(None, "--columns", help="Columns in order, label last: a,b[,label]."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Texts per batch."),
) -> None:
    """Evaluate a model: retrieval, similarity, binary or triplet metrics, chosen from the columns."""
    from ..pipeline.choose import choose_evaluator
    from ..pipeline.models import load_model
    from ..pipeline.prepare import PreparedData, canonical, load_table, parse_columns
    from ..data import infer_roles

    out.quiet_libraries()
    rows, _ = canonical(load_table(data, "evaluation data"), parse_columns(columns), keep_constant_label=True,
                     what="evaluation data")
    name = Path(data).stem if Path(data).suffix else "eval"
    prepared = PreparedData(train=rows, eval=rows, roles=infer_roles(rows), eval_name=name)
    encoder = load_model(model)
    choice = choose_evaluator(encoder, prepared, batch_size=batch_size)
    out.say(f"Evaluator: {choice.reason}")
    metrics = choice.value(encoder)
    primary = choice.value.primary_metric
    out.console.print(out.metrics_table(f"{model} on {data}", {"Value": metrics}, primary))
    out.print_nan_reasons(metrics, getattr(choice.value, "nan_reasons", {}) or {})
