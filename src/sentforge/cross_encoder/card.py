"""The CrossEncoder's model card (README.md): YAML front matter, then sentence-transformers' sections.

The run record is sentforge's ``card.info.RunInfo`` (the embedding card's record); the tables
(dataset statistics, evaluation, baseline vs fine-tuned, logs) are built by the shared card helpers.
"""

from __future__ import annotations

from typing import Any

import jinja2
import yaml
from torch import nn

from ..card import evaluation as card_evaluation
from ..card import sections
from ..card.info import CROSS_ENCODER_KIND, RunInfo, collect_framework_versions
from ..card.links import json_block
from ..card.metadata import card_tags, dataset_ids, short_metrics, task_type
from ..card.tables import is_nan
from .card_template import TEMPLATE

DOCS = "https://sbert.net/docs/package_reference/cross_encoder"
_EGG = "How many calories in an egg"
STOCK_PAIRS = [
    [_EGG, "There are on average between 55 and 80 calories in an egg depending on its size."],
    [_EGG, "Egg whites are very low in calories, have no fat, no cholesterol, and are loaded with protein."],
    [_EGG, "Most of the calories in an egg come from the yellow yolk in the center."],
]


def run_record(model) -> RunInfo:
    """The record of a model saved without training: architecture and usage only."""
    return RunInfo(
        card_data=model.model_card_data,
        architecture=repr(model),
        max_seq_length=model.max_length,
        output_dimension=model.num_labels,
        similarity_fn_name=None,
        model_kind=CROSS_ENCODER_KIND,
        base_model=model.base_model_id,
        framework_versions=collect_framework_versions(),
    )


def render_card(info: RunInfo) -> str:
    """The card text for a run record whose ``output_dimension`` is the model's number of labels."""
    num_labels = info.output_dimension or 1
    context = {
        "front_matter": front_matter(info, num_labels),
        "model_name": card_title(info),
        "intro": _intro(info),
        "base_model": _hub_base(info),
        "max_length": info.max_seq_length,
        "num_labels": num_labels,
        "training_datasets": sections.named_train_datasets(info),
        "language": list(info.card_data.language or []),
        "license": info.card_data.license,
        "architecture": info.architecture,
        "usage_code": usage_code(info, num_labels),
        "evaluations": [_relink(block) for block in card_evaluation.evaluation_blocks(info)],
        "baseline_table": card_evaluation.baseline_table(info),
        "dataset_sections": [
            (f"{kind.title()} Dataset{'s' if len(datasets) > 1 else ''}", _dataset_blocks(datasets, kind))
            for kind, datasets in [("training", info.train_datasets), ("evaluation", info.eval_datasets)]
            if datasets
        ],
        "non_default_hyperparameters": sections.hyperparameter_lines(info.non_default_hyperparameters),
        "all_hyperparameters": sections.hyperparameter_lines(info.all_hyperparameters),
        "training_logs": sections.training_log_table(info) if info.training_logs else "",
        "framework_versions": info.framework_versions,
        "citations": sections.citations(info),
    }
    environment = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    card = environment.from_string(TEMPLATE).render(**context).rstrip() + "\n"
    return sections.with_extra_sections(card, info.extra_sections)


def card_title(info: RunInfo) -> str:
    if info.card_data.model_name:
        return info.card_data.model_name
    base = _hub_base(info)
    return f"CrossEncoder based on {base}" if base else "CrossEncoder"


def front_matter(info: RunInfo, num_labels: int) -> str:
    """YAML keys in sentence-transformers' order; empty ones dropped; NaN metrics left out."""
    metadata: dict[str, Any] = {
        "language": list(info.card_data.language or []),
        "license": info.card_data.license,
        "tags": card_tags(info),
        "base_model": _hub_base(info),
        "datasets": dataset_ids(info),
        "pipeline_tag": "text-ranking" if num_labels == 1 else "text-classification",
        "library_name": "sentence-transformers",
        "metrics": list(dict.fromkeys(k for r in info.evaluator_results for k in short_metrics(r)[0])),
        "model-index": _model_index(info),
    }
    metadata = {key: value for key, value in metadata.items() if value not in (None, [], "")}
    return yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True).strip()


def usage_code(info: RunInfo, num_labels: int) -> str:
    """predict on a few pairs, then rank for a one-label model."""
    model_id = info.card_data.model_id or "cross_encoder_model_id"
    lines = ["from sentence_transformers import CrossEncoder", "", "# Download from the \U0001f917 Hub",
             f'model = CrossEncoder("{model_id}")', "# Get scores for pairs of inputs", "pairs = ["]
    lines += [f"    {pair!r}," for pair in STOCK_PAIRS]
    shape = f"({len(STOCK_PAIRS)}, {num_labels})" if num_labels > 1 else f"({len(STOCK_PAIRS)},)"
    lines += ["]", "scores = model.predict(pairs)", "print(scores.shape)", f"# {shape}"]
    if num_labels == 1:
        lines += ["", "# Or rank different texts based on similarity to a single text", "ranks = model.rank(",
                  f"    {STOCK_PAIRS[0][0]!r},", "    ["]
        lines += [f"        {pair[1]!r}," for pair in STOCK_PAIRS]
        lines += ["    ]", ")", "# [{'corpus_id': ..., 'score': ...}, {'corpus_id': ..., 'score': ...}, ...]"]
    return "\n".join(lines)


