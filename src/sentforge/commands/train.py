"""`sentforge train`: fine-tune a model on a data file (or a recipe), with the data doctor first."""

from typing import Optional

import typer

from . import console as out
from .console import user_errors


@user_errors
def train(
    data: Optional[str] = typer.Argument(
        None, help="Training data: csv/tsv/jsonl/json/parquet file, hub dataset id, or a recipe .yaml."
    ),
    eval: Optional[str] = typer.Option(
        None, "--eval", help="Evaluation data (default: DATA's dev split beside it, else hold out 10% of DATA)."
    ),
    hold_out: bool = typer.Option(
        False, "--hold-out", help="Hold out 10% of DATA for evaluation even when a dev split sits beside it."
    ),
    base: Optional[str] = typer.Option(None, "--base", help="Base model: folder or id (default: all-MiniLM-L6-v2)."),
    loss: Optional[str] = typer.Option(None, "--loss", help="auto (from the columns) or a loss class name (default: auto)."),
    epochs: Optional[float] = typer.Option(None, "--epochs", help="Training epochs (default: chosen from the data)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Batch size (default: chosen from the data)."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Learning rate (default: chosen from the data)."),
    max_seq_length: Optional[int] = typer.Option(None, "--max-seq-length", help="Truncate texts to N tokens."),
    columns: Optional[str] = typer.Option(None, "--columns", help="Columns in order, label last: a,b[,label]."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Output folder (default: output/<base>-<data>)."),
    config: Optional[str] = typer.Option(None, "--config", help="Train from a recipe YAML (options given here win)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed (data split, shuffling, init) (default: 42)."),
    eval_steps: Optional[int] = typer.Option(None, "--eval-steps", help="Evaluate and checkpoint every N steps (default: each epoch)."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Stop after N steps (overrides --epochs)."),
    allow_inverted_labels: bool = typer.Option(
        False, "--allow-inverted-labels", help="Train even if labels run against the base model's similarity."
    ),
    no_baseline: bool = typer.Option(False, "--no-baseline", help="Skip evaluating the base model before training."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace the files in a non-empty --output folder (deleted when training starts)."
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Continue the interrupted run in --output from its newest checkpoint."
    ),
    no_mine: bool = typer.Option(
        False, "--no-mine", help="Train (query, positive) pairs without mining hard negatives with the base model first."
    ),
    search: Optional[int] = typer.Option(
        None, "--search", help="Pick the recipe by N short trials on the evaluation split before training (default: 0, off)."
    ),
) -> None:
    """Fine-tune a sentence-embedding model; checks the data first and compares with the base model."""
    from ..pipeline.plan import build_plan
    from ..pipeline.run import check_output_folder, execute
    from ..pipeline.run_folder import claim_run_folder

    options = {
        "eval": eval, "base": base, "loss": loss, "epochs": epochs, "batch_size": batch_size, "lr": lr,
        "max_seq_length": max_seq_length, "columns": columns, "output": output, "seed": seed,
        "eval_steps": eval_steps, "max_steps": max_steps, "allow_inverted": allow_inverted_labels,
        "no_baseline": no_baseline, "overwrite": overwrite, "resume": resume, "no_mine": no_mine, "search": search,
        "hold_out": hold_out,
    }
    out.quiet_libraries()
    plan = build_plan(data, config, options)
    check_output_folder(plan.output)
    reporter = out.ConsoleReporter()
    with claim_run_folder(plan.output, overwrite=plan.overwrite, resume=plan.resume, inputs=plan.inputs,
                          reporter=reporter):
        execute(plan, reporter)
