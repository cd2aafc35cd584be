"""SentenceTransformerTrainer: transformers' Trainer driving sentforge models, losses and evaluators.

Same constructor and behaviour as sentence-transformers' trainer. What it adds: text columns are
tokenized once up front (not per step), bad data is refused before the first step with one clear
error, checkpoints that resume takes are always whole (checkpoints.py), and a baseline evaluation is kept for the model card.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable

import torch
from datasets import Dataset
from torch import nn
from torch.utils.data import ConcatDataset, DataLoader
from transformers import Trainer, TrainerCallback

from ..data.batching import PaddingCollator, TokenizedColumns, collect_features, split_columns
from ..errors import SentforgeError
from .evaluator_steps import EvaluatorSteps
from ..speed import scratch
from ..evaluation.last_run import last_metrics_for
from ..speed.trainer_hooks import SpeedTrainerHooks
from .mixed_precision import WholeLossAutocast
from . import checkpoints
from .args import BatchSamplers, MultiDatasetBatchSamplers, SentenceTransformerTrainingArguments
from .datasets import as_dataset_or_dict
from .training_run import TrainingRun
from .sampler_epochs import SamplerEpochCallback
from .samplers import (
    DefaultBatchSampler,
    GroupByLabelBatchSampler,
    NoDuplicatesBatchSampler,
    ProportionalBatchSampler,
    RoundRobinBatchSampler,
    name_rows,
)

logger = logging.getLogger(__name__)
TRAINING_ARGS_NAME = "training_args.bin"


class SentenceTransformerTrainer(EvaluatorSteps, SpeedTrainerHooks, WholeLossAutocast, Trainer):
    """Train a SentenceTransformer with one loss (or one per dataset) and optional evaluators."""

    def __init__(
        self,
        model=None,
        args: SentenceTransformerTrainingArguments | None = None,
        train_dataset=None,
        eval_dataset=None,
        loss: nn.Module | dict[str, nn.Module] | Callable | None = None,
        evaluator=None,
        data_collator=None,
        tokenizer=None,
        processing_class=None,
        model_init: Callable | None = None,
        compute_metrics=None,
        callbacks: list[TrainerCallback] | None = None,
        optimizers=(None, None),
        optimizer_cls_and_kwargs=None,
        preprocess_logits_for_metrics=None,
        eval_baseline: bool = True,
    ) -> None:
        """As sentence-transformers' trainer; ``eval_baseline=False`` skips evaluating the model before
        training (the card's "Baseline vs Fine-tuned" table then has no baseline column)."""
        if args is None:
            args = SentenceTransformerTrainingArguments(output_dir="trainer_output")
        elif not isinstance(args, SentenceTransformerTrainingArguments):
            raise SentforgeError(
                "args must be a SentenceTransformerTrainingArguments (from sentforge import "
                "SentenceTransformerTrainingArguments); transformers' TrainingArguments lacks the sampler options."
            )
        if model is None:
            if model_init is None:
                raise SentforgeError("Pass model=SentenceTransformer(...) (or model_init) to the trainer.")
            model = model_init()
        train_dataset = as_dataset_or_dict(train_dataset, "train_dataset")
        eval_dataset = as_dataset_or_dict(eval_dataset, "eval_dataset")
        if eval_dataset is None and evaluator is None and str(args.eval_strategy) not in ("no", "IntervalStrategy.NO"):
            raise SentforgeError(
                f"eval_strategy is {args.eval_strategy!s} but there is no eval_dataset or evaluator. Pass one, or set "
                "eval_strategy='no'."
            )
        # Defaults, for the card's "non-default hyperparameters"; reuse the configured accelerator state so
        # building them cannot reset a distributed setup.
        self._defaults = SentenceTransformerTrainingArguments(
            output_dir="unused", accelerator_config={"use_configured_state": True}
        ).to_dict()
        tok = model.tokenizer
        collator = data_collator or PaddingCollator(pad_token_id=(tok.pad_token_id or 0) if tok is not None else 0)
        super().__init__(
            model=model,
            args=args,
            data_collator=collator,
            train_dataset=train_dataset,
            eval_dataset=eval_dataset if eval_dataset is not None or evaluator is None else "dummy",
            processing_class=processing_class or tokenizer,
            model_init=model_init,
            compute_metrics=compute_metrics,
            callbacks=callbacks,
            optimizers=optimizers,
            optimizer_cls_and_kwargs=optimizer_cls_and_kwargs,
            preprocess_logits_for_metrics=preprocess_logits_for_metrics,
        )
        if self.eval_dataset == "dummy":
            self.eval_dataset = None
        self.can_return_loss = True
        if loss is None:
            from ..losses import CoSENTLoss

            loss = CoSENTLoss(model)
        if isinstance(loss, dict):
            self.loss = {name: self._prepare_loss(fn, model) for name, fn in loss.items()}
            for kind, data in (("train", train_dataset), ("eval", eval_dataset)):
                if data is not None and not isinstance(data, dict):
                    raise SentforgeError(f"With a dict of losses, {kind}_dataset must be a dict of datasets too.")
                if data is not None and (missing := set(data) - set(self.loss)):
                    raise SentforgeError(f"No loss given for the {kind} datasets {sorted(missing)}; add them to `loss`.")
        else:
            self.loss = self._prepare_loss(loss, model)
        if evaluator is not None and not callable(evaluator) and isinstance(evaluator, (list, tuple)):
            from ..evaluation import SequentialEvaluator

            evaluator = SequentialEvaluator(list(evaluator))
        self.evaluator = evaluator
        self.baseline_metrics: dict[str, float] | None = None
        self.eval_baseline = eval_baseline
        self.data_doctor_findings: str = ""  # markdown from the data doctor, shown in the card
        self._tokenized_cache: dict[int, Any] = {}
        if self.train_dataset is not None:
            self._validate(self.train_dataset, self.loss, args.per_device_train_batch_size)
        from .run_record import RunRecorder

        self.recorder = RunRecorder(self)
        self.add_callback(self.recorder)
        self.add_callback(checkpoints.CheckpointGuard())
        self.epoch_setter = SamplerEpochCallback()
        self.add_callback(self.epoch_setter)

    # -- losses and data checks --------------------------------------------------------------
    @staticmethod
    def _prepare_loss(loss, model) -> nn.Module:
        if not isinstance(loss, nn.Module):
            loss = loss(model)
        return loss.to(model.device)

    def _validate(self, data, loss, batch_size: int) -> None:
        """Refuse data the loss cannot use, before any training step."""
        from ..losses.validation import validate_loss_inputs

        if isinstance(data, dict):
            for name, part in data.items():
                self._validate(part, loss[name] if isinstance(loss, dict) else loss, batch_size)
            return
        text_columns, label_column = split_columns(data.column_names)
        labels = data[label_column] if label_column else None
        validate_loss_inputs(loss, data.column_names, labels, batch_size, num_rows=len(data))
        for column in text_columns:
            values = data[column]
            bad = [i for i, v in enumerate(values) if not isinstance(v, str) or not v.strip()]
            if bad:
                raise SentforgeError(
                    f"Column {column!r} has {len(bad)} empty or non-text value(s) (first at row {bad[0]}: "
                    f"{values[bad[0]]!r}). Remove or fill those rows before training."
                )

    # -- the training step -------------------------------------------------------------------
    def compute_loss(self, model, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch=None):
        dataset_name = inputs.pop("dataset_name", None)
        features, labels = collect_features(inputs)
        loss_fn = self._loss_for(dataset_name)
        if model is self.model_wrapped and hasattr(loss_fn, "model") and loss_fn.model is not model:
            loss_fn.model = model  # forward through the DDP/compiled wrapper so gradients sync
        loss = loss_fn(features, labels)
        if isinstance(loss, dict):
            loss = torch.stack(list(loss.values())).sum()
        return (loss, {}) if return_outputs else loss

    def _loss_for(self, dataset_name: str | None) -> nn.Module:
        """The loss for a batch of the named dataset (the only loss, if there is just one)."""
        if not isinstance(self.loss, dict):
            return self.loss
        if dataset_name not in self.loss:
            raise SentforgeError(
                f"The losses are given per dataset ({sorted(self.loss)}), but this batch comes from "
                f"{'an unnamed dataset' if dataset_name is None else repr(dataset_name)}. Pass the data as a dict "
                "keyed like `loss`, e.g. trainer.evaluate({name: dataset})."
            )
        return self.loss[dataset_name]

    # -- data loading ------------------------------------------------------------------------
    def _tokenized(self, dataset: Dataset, dataset_name: str | None) -> TokenizedColumns:
        key = (id(dataset), dataset_name)
        cached = self._tokenized_cache.get(key)
        if cached is None or cached.dataset is not dataset:  # an id is reused once its object is gone
            model = self.model
            tokenize_ids = getattr(model._first_module(), "tokenize_ids", None)
            if tokenize_ids is None:  # a first module of the user's own: its tokenizer, without padding

                def tokenize_ids(texts: list[str]) -> list[list[int]]:
                    texts = [str(t).strip() for t in texts]
                    return model.tokenizer(texts, truncation=True, max_length=model.max_seq_length,
                                           padding=False)["input_ids"]

            cached = self._tokenized_cache[key] = TokenizedColumns(dataset, tokenize_ids, self.args.prompts, dataset_name)
        return cached

    def _batch_sampler(self, dataset: Dataset, batch_size: int, generator: torch.Generator):
        choice = self.args.batch_sampler
        kwargs = dict(batch_size=batch_size, drop_last=self.args.dataloader_drop_last, generator=generator,
                      seed=self.args.seed, valid_label_columns=["label", "score"])
        if callable(choice) and not isinstance(choice, BatchSamplers):
            return choice(dataset, **kwargs)
        sampler_class = {
            BatchSamplers.NO_DUPLICATES: NoDuplicatesBatchSampler,
            BatchSamplers.NO_DUPLICATES_HASHED: NoDuplicatesBatchSampler,
            BatchSamplers.GROUP_BY_LABEL: GroupByLabelBatchSampler,
        }.get(choice, DefaultBatchSampler)
        return sampler_class(dataset, **kwargs)

    def _build_dataloader(self, dataset, batch_size: int, dataset_name: str | None = None) -> DataLoader:
        generator = torch.Generator()
        if self.args.seed is not None:
            generator.manual_seed(self.args.seed)
        params = {"collate_fn": self.data_collator, "num_workers": self.args.dataloader_num_workers}
        if isinstance(dataset, dict):
            parts = [self._tokenized(d, name) for name, d in dataset.items()]
            samplers = [self._batch_sampler(d, batch_size, generator) for d in dataset.values()]
            concat = ConcatDataset(parts)
            multi = self.args.multi_dataset_batch_sampler
            if callable(multi) and not isinstance(multi, MultiDatasetBatchSamplers):
                batch_sampler = multi(dataset=concat, batch_samplers=samplers, generator=generator, seed=self.args.seed)
            else:
                cls = RoundRobinBatchSampler if multi == MultiDatasetBatchSamplers.ROUND_ROBIN else ProportionalBatchSampler
                batch_sampler = cls(concat, samplers, generator=generator, seed=self.args.seed)
            return DataLoader(concat, batch_sampler=batch_sampler, **params)
        tokenized = self._tokenized(dataset, dataset_name)
        return DataLoader(tokenized, batch_sampler=self._batch_sampler(dataset, batch_size, generator), **params)

    def get_train_dataloader(self) -> DataLoader:
        if self.train_dataset is None:
            raise SentforgeError("Training needs a train_dataset.")
        self.accelerator.even_batches = False
        loader = self._build_dataloader(self.train_dataset, self.args.train_batch_size)
        name_rows(loader, "training rows")
        self.epoch_setter.sampler = loader.batch_sampler
        return self.accelerator.prepare(loader)

    def get_eval_dataloader(self, eval_dataset: str | Dataset | tuple[str, Dataset] | None = None) -> DataLoader:
        """Batches of one eval dataset; a name (alone, or as ``(name, dataset)``) is put on every batch so
        compute_loss picks that dataset's loss."""
        name = None
        if isinstance(eval_dataset, tuple):
            name, eval_dataset = eval_dataset
        elif isinstance(eval_dataset, str):
            if not isinstance(self.eval_dataset, dict) or eval_dataset not in self.eval_dataset:
                known = sorted(self.eval_dataset) if isinstance(self.eval_dataset, dict) else []
                raise SentforgeError(f"No eval dataset named {eval_dataset!r}; the trainer has {known or 'none'}.")
            name, eval_dataset = eval_dataset, self.eval_dataset[eval_dataset]
        dataset = eval_dataset if eval_dataset is not None else self.eval_dataset
        if dataset is None:
            return DataLoader([])
        self.accelerator.even_batches = True
        loader = self._build_dataloader(dataset, self.args.eval_batch_size, name)
        name_rows(loader, "evaluation rows")
        return self.accelerator.prepare(loader)

    # -- evaluation --------------------------------------------------------------------------
    def evaluate(self, eval_dataset=None, ignore_keys: list[str] | None = None,
                 metric_key_prefix: str = "eval") -> dict[str, float]:
        """Eval loss (and the evaluator's metrics); a dict of datasets is evaluated one at a time, each with
        its own loss, logged as ``<prefix>_<name>_loss``."""
        if eval_dataset is not None and not isinstance(eval_dataset, str):  # a str is a name in self.eval_dataset
            eval_dataset = as_dataset_or_dict(eval_dataset, "eval_dataset")
        if not isinstance(eval_dataset, dict):  # None: transformers walks a dict self.eval_dataset by name
            return super().evaluate(eval_dataset, ignore_keys, metric_key_prefix)
        metrics: dict[str, float] = {}
        for name, dataset in eval_dataset.items():
            metrics.update(super().evaluate((name, dataset), ignore_keys, f"{metric_key_prefix}_{name}"))
        return metrics

    # -- training entry ----------------------------------------------------------------------
    def train(self, resume_from_checkpoint: str | bool | None = None, trial=None, ignore_keys_for_eval=None, **kwargs):
        """Train; ``resume_from_checkpoint=True`` picks the newest complete checkpoint in output_dir."""
        if resume_from_checkpoint is True:
            resume_from_checkpoint = checkpoints.last_complete_checkpoint(self.args.output_dir)
            if resume_from_checkpoint is None:
                raise SentforgeError(
                    f"resume_from_checkpoint=True, but {self.args.output_dir!r} holds no complete checkpoint. "
                    "Start without resuming, or pass the checkpoint folder."
                )
        elif isinstance(resume_from_checkpoint, str) and not os.path.isdir(resume_from_checkpoint):
            raise SentforgeError(f"Checkpoint folder {resume_from_checkpoint!r} does not exist.")
        self.recorder.resumed_from = resume_from_checkpoint
        if self.eval_baseline and self.evaluator is not None and self.baseline_metrics is None and not resume_from_checkpoint:
            # The script's own evaluation of these very weights, if it ran one; else run it now, with no CSV
            # row or log entry (a script's files and log see only its own steps).
            self.baseline_metrics = last_metrics_for(self.evaluator, self.model) or self.run_evaluator(write_csv=False)
        output = super().train(resume_from_checkpoint=resume_from_checkpoint, trial=trial,
                               ignore_keys_for_eval=ignore_keys_for_eval, **kwargs)
        scratch.release()  # the training steps' reused buffers (speed/scratch.py) go back
        self.model.training_run = TrainingRun.from_trainer(self)  # model.save() writes this run's card
        return output

    # -- saving and loading ------------------------------------------------------------------
    def _save(self, output_dir: str | None = None, state_dict=None) -> None:
        if not self.args.should_save:  # transformers calls this on every process; only one may write
            return
        output_dir = output_dir or self.args.output_dir
        os.makedirs(output_dir, exist_ok=True)
        # Checkpoints skip the card (it is written once, with the final model).
        self.model.save(output_dir, create_model_card=not checkpoints.is_checkpoint_folder(output_dir))
        torch.save(self.args, os.path.join(output_dir, TRAINING_ARGS_NAME))

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model=None) -> None:
        from ..model import SentenceTransformer

        loaded = SentenceTransformer(resume_from_checkpoint, device=str(self.model.device))
        self.model.load_state_dict(loaded.state_dict())

    def _load_best_model(self) -> None:
        checkpoint = self.state.best_model_checkpoint
        if checkpoint:
            self.recorder.best_step = int(checkpoint.rsplit("-", 1)[-1])
            self._load_from_checkpoint(checkpoint)
