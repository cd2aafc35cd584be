"""Fill the model card's run record (card.info.RunInfo) from a finished run's TrainingRun."""

from __future__ import annotations

from typing import Any

from ..card.info import DatasetInfo, LogRow, LossInfo, RunInfo, collect_framework_versions
from ..card.stats import describe_dataset, token_counter
from ..card.widget import usage_similarities, widget_examples
from ..losses.display import loss_display_name
from ..modules import Normalize
from .training_run import TrainingRun

# Arguments the card leaves out, as sentence-transformers does (logging/saving plumbing, secrets).
IGNORED_ARGS = {
    "output_dir", "logging_dir", "logging_strategy", "logging_first_step", "logging_steps", "eval_steps",
    "eval_delay", "save_strategy", "save_steps", "save_total_limit", "metric_for_best_model", "greater_is_better",
    "report_to", "samples_per_label", "show_progress_bar", "do_train", "do_eval", "do_test", "run_name",
    "hub_token", "push_to_hub_token",
}


def loss_info(loss) -> LossInfo:
    """Name, config and citation of a loss (and of a loss it wraps, e.g. under MatryoshkaLoss)."""
    cls = type(loss)
    wrapped = [loss_info(inner) for inner in (getattr(loss, "loss", None),) if hasattr(inner, "forward")]
    config = loss.get_config_dict() if hasattr(loss, "get_config_dict") else None
    return LossInfo(
        name=loss_display_name(loss),
        fullname=f"{cls.__module__}.{cls.__qualname__}",
        config=config,
        citation=getattr(loss, "citation", None),
        wrapped=wrapped,
    )


def hyperparameters(args, defaults: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(all, non-default) training arguments as the card lists them."""
    values = {k: v for k, v in args.to_dict().items() if k not in IGNORED_ARGS}
    non_default = {k: v for k, v in values.items() if k in defaults and v != defaults[k]}
    return values, non_default


def log_rows(log_history: list[dict[str, Any]], primary_metrics: list[str]) -> list[LogRow]:
    """Merge the trainer's log entries by step: training loss, validation loss, primary metrics."""
    rows: dict[int, LogRow] = {}
    for entry in log_history:
        step = int(entry.get("step", 0))
        if "train_runtime" in entry:
            continue
        row = rows.setdefault(step, LogRow(epoch=round(float(entry.get("epoch") or 0), 4), step=step))
        if "loss" in entry:
            row.training_loss = float(entry["loss"])
        if "eval_loss" in entry:
            row.validation_loss = float(entry["eval_loss"])
        for metric in primary_metrics:
            if f"eval_{metric}" in entry:
                row.metrics[metric] = float(entry[f"eval_{metric}"])
    return [rows[s] for s in sorted(rows)]


def _datasets(data, loss, model, names: list[dict[str, str]]) -> list[DatasetInfo]:
    if data is None:
        return []
    parts = data.items() if isinstance(data, dict) else [(None, data)]
    counter = token_counter(model)
    infos = []
    for index, (name, dataset) in enumerate(parts):
        part_loss = loss[name] if isinstance(loss, dict) and name in loss else loss
        given = names[index] if index < len(names) else {}
        infos.append(
            describe_dataset(
                dataset, counter, name=given.get("name") or name, loss=loss_info(part_loss) if part_loss is not None else None,
                hub_id=given.get("id"), revision=given.get("revision"),
            )
        )
    return infos



def build_run_info(run: TrainingRun, model) -> RunInfo:
    """Everything the card shows about this run, read from its record and the model."""
    card_data = model.model_card_data
    results = [] if run.interruption_note else list(card_data.evaluator_results)
    primary = [r.primary_metric for r in card_data.evaluator_results if r.primary_metric]
    all_args, non_default = hyperparameters(run.args, run.default_args)
    nan_reasons = dict(getattr(run.evaluator, "nan_reasons", {}) or {})
    findings = f"{run.interruption_note}\n\n{run.data_doctor_findings}".strip()
    info = RunInfo(
        card_data=card_data,
        architecture=str(model),
        max_seq_length=model.max_seq_length,
        output_dimension=model.get_sentence_embedding_dimension(),
        similarity_fn_name=model.similarity_fn_name,
        has_normalize=any(isinstance(m, Normalize) for m in model),
        base_model=model.base_model_id,
        train_datasets=_datasets(run.train_dataset, run.loss, model, card_data.train_datasets),
        eval_datasets=_datasets(run.eval_dataset, run.loss, model, card_data.eval_datasets),
        evaluator_results=results,
        baseline_metrics=dict(run.baseline_metrics),
        all_hyperparameters=all_args,
        non_default_hyperparameters=non_default,
        training_logs=log_rows(run.log_history, primary),
        best_step=run.best_step,
        framework_versions=collect_framework_versions(),
        data_doctor_findings=findings,
        nan_reasons={k: v for k, v in nan_reasons.items() if isinstance(v, str)},
        sampler_notes=list(run.sampler_notes),
    )
    if card_data.generate_widget_examples:
        source = run.eval_dataset if run.eval_dataset is not None else run.train_dataset
        if source is not None:
            info.widget, info.usage_sentences = widget_examples(source, seed=run.args.seed)
        if info.usage_sentences:
            info.usage_similarities = usage_similarities(model, info.usage_sentences)
    return info

