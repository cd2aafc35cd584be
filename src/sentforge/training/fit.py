"""The v2 ``model.fit(train_objectives=...)`` API, run by SentenceTransformerTrainer.

As in sentence-transformers 3+: every (DataLoader, loss) objective becomes a named dataset with its
own loss, batches alternate round robin between them, and the optimizer and learning-rate schedule
are built the way the v2 loop built them.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Callable, Iterable

import torch
import transformers
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

from ..errors import SentforgeError
from . import checkpoints
from .args import BatchSamplers, MultiDatasetBatchSamplers, SentenceTransformerTrainingArguments
from .fit_callbacks import EvaluatorCallback, OriginalCallback, SaveModelCallback
from .fit_data import dataset_name, loaders_to_datasets

logger = logging.getLogger(__name__)
NO_DECAY = ("bias", "LayerNorm.bias", "LayerNorm.weight")
SCHEDULERS = {
    "constantlr": lambda opt, warmup, total: transformers.get_constant_schedule(opt),
    "warmupconstant": lambda opt, warmup, total: transformers.get_constant_schedule_with_warmup(opt, warmup),
    "warmuplinear": lambda opt, warmup, total: transformers.get_linear_schedule_with_warmup(opt, warmup, total),
    "warmupcosine": lambda opt, warmup, total: transformers.get_cosine_schedule_with_warmup(opt, warmup, total),
    "warmupcosinewithhardrestarts": lambda opt, warmup, total: (
        transformers.get_cosine_with_hard_restarts_schedule_with_warmup(opt, warmup, total)
    ),
}


def get_scheduler(optimizer: torch.optim.Optimizer, scheduler: str, warmup_steps: int, t_total: int) -> LambdaLR:
    """The v2 schedule by name: constantlr, warmupconstant, warmuplinear, warmupcosine,
    warmupcosinewithhardrestarts (any case)."""
    make = SCHEDULERS.get(str(scheduler).lower())
    if make is None:
        raise ValueError(f"Unknown scheduler {scheduler}")
    return make(optimizer, warmup_steps, t_total)


def run_fit(
    model: nn.Module,
    train_objectives: Iterable[tuple[Any, nn.Module]],
    evaluator: Any = None,
    epochs: int = 1,
    steps_per_epoch: int | None = None,
    scheduler: str = "WarmupLinear",
    warmup_steps: int = 10000,
    optimizer_class: type[torch.optim.Optimizer] = torch.optim.AdamW,
    optimizer_params: dict[str, Any] | None = None,
    weight_decay: float = 0.01,
    evaluation_steps: int = 0,
    output_path: str | None = None,
    save_best_model: bool = True,
    max_grad_norm: float = 1,
    use_amp: bool = False,
    callback: Callable[[float, int, int], None] | None = None,
    show_progress_bar: bool = True,
    checkpoint_path: str | None = None,
    checkpoint_save_steps: int = 500,
    checkpoint_save_total_limit: int = 0,
    resume_from_checkpoint: bool = False,
) -> None:
    """Train ``model`` as ``SentenceTransformer.fit`` describes."""
    from .trainer import SentenceTransformerTrainer

    objectives = list(train_objectives)
    if not objectives or not all(isinstance(o, (tuple, list)) and len(o) == 2 for o in objectives):
        raise SentforgeError("train_objectives must be a list of (DataLoader, loss) pairs, e.g. [(loader, loss)].")
    data_loaders, losses = zip(*objectives)
    train_datasets, batch_size = loaders_to_datasets(data_loaders)
    loss_by_name = {dataset_name(i): loss for i, loss in enumerate(losses, start=1)}

    max_steps = -1
    if steps_per_epoch is not None and steps_per_epoch > 0:
        if epochs == 1:
            max_steps = steps_per_epoch
        else:
            logger.warning("steps_per_epoch is ignored when epochs > 1: every epoch trains on the full datasets.")
            steps_per_epoch = None
    args = SentenceTransformerTrainingArguments(
        output_dir=checkpoint_path or _default_checkpoint_dir(),
        batch_sampler=BatchSamplers.BATCH_SAMPLER,
        multi_dataset_batch_sampler=MultiDatasetBatchSamplers.ROUND_ROBIN,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size,
        num_train_epochs=epochs,
        max_steps=max_steps,
        eval_strategy="steps" if evaluation_steps and evaluation_steps > 0 else "no",
        eval_steps=evaluation_steps if evaluation_steps and evaluation_steps > 0 else None,
        max_grad_norm=max_grad_norm,
        fp16=use_amp,
        disable_tqdm=not show_progress_bar,
        save_strategy="steps" if checkpoint_path is not None else "no",
        save_steps=checkpoint_save_steps,
        save_total_limit=checkpoint_save_total_limit or None,
    )
    if not steps_per_epoch:
        steps_per_epoch = min(len(dataset) // batch_size for dataset in train_datasets.values())
    total_steps = max_steps if max_steps > 0 else int(steps_per_epoch * epochs) * len(losses)
    optimizer = optimizer_class(
        _parameter_groups(model, loss_by_name, weight_decay), **(optimizer_params or {"lr": 2e-5})
    )
    schedule = get_scheduler(optimizer, scheduler, warmup_steps, total_steps)

    train_as_fit(
        SentenceTransformerTrainer, model, args, train_datasets, loss_by_name, evaluator, (optimizer, schedule),
        output_path, save_best_model, callback,
        resume_from_checkpoint=_checkpoint_to_resume(checkpoint_path, resume_from_checkpoint),
    )


def train_as_fit(
    trainer_class: type, model: nn.Module, args: Any, train_dataset: Any, loss: Any, evaluator: Any,
    optimizers: tuple[Any, Any], output_path: str | None, save_best_model: bool,
    callback: Callable[[float, int, int], None] | None, resume_from_checkpoint: str | None = None,
) -> None:
    """Train as the v2 ``fit`` loops did (both model kinds): the evaluator and ``callback`` after each
    evaluation, the best model saved to ``output_path``, or the final one when there is no evaluator."""
    callbacks: list[Any] = []
    if evaluator is not None:
        callbacks.append(EvaluatorCallback(evaluator, output_path))
        if callback is not None:
            callbacks.append(OriginalCallback(callback, evaluator))
    trainer = trainer_class(
        model=model, args=args, train_dataset=train_dataset, loss=loss, evaluator=evaluator,
        optimizers=optimizers, callbacks=callbacks,
    )
    for added in trainer.callback_handler.callbacks:
        if isinstance(added, EvaluatorCallback):
            added.trainer = trainer
    if output_path is not None:
        trainer.add_callback(SaveModelCallback(output_path, evaluator, save_best_model))
    trainer.train(resume_from_checkpoint=resume_from_checkpoint)
    if output_path is not None and evaluator is None:
        model.save(output_path)  # after train() returns, so the card records the run


def _parameter_groups(model: nn.Module, losses: dict[str, nn.Module], weight_decay: float) -> list[dict[str, Any]]:
    """The model's and losses' parameters; no weight decay for biases and LayerNorm weights (the v2 rule)."""
    named = list(nn.ModuleDict({"model": model, **losses}).named_parameters())
    return [
        {"params": [p for n, p in named if not any(nd in n for nd in NO_DECAY)], "weight_decay": weight_decay},
        {"params": [p for n, p in named if any(nd in n for nd in NO_DECAY)], "weight_decay": 0.0},
    ]


def _default_checkpoint_dir() -> str:
    """``checkpoints/model``, or the first ``checkpoints/model_N`` that is missing or empty."""
    name, index = "checkpoints/model", 1
    while Path(name).exists() and any(Path(name).iterdir()):
        name, index = f"checkpoints/model_{index}", index + 1
    return name


def _checkpoint_to_resume(checkpoint_path: str | None, resume: bool) -> str | None:
    """The newest complete checkpoint under ``checkpoint_path`` when resuming, else None (with a warning)."""
    if checkpoint_path is None or not resume:
        return None
    if not os.path.isdir(checkpoint_path):
        logger.warning("Checkpoint folder %r does not exist: training starts from the beginning.", checkpoint_path)
        return None
    found = checkpoints.last_complete_checkpoint(checkpoint_path)
    if found is None:
        logger.warning("No checkpoint found in %r: training starts from the beginning.", checkpoint_path)
    return found
