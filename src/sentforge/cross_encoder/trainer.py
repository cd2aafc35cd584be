"""CrossEncoderTrainer: transformers' Trainer driving a CrossEncoder, its loss and evaluators.

Same constructor and behaviour as sentence-transformers' CrossEncoderTrainer. Batches are text
columns (the losses tokenize their pairs); the model runs the padding-free forward and the
optimizer is sentforge's row-aware AdamW (same updates as torch's). With an evaluator, ``train()``
evaluates the base model first (``baseline_metrics``); the card compares it with the result.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable

import torch
from datasets import Dataset, IterableDataset
from torch import nn
from torch.utils.data import ConcatDataset, DataLoader
from transformers import Trainer, TrainerCallback

from ..errors import SentforgeError
from ..training.evaluator_steps import EvaluatorSteps
from ..evaluation.last_run import last_metrics_for
from ..speed.trainer_hooks import SpeedTrainerHooks
from ..training.mixed_precision import WholeLossAutocast
from ..training import checkpoints
from ..training.args import BatchSamplers, MultiDatasetBatchSamplers
from ..training.datasets import as_dataset_or_dict
from ..training.run_record import RunRecorder
from ..training.training_run import TrainingRun
from ..training.sampler_epochs import SamplerEpochCallback
from ..training.samplers import (
    DefaultBatchSampler,
    NoDuplicatesBatchSampler,
    ProportionalBatchSampler,
    RoundRobinBatchSampler,
)
from .data_collator import CrossEncoderDataCollator
from .model import CrossEncoder
from .training_args import CrossEncoderTrainingArguments

logger = logging.getLogger(__name__)
TRAINING_ARGS_NAME = "training_args.bin"


class CrossEncoderTrainer(EvaluatorSteps, SpeedTrainerHooks, WholeLossAutocast, Trainer):
    """Train a CrossEncoder with one loss (or one per dataset) and optional evaluators."""

    def __init__(self, model: CrossEncoder | None = None, args: CrossEncoderTrainingArguments | None = None,
                 train_dataset=None, eval_dataset=None, loss: nn.Module | dict | Callable | None = None,
                 evaluator=None, data_collator=None, tokenizer=None, processing_class=None,
                 model_init: Callable | None = None, compute_metrics=None,
                 callbacks: list[TrainerCallback] | None = None, optimizers=(None, None),
                 optimizer_cls_and_kwargs=None, preprocess_logits_for_metrics=None) -> None:
        args = args or CrossEncoderTrainingArguments(output_dir="trainer_output")
        if model is None:
            if model_init is None:
                raise SentforgeError("Pass model=CrossEncoder(...) (or model_init) to the trainer.")
            model = model_init()
        for kind, data in (("train", train_dataset), ("eval", eval_dataset)):
            if isinstance(data, IterableDataset) or (isinstance(data, dict) and any(
                    isinstance(part, IterableDataset) for part in data.values())):
                raise SentforgeError(f"CrossEncoderTrainer needs a Dataset for `{kind}_dataset`, not an "
                                     "IterableDataset; materialise it first.")
        train_dataset = as_dataset_or_dict(train_dataset, "train_dataset")
        eval_dataset = as_dataset_or_dict(eval_dataset, "eval_dataset")
        if eval_dataset is None and evaluator is None and str(args.eval_strategy) not in ("no", "IntervalStrategy.NO"):
            raise SentforgeError(f"eval_strategy is {args.eval_strategy!s} but there is no eval_dataset or evaluator. "
                                 "Pass one, or set eval_strategy='no'.")
        self._defaults = CrossEncoderTrainingArguments(
            output_dir="unused", accelerator_config={"use_configured_state": True}).to_dict()
        collator = data_collator or CrossEncoderDataCollator(
            preprocess_fn=model.preprocess, prompts=args.prompts, router_mapping=args.router_mapping)
        super().__init__(
            model=model, args=args, data_collator=collator, train_dataset=train_dataset,
            eval_dataset=eval_dataset if eval_dataset is not None or evaluator is None else "dummy",
            processing_class=processing_class or tokenizer, model_init=model_init, compute_metrics=compute_metrics,
            callbacks=callbacks, optimizers=optimizers, optimizer_cls_and_kwargs=optimizer_cls_and_kwargs,
            preprocess_logits_for_metrics=preprocess_logits_for_metrics,
        )
        if self.eval_dataset == "dummy":
            self.eval_dataset = None
        self.can_return_loss = True
        if loss is None:
            from .losses import BinaryCrossEntropyLoss, CrossEntropyLoss

            loss = BinaryCrossEntropyLoss(model) if model.num_labels == 1 else CrossEntropyLoss(model)
        if isinstance(loss, dict):
            self.loss = {name: self._prepare_loss(part, model) for name, part in loss.items()}
        else:
            self.loss = self._prepare_loss(loss, model)
        if isinstance(evaluator, (list, tuple)):
            from ..evaluation import SequentialEvaluator

            evaluator = SequentialEvaluator(list(evaluator))
        self.evaluator = evaluator
        self.baseline_metrics: dict[str, float] | None = None
        self.recorder = RunRecorder(self)
        self.add_callback(self.recorder)
        self.add_callback(checkpoints.CheckpointGuard())
        self.epoch_setter = SamplerEpochCallback()
        self.add_callback(self.epoch_setter)

    @staticmethod
    def _prepare_loss(loss, model) -> nn.Module:
        if not isinstance(loss, nn.Module):
            loss = loss(model)
        return loss.to(model.device)

    # -- the training step ---------------------------------------------------------------------
    def compute_loss(self, model, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch=None):
        dataset_name = inputs.pop("dataset_name", None)
        prompt, task = inputs.pop("prompt", None), inputs.pop("task", None)
        labels = inputs.pop("label", None)
        features = list(inputs.values())
        loss_fn = self.loss[dataset_name] if isinstance(self.loss, dict) else self.loss
        try:
            loss = loss_fn(features, labels, prompt=prompt, task=task)
        except TypeError as err:
            if "prompt" not in str(err) and "task" not in str(err):
                raise
            loss = loss_fn(features, labels)
        if isinstance(loss, dict):
            loss = torch.stack(list(loss.values())).sum()
        return (loss, {}) if return_outputs else loss

    # -- data loading --------------------------------------------------------------------------
    def _batch_sampler(self, dataset: Dataset, batch_size: int, generator: torch.Generator):
        choice = self.args.batch_sampler
        kwargs = dict(batch_size=batch_size, drop_last=self.args.dataloader_drop_last, generator=generator,
                      seed=self.args.seed, valid_label_columns=["label", "labels", "score", "scores"])
        if callable(choice) and not isinstance(choice, BatchSamplers):
            return choice(dataset, **kwargs)
        if choice == BatchSamplers.GROUP_BY_LABEL:
            raise SentforgeError("batch_sampler='group_by_label' is for embedding losses; use 'batch_sampler' or "
                                 "'no_duplicates' with a CrossEncoder.")
        duplicates = (BatchSamplers.NO_DUPLICATES, BatchSamplers.NO_DUPLICATES_HASHED)
        return (NoDuplicatesBatchSampler if choice in duplicates else DefaultBatchSampler)(dataset, **kwargs)

    def _build_dataloader(self, dataset, batch_size: int) -> DataLoader:
        generator = torch.Generator()
        if self.args.seed is not None:
            generator.manual_seed(self.args.seed)
        params = {"collate_fn": self.data_collator, "num_workers": self.args.dataloader_num_workers}
        if not isinstance(dataset, dict):
            return DataLoader(dataset, batch_sampler=self._batch_sampler(dataset, batch_size, generator), **params)
        parts = [_NamedRows(part, name) for name, part in dataset.items()]
        samplers = [self._batch_sampler(part, batch_size, generator) for part in dataset.values()]
        concat = ConcatDataset(parts)
        multi = self.args.multi_dataset_batch_sampler
        if callable(multi) and not isinstance(multi, MultiDatasetBatchSamplers):
            sampler = multi(dataset=concat, batch_samplers=samplers, generator=generator, seed=self.args.seed)
        else:
            cls = RoundRobinBatchSampler if multi == MultiDatasetBatchSamplers.ROUND_ROBIN else ProportionalBatchSampler
            sampler = cls(concat, samplers, generator=generator, seed=self.args.seed)
        return DataLoader(concat, batch_sampler=sampler, **params)

    def get_train_dataloader(self) -> DataLoader:
        if self.train_dataset is None:
            raise SentforgeError("Training needs a train_dataset.")
        self.accelerator.even_batches = False
        loader = self._build_dataloader(self.train_dataset, self.args.train_batch_size)
        self.epoch_setter.sampler = loader.batch_sampler
        return self.accelerator.prepare(loader)

    def get_eval_dataloader(self, eval_dataset=None) -> DataLoader:
        dataset = eval_dataset if eval_dataset is not None else self.eval_dataset
        if isinstance(dataset, str):
            dataset = self.eval_dataset[dataset]
        if dataset is None:
            return DataLoader([])
        self.accelerator.even_batches = True
        return self.accelerator.prepare(self._build_dataloader(dataset, self.args.eval_batch_size))

    # -- training entry ------------------------------------------------------------------------
    def train(self, resume_from_checkpoint: str | bool | None = None, trial=None, ignore_keys_for_eval=None,
              **kwargs):
        """Train; with an evaluator, the base model is evaluated first (``baseline_metrics``)."""
        if self.evaluator is not None and self.baseline_metrics is None and not resume_from_checkpoint:
            self.baseline_metrics = last_metrics_for(self.evaluator, self.model) or self.run_evaluator(write_csv=False)
        output = super().train(resume_from_checkpoint=resume_from_checkpoint, trial=trial,
                               ignore_keys_for_eval=ignore_keys_for_eval, **kwargs)
        self.model.training_run = TrainingRun.from_trainer(self)  # model.save() writes this run's card
        return output

    # -- saving and loading --------------------------------------------------------------------
    def _save(self, output_dir: str | None = None, state_dict=None) -> None:
        if not self.args.should_save:
            return
        output_dir = output_dir or self.args.output_dir
        os.makedirs(output_dir, exist_ok=True)
        self.model.save(output_dir, create_model_card=not checkpoints.is_checkpoint_folder(output_dir))
        torch.save(self.args, os.path.join(output_dir, TRAINING_ARGS_NAME))

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model=None) -> None:
        """The checkpoint's weights, read by transformers (which maps the names its save may have changed)."""
        from transformers import AutoModelForSequenceClassification

        weights = os.path.join(resume_from_checkpoint, "model.safetensors")
        if not os.path.isfile(weights):
            raise SentforgeError(f"{resume_from_checkpoint!r} holds no model.safetensors to resume from.")
        loaded = AutoModelForSequenceClassification.from_pretrained(resume_from_checkpoint, use_safetensors=True)
        self.model.model.load_state_dict(loaded.state_dict())

    def _load_best_model(self) -> None:
        checkpoint = self.state.best_model_checkpoint
        if checkpoint:
            self.recorder.best_step = int(checkpoint.rsplit("-", 1)[-1])
            self._load_from_checkpoint(checkpoint)


class _NamedRows(torch.utils.data.Dataset):
    """The rows of one dataset, each with its dataset's name (which loss and prompt apply)."""

    def __init__(self, dataset: Dataset, name: str) -> None:
        self.dataset, self.name = dataset, name

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {**self.dataset[index], "dataset_name": self.name}
