"""``CrossEncoder.fit``: the pre-v4 training API (a DataLoader of InputExample pairs), run by CrossEncoderTrainer.

As in sentence-transformers 4+: the DataLoader's examples become one dataset (sentence_0, sentence_1,
label), the optimizer and learning-rate schedule are built the way the old loop built them, and the
default loss is BinaryCrossEntropyLoss (one label) or CrossEntropyLoss (several). Training modules load
only when ``fit`` is called, so ``import sentforge`` stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable

import torch
from torch import Tensor, nn

from ..errors import SentforgeError

if TYPE_CHECKING:
    from .model import CrossEncoder

# The callbacks fit() adds to the trainer, under sentence-transformers' names (loaded on first use).
_CALLBACKS = ("EvaluatorCallback", "OriginalCallback", "SaveModelCallback")


def __getattr__(name: str) -> Any:
    if name not in _CALLBACKS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module("sentforge.training.fit_callbacks"), name)


class FitMixinLoss(nn.Module):
    """A plain torch loss (``loss_fct(logits, labels)``) as a trainer loss: logits of the pairs, after
    ``activation_fn``, flattened with float labels for a one-label model, else with integer labels."""

    def __init__(self, model: CrossEncoder, loss_fct: Callable[[Tensor, Tensor], Tensor],
                 activation_fn: Callable[[Tensor], Tensor] = nn.Identity()) -> None:
        super().__init__()
        self.model = model
        self.loss_fct = loss_fct
        self.activation_fn = activation_fn

    def forward(self, inputs: list[list[str]], labels: Tensor, prompt: str | None = None,
                task: str | None = None) -> Tensor:
        if len(inputs) != 2:
            raise ValueError(f"{self.loss_fct} expects a dataset with two non-label columns, but got a dataset "
                             f"with {len(inputs)} columns.")
        logits = self.model.pair_logits(list(zip(inputs[0], inputs[1])), prompt=prompt)
        if self.model.num_labels == 1:
            logits, labels = logits.view(-1), labels.float()
        else:
            labels = labels.long()
        return self.loss_fct(self.activation_fn(logits), labels.to(logits.device))


class FitMixin:
    """Adds sentence-transformers' ``fit`` (the v2/v3 training API) to CrossEncoder."""

    def fit(
        self: CrossEncoder,
        train_dataloader: Any,
        evaluator: Any = None,
        epochs: int = 1,
        loss_fct: Callable[[Tensor, Tensor], Tensor] | None = None,
        activation_fct: Callable[[Tensor], Tensor] = nn.Identity(),
        scheduler: str | torch.optim.lr_scheduler.LRScheduler = "WarmupLinear",
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
    ) -> None:
        """Train on ``DataLoader([InputExample(texts=[query, doc], label=...), ...], shuffle=True, batch_size=16)``
        as sentence-transformers' ``CrossEncoder.fit`` does, with CrossEncoderTrainer.

        ``loss_fct=None`` picks BinaryCrossEntropyLoss (num_labels 1, float labels) or CrossEntropyLoss
        (class ids), both after ``activation_fct``; any other ``loss_fct(logits, labels)`` is wrapped in
        FitMixinLoss. ``optimizer_params`` defaults to ``{"lr": 2e-5}``; the schedule spans
        ``len(examples) // batch_size * epochs`` steps. ``evaluator`` (any CrossEncoder evaluator, or a
        callable ``(model, output_path, epoch, steps)`` returning a score) runs every ``evaluation_steps``
        and at each epoch end; ``callback(score, epoch, steps)`` follows each run. With ``output_path``: the
        best model by the evaluator's primary metric is saved there (``save_best_model``), evaluator CSVs go
        to ``output_path/eval``; without an evaluator the final model is saved there (sentence-transformers
        saves nothing in that case).
        """
        from ..training.fit import _default_checkpoint_dir, _parameter_groups, get_scheduler, train_as_fit
        from .trainer import CrossEncoderTrainer
        from .training_args import CrossEncoderTrainingArguments

        dataset, batch_size = _examples_to_dataset(train_dataloader)
        evaluation_steps = evaluation_steps if evaluator is not None else 0  # as the v2 loop: nothing to evaluate
        args = CrossEncoderTrainingArguments(
            output_dir=_default_checkpoint_dir(),
            per_device_train_batch_size=batch_size,
            per_device_eval_batch_size=batch_size,
            num_train_epochs=epochs,
            eval_strategy="steps" if evaluation_steps and evaluation_steps > 0 else "no",
            eval_steps=evaluation_steps if evaluation_steps and evaluation_steps > 0 else None,
            max_grad_norm=max_grad_norm,
            fp16=use_amp,
            disable_tqdm=not show_progress_bar,
            save_strategy="no",
        )
        optimizer = optimizer_class(_parameter_groups(self, {}, weight_decay), **(optimizer_params or {"lr": 2e-5}))
        if isinstance(scheduler, str):
            total_steps = int(len(dataset) // batch_size * epochs)
            scheduler = get_scheduler(optimizer, scheduler, warmup_steps, total_steps)

        train_as_fit(CrossEncoderTrainer, self, args, dataset, self._fit_loss(loss_fct, activation_fct), evaluator,
                     (optimizer, scheduler), output_path, save_best_model, callback)

    def _fit_loss(self: CrossEncoder, loss_fct: Callable | None, activation_fct: Callable) -> nn.Module:
        """fit()'s loss: the default by num_labels, or ``loss_fct`` wrapped in FitMixinLoss."""
        if loss_fct is not None:
            return FitMixinLoss(self, loss_fct, activation_fct)
        from .losses import BinaryCrossEntropyLoss, CrossEntropyLoss

        if self.num_labels == 1:
            return BinaryCrossEntropyLoss(self, activation_fn=activation_fct)
        return CrossEntropyLoss(self, activation_fn=activation_fct)


def _examples_to_dataset(loader: Any) -> tuple[Any, int]:
    """(the loader's examples as a dataset: sentence_0, sentence_1[, label], its batch size)."""
    from ..training.fit_data import loaders_to_datasets

    _check_examples(loader)
    datasets, batch_size = loaders_to_datasets([loader])
    dataset = next(iter(datasets.values()))
    if "label" not in dataset.column_names:
        raise SentforgeError("CrossEncoder.fit() needs labels, but every InputExample has the default label 0 "
                             "(sentence-transformers then drops the label column). Give the examples their labels.")
    if len(dataset.column_names) != 3:
        raise SentforgeError(f"CrossEncoder.fit() trains on text pairs, but the InputExamples hold "
                             f"{len(dataset.column_names) - 1} texts each. "
                             "Use InputExample(texts=[query, document], label=...).")
    return dataset, batch_size


def _check_examples(loader: Any) -> None:
    """A clear error for a loader that is not a DataLoader over InputExample (checked on its first item)."""
    items = getattr(loader, "dataset", None)
    if not hasattr(loader, "collate_fn") or items is None:
        raise SentforgeError(
            f"CrossEncoder.fit() takes a DataLoader of InputExample, got {type(loader).__name__}. Wrap the "
            "examples: DataLoader([InputExample(texts=[query, document], label=1), ...], shuffle=True, batch_size=16)."
        )
    if isinstance(items, Sequence) and len(items) > 0:
        first = items[0]
        if not hasattr(first, "texts") or not hasattr(first, "label"):
            raise SentforgeError(
                f"CrossEncoder.fit() reads InputExample(texts=[query, document], label=...) items, but the "
                f"DataLoader holds {type(first).__name__} ({first!r:.80}). Build it over InputExample objects: "
                "from sentforge import InputExample."
            )
