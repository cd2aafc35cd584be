"""Write a CrossEncoder to disk in sentence-transformers' CrossEncoder folder format."""

from __future__ import annotations

import logging
import os
import warnings

from .. import format as fmt
from . import folder

logger = logging.getLogger(__name__)
CARD_FILE = "README.md"


def save_cross_encoder(model, path: str, model_name: str | None = None, create_model_card: bool = True) -> None:
    """Weights (safetensors), config.json with the activation, tokenizer, 6.x's JSON files and the card.

    All or nothing, as ``SentenceTransformer.save``: a failed save leaves ``path`` as it was; the
    files of a model saved there before are replaced, anything else in the folder is kept.
    """
    activation = folder.activation_path(model.activation_fn)
    versions = fmt.framework_versions()
    config = model.model.config
    config.sentence_transformers = {"activation_fn": activation, "version": versions.get("sentforge")}
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        with fmt.atomic_directory(path, stale=fmt.previous_model_entries(path)) as staging:
            _write_files(model, staging, activation, versions, model_name, create_model_card)
    finally:
        if bars:
            hf_logging.enable_progress_bar()


def _write_files(model, staging: str, activation: str | None, versions: dict, model_name: str | None,
                 create_model_card: bool) -> None:
    tokenizer = model.tokenizer
    if model.max_length is not None:
        tokenizer.model_max_length = model.max_length
    model.model.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    folder.write_settings(staging, activation, model.prompts, model.default_prompt_name, versions)
    if create_model_card:
        _write_card(model, staging, model_name)


def _write_card(model, staging: str, model_name: str | None) -> None:
    """README.md (and for a trained model the run record, training_run.json, that `sentforge card`
    regenerates it from); a card problem is reported and never costs the model."""
    try:
        from .card import render_card, run_record, trainer_record

        run = getattr(model, "training_run", None)
        record = trainer_record(run, model) if run is not None else run_record(model)
        if model_name and not record.card_data.model_name:
            record.card_data.model_name = model_name
        if run is None:
            with open(os.path.join(staging, CARD_FILE), "w", encoding="utf-8") as handle:
                handle.write(render_card(record))
            return
        from ..card.write import write_model_card

        problem = write_model_card(staging, record)  # README.md and the run record that regenerates it
    except Exception as err:  # noqa: BLE001 - the model is saved either way; say why the card is missing
        problem = f"The model was saved, but its model card could not be written: {type(err).__name__}: {err}"
    if problem:
        logger.error(problem)
        warnings.warn(problem, stacklevel=3)
