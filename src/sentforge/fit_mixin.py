"""``SentenceTransformer.fit``: the v2 training API (InputExample DataLoaders + losses).

Training modules load only when ``fit`` is called, so ``import sentforge`` stays fast.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np
import torch
from torch import Tensor, nn


class FitMixin:
    """Adds ``fit`` and ``smart_batching_collate`` to SentenceTransformer."""

    def fit(
        self,
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
        """Train with ``[(DataLoader(examples, shuffle=True, batch_size=16), loss), ...]``, as sentence-transformers'
        ``fit``: each DataLoader of ``InputExample`` becomes a dataset (columns sentence_0..n, plus label unless
        every label is 0), trained by SentenceTransformerTrainer with one batch of each objective in turn.

        ``optimizer_params`` defaults to ``{"lr": 2e-5}``. ``evaluator`` runs every ``evaluation_steps`` and at
        each epoch end; with ``output_path`` the best model (by the evaluator's primary metric; with
        ``save_best_model``) or, without an evaluator, the final model is saved there. ``checkpoint_path``
        enables checkpoints every ``checkpoint_save_steps``; ``callback(score, epoch, steps)`` is called after
        each evaluation. Unknown scheduler names raise ValueError.
        """
        from .training.fit import run_fit

        run_fit(
            self, train_objectives, evaluator=evaluator, epochs=epochs, steps_per_epoch=steps_per_epoch,
            scheduler=scheduler, warmup_steps=warmup_steps, optimizer_class=optimizer_class,
            optimizer_params=optimizer_params, weight_decay=weight_decay, evaluation_steps=evaluation_steps,
            output_path=output_path, save_best_model=save_best_model, max_grad_norm=max_grad_norm, use_amp=use_amp,
            callback=callback, show_progress_bar=show_progress_bar, checkpoint_path=checkpoint_path,
            checkpoint_save_steps=checkpoint_save_steps, checkpoint_save_total_limit=checkpoint_save_total_limit,
            resume_from_checkpoint=resume_from_checkpoint,
        )

    def smart_batching_collate(self, batch: list[Any]) -> tuple[list[dict[str, Tensor]], Tensor]:
        """A batch of InputExamples -> (one tokenized batch per text position, label tensor), for
        v2-style DataLoaders that use ``collate_fn=model.smart_batching_collate``."""
        texts = [example.texts for example in batch]
        features = [self.tokenize(list(column)) for column in zip(*texts)]
        labels = [example.label for example in batch]
        if labels and isinstance(labels[0], np.ndarray):
            return features, torch.from_numpy(np.stack(labels))
        return features, torch.tensor(labels)
