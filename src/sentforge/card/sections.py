"""The card's variable parts, each built from the run record as ready-to-insert markdown."""

from __future__ import annotations

from typing import Any

from .evaluation import nan_reason
from .info import DatasetInfo, LogRow, LossInfo, RunInfo
from .links import hub_link, json_block, library_link
from .metadata import all_losses, hub_base_model
from .stats import samples_table, statistics_table
from .tables import NOT_A_NUMBER, is_nan, join_names, markdown_table, round4, table_cell
from .widget import STOCK_SENTENCES

SBERT_CITATION = """@inproceedings{reimers-2019-sentence-bert,
    title = "Sentence-BERT: Sentence Embeddings using Siamese BERT-Networks",
    author = "Reimers, Nils and Gurevych, Iryna",
    booktitle = "Proceedings of the 2019 Conference on Empirical Methods in Natural Language Processing",
    month = "11",
    year = "2019",
    publisher = "Association for Computational Linguistics",
    url = "https://arxiv.org/abs/1908.10084",
}"""
SIMILARITY_NAMES = {
    "cosine": "Cosine Similarity",
    "dot": "Dot Product",
    "euclidean": "Euclidean Distance",
    "manhattan": "Manhattan Distance",
}


def similarity_name(info: RunInfo) -> str:
    name = info.similarity_fn_name or "cosine"
    return SIMILARITY_NAMES.get(name, name.replace("_", " ").title())


def named_train_datasets(info: RunInfo) -> list[str]:
    """The named training datasets as markdown (linked when their hub id is known)."""
    return [
        hub_link(d.hub_id, d.name, "datasets/") if d.hub_id else d.name for d in info.train_datasets if d.name
    ]


def intro(info: RunInfo) -> str:
    """The first paragraph: what the model is, what it was trained from and on, what it does."""
    base = hub_base_model(info)
    text = "This is a [sentence-transformers](https://www.SBERT.net) model"
    text += f" finetuned from {hub_link(base)}" if base else " trained"
    names = [d.name for d in info.train_datasets if d.name]
    if names:
        datasets = "s" if len(names) > 1 else ""
        if len(", ".join(names)) > 200:
            text += f" on {len(names)} dataset{datasets}"
        else:
            text += f" on the {join_names(named_train_datasets(info))} dataset{datasets}"
    dimension = info.output_dimension if info.output_dimension is not None else "?"
    return (
        f"{text}. It maps sentences & paragraphs to a {dimension}-dimensional dense vector space "
        f"and can be used for {info.card_data.task_name}."
    )


def usage_code(info: RunInfo) -> str:
    """The Python snippet: load, encode, print the real shape and similarities."""
    sentences = info.usage_sentences or STOCK_SENTENCES
    model_id = info.card_data.model_id or "sentence_transformers_model_id"
    dimension = info.output_dimension if info.output_dimension is not None else "?"
    lines = [
        "from sentence_transformers import SentenceTransformer",
        "",
        "# Download from the 🤗 Hub",
        f'model = SentenceTransformer("{model_id}")',
        "# Run inference",
        "sentences = [",
        *(f"    {sentence!r}," for sentence in sentences),
        "]",
        "embeddings = model.encode(sentences)",
        "print(embeddings.shape)",
        f"# [{len(sentences)}, {dimension}]",
        "",
        "# Get the similarity scores for the embeddings",
        "similarities = model.similarity(embeddings, embeddings)",
    ]
    if info.usage_similarities:
        lines += ["print(similarities)", *(f"# {line}" for line in info.usage_similarities.splitlines())]
    else:
        lines += ["print(similarities.shape)", f"# [{len(sentences)}, {len(sentences)}]"]
    return "\n".join(lines)


def dataset_blocks(datasets: list[DatasetInfo], kind: str) -> list[dict[str, Any]]:
    """Per dataset: heading, source line, size, columns, statistics, samples and loss."""
    return [
        {
            "name": dataset.name or "Unnamed Dataset",
            "source": _source_line(dataset),
            "size": f"* Size: {dataset.size:,} {kind} samples" if dataset.size else "",
            "columns": f"* Columns: {_columns_text(dataset.columns)}",
            "stats_rows": dataset.stats_rows or min(dataset.size, 1000),
            "statistics": statistics_table(dataset),
            "samples": samples_table(dataset),
            "loss": _loss_line(dataset.loss),
        }
        for dataset in datasets
    ]


