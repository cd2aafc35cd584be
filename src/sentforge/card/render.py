"""Render a run record as the model card (README.md), in the form of sentence-transformers' cards.

`template.md` holds the card's skeleton and fixed text; `sections.py` and `evaluation.py` build
the variable parts, `metadata.py` the YAML front matter.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from . import evaluation, sections
from .info import RunInfo
from .metadata import front_matter, hub_base_model, model_name

TEMPLATE_PATH = Path(__file__).with_name("template.md")
HIDE_LOGS_ABOVE = 100
TRAINING_FILES_NOTE = (
    "Files of this run beside the model: `training_curve.png` (the plot above) and `training_run.json` "
    "(the run record this card was rendered from; `sentforge card <model folder>` writes the card again from it)."
)
"""The card's line naming sentforge's own training files (``push_to_hub`` drops it with the files)."""


@cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    return environment.from_string(TEMPLATE_PATH.read_text(encoding="utf-8"))


def render_model_card(info: RunInfo) -> str:
    """The full card text: YAML front matter, then the sections in the seeds' order."""
    card = info.card_data
    training_logs = sections.training_log_table(info) if info.training_logs else ""
    context = {
        "front_matter": front_matter(info),
        "model_name": model_name(info),
        "intro": sections.intro(info),
        "base_model": hub_base_model(info),
        "base_model_revision": (
            f" <!-- at revision {info.base_model_revision} -->" if info.base_model_revision else ""
        ),
        "max_seq_length": info.max_seq_length,
        "output_dimension": info.output_dimension,
        "similarity_name": sections.similarity_name(info),
        "training_datasets": sections.named_train_datasets(info),
        "language": list(card.language or []),
        "license": card.license,
        "architecture": info.architecture,
        "usage_code": sections.usage_code(info),
        "evaluations": evaluation.evaluation_blocks(info),
        "baseline_table": evaluation.baseline_table(info),
        "dataset_sections": [
            (f"{kind.title()} Dataset{'s' if len(datasets) > 1 else ''}", sections.dataset_blocks(datasets, kind))
            for kind, datasets in [("training", info.train_datasets), ("evaluation", info.eval_datasets)]
            if datasets
        ],
        "data_doctor_findings": info.data_doctor_findings.strip(),
        "sampler_notes": list(info.sampler_notes),
        "trained": info.trained,
        "non_default_hyperparameters": sections.hyperparameter_lines(info.non_default_hyperparameters),
        "all_hyperparameters": sections.hyperparameter_lines(info.all_hyperparameters),
        "training_logs": training_logs,
        "explain_bold_row": "**" in training_logs,
        "log_nan_notes": sections.training_log_notes(info),
        "hide_training_logs": len(info.training_logs) > HIDE_LOGS_ABOVE,
        "training_curve": info.training_curve,
        "training_files_note": TRAINING_FILES_NOTE,
        "framework_versions": info.framework_versions,
        "citations": sections.citations(info),
    }
    return sections.with_extra_sections(_template().render(**context), info.extra_sections)
