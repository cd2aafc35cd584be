"""Training arguments and the trainer for a plan: evaluate and keep the best checkpoint, no tqdm, no trackers."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import datasets

from .plan import TrainPlan
from .prepare import PreparedData
from .run_folder import CHECKPOINT_FOLDER
from ..errors import SentforgeError

# Defaults for runs typed on the command line (a recipe keeps its card's arguments as they are).
_COMMAND_LINE_DEFAULTS = {"warmup_ratio": 0.1}


def training_arguments(plan: TrainPlan, data: PreparedData, evaluator: Any, loss: Any) -> Any:
    """SentenceTransformerTrainingArguments for the plan; invalid combinations raise SentforgeError."""
    from ..training.args import SentenceTransformerTrainingArguments

    values: dict[str, Any] = {} if plan.recipe else dict(_COMMAND_LINE_DEFAULTS)
    # Whole checkpoints (optimizer, schedule, random state): an interrupted run continues exactly with --resume.
    values["save_only_model"] = False
    if not plan.recipe and getattr(loss, "uses_in_batch_negatives", False):
        values["batch_sampler"] = "no_duplicates"  # a repeated text in a batch would be a false negative
    values.update(plan.args)
    values.update(output_dir=str(Path(plan.output) / CHECKPOINT_FOLDER), report_to=[], disable_tqdm=True)
    total = total_steps(len(data.train), plan.batch_size, values)
    values.setdefault("logging_steps", max(1, min(50, total // 10)))
    if evaluator is None:
        values.update(eval_strategy="no", save_strategy="epoch", save_total_limit=1, load_best_model_at_end=False)
    else:
        strategy = str(values.get("eval_strategy", "epoch"))
        if "max_steps" in values and "eval_steps" not in values and strategy != "steps":
            strategy, values["eval_steps"] = "steps", values["max_steps"]  # at least one evaluation
        if strategy == "no":
            strategy = "epoch"
        values.update(eval_strategy=strategy, save_strategy=strategy, save_total_limit=2, load_best_model_at_end=True)
        if strategy == "steps":
            values.setdefault("eval_steps", max(1, total // 4))
            values["save_steps"] = values["eval_steps"]
        # The trainer reports evaluator metrics as eval_<key>; spelled out in full, an evaluator named
        # "eval" (metrics eval_...) is not mistaken for an already-prefixed key.
        values["metric_for_best_model"] = f"eval_{evaluator.primary_metric}"
        values["greater_is_better"] = getattr(evaluator, "greater_is_better", True)
    try:
        return SentenceTransformerTrainingArguments(**values)
    except (ValueError, TypeError) as err:
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise SentforgeError(
            f"Invalid training arguments: {reason}. Fix the option or the recipe's `args` "
            "(e.g. fp16/bf16 need a GPU: set them to false on a CPU)."
        ) from None


def total_steps(rows: int, batch_size: int, values: dict[str, Any]) -> int:
    """Optimisation steps the run will take (max_steps, else epochs x batches per epoch)."""
    if values.get("max_steps", -1) and values.get("max_steps", -1) > 0:
        return int(values["max_steps"])
    accumulation = int(values.get("gradient_accumulation_steps", 1))
    per_epoch = max(1, math.ceil(rows / batch_size) // accumulation)
    return max(1, math.ceil(float(values.get("num_train_epochs", 1)) * per_epoch))


def eval_dataset_for_loss(data: PreparedData) -> datasets.Dataset | None:
    """The eval rows in the shape the loss reads (for a validation loss), or None when they differ."""
    if data.eval is None:
        return None
    eval_data = data.eval
    train_has_label = "label" in data.train.column_names
    if "label" in eval_data.column_names and not train_has_label:
        eval_data = eval_data.remove_columns("label")
    if ("label" in eval_data.column_names) != train_has_label:
        return None
    if len(eval_data.column_names) != len(data.train.column_names):
        return None
    return eval_data


def build_trainer(model: Any, args: Any, data: PreparedData, loss: Any, evaluator: Any, callbacks: list) -> Any:
    """The trainer, without transformers' printer of raw log dicts (the progress bar shows them)."""
    from ..training.printed_logs import drop_printed_logs
    from ..training.trainer import SentenceTransformerTrainer

    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=data.train,
        eval_dataset=eval_dataset_for_loss(data),
        loss=loss,
        evaluator=evaluator,
        callbacks=callbacks,
    )
    return drop_printed_logs(trainer)


def remove_checkpoints(output: str) -> None:
    """Delete the checkpoint folders once the final model is saved (the evaluator CSVs stay)."""
    folder = Path(output) / CHECKPOINT_FOLDER
    for checkpoint in folder.glob("checkpoint-*"):
        shutil.rmtree(checkpoint, ignore_errors=True)