def _source_line(dataset: DatasetInfo) -> str:
    if not dataset.name:
        return ""
    if not dataset.hub_id:
        return f"* Dataset: {dataset.name}"
    line = f"* Dataset: {hub_link(dataset.hub_id, dataset.name, 'datasets/')}"
    if dataset.revision:
        tree = f"https://huggingface.co/datasets/{dataset.hub_id}/tree/{dataset.revision}"
        line += f" at [{dataset.revision[:7]}]({tree})"
    return line


def _columns_text(columns: list[str]) -> str:
    """"<code>a</code> and <code>b</code>", or with three and more "a, b, and c"."""
    codes = [f"<code>{column}</code>" for column in columns]
    if len(codes) > 2:
        return ", ".join(codes[:-1]) + ", and " + codes[-1]
    return " and ".join(codes)


def _loss_line(loss: LossInfo | None) -> str:
    if loss is None:
        return ""
    line = "* Loss: " + library_link(loss.fullname, loss.name, "losses", loss.name.lower())
    if loss.config is not None:
        line += f" with these parameters:\n{json_block(loss.config)}"
    return line


def training_log_table(info: RunInfo) -> str:
    """The log as a centered table; the kept checkpoint's row in bold; "-" where empty."""
    rows = [_log_columns(row) for row in info.training_logs]
    seen = list(dict.fromkeys(key for row in rows for key in row))
    fixed = ["Epoch", "Step", "Training Loss", "Validation Loss"]

    def column_order(key: str) -> int:
        if key in fixed:
            return fixed.index(key)
        return 4 if key.endswith("loss") else 5 + seen.index(key)

    keys = sorted(seen, key=column_order)
    table_rows = []
    for row, source in zip(rows, info.training_logs):
        if source.step == info.best_step:
            cells = {key: f"**{_log_cell(round4(row[key])) if key in row else '-'}**" for key in keys}
        else:
            cells = {key: _log_cell(row[key]) if key in row else "-" for key in keys}
        table_rows.append(cells)
    return markdown_table(table_rows, centered=True).rstrip("\n")


def training_log_notes(info: RunInfo) -> list[str]:
    """One line per log column that has NaN cells: at which steps, why, and what to do."""
    steps_by_column: dict[str, list[int]] = {}
    for row in info.training_logs:
        for key, value in _log_columns(row).items():
            if is_nan(value):
                steps_by_column.setdefault(key, []).append(row.step)
    return [
        f"* `{key}` is {NOT_A_NUMBER} at step{'s' if len(steps) > 1 else ''} "
        f"{', '.join(map(str, steps))}: {nan_reason(info, key)}."
        for key, steps in steps_by_column.items()
    ]


def _log_columns(row: LogRow) -> dict[str, Any]:
    columns: dict[str, Any] = {"Epoch": row.epoch, "Step": row.step}
    if row.training_loss is not None:
        columns["Training Loss"] = row.training_loss
    if row.validation_loss is not None:
        columns["Validation Loss"] = row.validation_loss
    columns.update(row.metrics)
    return columns


def _log_cell(value: Any) -> str:
    return NOT_A_NUMBER if is_nan(value) else table_cell(value)


def citations(info: RunInfo) -> dict[str, str]:
    """Title -> BibTeX: Sentence-BERT first, then each loss; losses sharing a citation share a title."""
    by_citation: dict[str, list[str]] = {SBERT_CITATION: ["Sentence Transformers"]}
    for loss in all_losses(info):
        if loss.citation and loss.citation.strip():
            by_citation.setdefault(loss.citation.strip(), []).append(loss.name)
    return {join_names(names): citation for citation, names in by_citation.items()}


def hyperparameter_lines(parameters: dict[str, Any]) -> list[str]:
    return [f"- `{name}`: {value}" for name, value in parameters.items()]


TRAINING_DETAILS = "## Training Details"


def with_extra_sections(card: str, extra: list[str]) -> str:
    """``card`` with each section of ``extra`` placed before "## Training Details" (else at the end)."""
    if not extra:
        return card
    block = "".join(section.strip() + "\n\n" for section in extra)
    if TRAINING_DETAILS in card:
        return card.replace(TRAINING_DETAILS, block + TRAINING_DETAILS, 1)
    return card.rstrip() + "\n\n" + block.rstrip() + "\n"