def _intro(info: RunInfo) -> str:
    base = _hub_base(info)
    source = f" finetuned from [{base}](https://huggingface.co/{base})" if base else " trained"
    named = sections.named_train_datasets(info)
    data = f" on the {', '.join(named)} dataset{'s' if len(named) > 1 else ''}" if named else ""
    task = info.card_data.task_name or "text reranking and semantic search"
    return (
        f"This is a [Cross Encoder](https://www.sbert.net/docs/cross_encoder/usage/usage.html) model{source}{data} "
        f"using the [sentence-transformers](https://www.SBERT.net) library. It computes scores for pairs of "
        f"texts, which can be used for {task}."
    )


def _hub_base(info: RunInfo) -> str | None:
    from ..card.metadata import hub_base_model

    return hub_base_model(info)


def _model_index(info: RunInfo) -> list[dict[str, Any]] | None:
    results = []
    for result in info.evaluator_results:
        metrics, _ = short_metrics(result)
        values = []
        for key, value in metrics.items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            if not is_nan(number) and abs(number) != float("inf"):
                values.append({"type": key, "value": number, "name": key.replace("_", " ").title()})
        if values:
            name = result.name or "unknown"
            results.append({"task": {"type": task_type(result), "name": result.description},
                            "dataset": {"name": name.replace("_", " ").replace("-", " "), "type": name},
                            "metrics": values})
    return [{"name": card_title(info), "results": results}] if results else None


def _relink(block: dict[str, Any]) -> dict[str, Any]:
    """Point library evaluators at the cross-encoder documentation."""
    text = block["evaluated_with"].replace(
        "https://sbert.net/docs/package_reference/sentence_transformer/evaluation.html#sentence_transformers.evaluation.",
        f"{DOCS}/evaluation.html#sentence_transformers.cross_encoder.evaluation.",
    )
    return {**block, "evaluated_with": text}


def _dataset_blocks(datasets, kind: str) -> list[dict[str, Any]]:
    blocks = sections.dataset_blocks(datasets, kind)
    for block, dataset in zip(blocks, datasets):
        loss = dataset.loss
        if loss is None:
            continue
        library = loss.fullname is None or loss.fullname.startswith(("sentforge.", "sentence_transformers."))
        line = (f"* Loss: [<code>{loss.name}</code>]({DOCS}/losses.html#{loss.name.lower()})" if library
                else f"* Loss: <code>{loss.fullname}</code>")
        if loss.config is not None:
            line += f" with these parameters:\n{json_block(loss.config)}"
        block["loss"] = line
    return blocks


def trainer_record(run, model) -> RunInfo:
    """Everything the card shows about a training run, read from its record (``model.training_run``)."""
    from ..training.card_record import hyperparameters, log_rows

    card_data = model.model_card_data
    results = list(card_data.evaluator_results)
    all_args, non_default = hyperparameters(run.args, run.default_args)
    nan_reasons = getattr(run.evaluator, "nan_reasons", {}) or {}
    record = run_record(model)
    record.train_datasets = _describe(run.train_dataset, run.loss, model, card_data.train_datasets)
    record.eval_datasets = _describe(run.eval_dataset, run.loss, model, card_data.eval_datasets)
    record.evaluator_results = results
    record.baseline_metrics = dict(run.baseline_metrics)
    record.all_hyperparameters = all_args
    record.non_default_hyperparameters = non_default
    primary = [result.primary_metric for result in results if result.primary_metric]
    record.training_logs = log_rows(run.log_history, primary)
    record.best_step = run.best_step
    record.nan_reasons = {k: v for k, v in nan_reasons.items() if isinstance(v, str)}
    return record


def _describe(data, loss, model, names: list[dict[str, str]]) -> list:
    """The card's description of each dataset: size, columns, token statistics, samples, loss."""
    from ..card.stats import describe_dataset
    from ..training.card_record import loss_info

    if data is None:
        return []
    parts = data.items() if isinstance(data, dict) else [(None, data)]

    def count_tokens(texts: list[str]) -> list[int]:
        encoded = model.tokenizer(list(texts), truncation=True, max_length=model.max_length)["input_ids"]
        return [len(ids) for ids in encoded]

    described = []
    for index, (name, dataset) in enumerate(parts):
        part_loss = loss[name] if isinstance(loss, dict) and name in loss else loss
        given = names[index] if index < len(names) else {}
        described.append(describe_dataset(
            dataset, count_tokens, name=given.get("name") or name,
            loss=loss_info(part_loss) if isinstance(part_loss, nn.Module) else None,
            hub_id=given.get("id"), revision=given.get("revision"),
        ))
    return described
