"""Write a SentenceTransformer to disk in the sentence-transformers folder format."""

from __future__ import annotations

import logging
import os
import warnings
from typing import TYPE_CHECKING

from . import format as fmt

if TYPE_CHECKING:
    from .model import SentenceTransformer

logger = logging.getLogger(__name__)


def save_model(model: "SentenceTransformer", path: str, model_name: str | None = None, create_model_card: bool = True) -> None:
    """Save modules, configs and (when a card writer is attached) the model card, atomically.

    All or nothing: a save that fails leaves no staging folder and the previous content of
    ``path`` as it was. Saving into an existing folder writes into it, as sentence-transformers
    does: the files of a model saved there before (its module folders, weights and tokenizer
    files) are replaced as a whole, and unrelated entries (a run's checkpoints, notes) are kept.
    Files and folders get the modes the process umask gives.
    """
    class_names = [type(m).__name__ for m in model]
    with fmt.atomic_directory(path, stale=fmt.previous_model_entries(path)) as tmp:
        names = list(model._modules)
        fmt.write_json(os.path.join(tmp, fmt.MODULES_FILE), fmt.modules_entries(class_names, names))
        fmt.write_json(
            os.path.join(tmp, fmt.ST_CONFIG_FILE),
            {
                "__version__": fmt.framework_versions(),
                "model_type": getattr(model, "model_type", "SentenceTransformer"),
                "prompts": model.prompts,
                "default_prompt_name": model.default_prompt_name,
                "similarity_fn_name": model.similarity_fn_name,
                **({"truncate_dim": model.truncate_dim} if model.truncate_dim is not None else {}),
            },
        )
        for index, (module, class_name) in enumerate(zip(model, class_names)):
            folder = os.path.join(tmp, fmt.module_folder_name(index, class_name))
            os.makedirs(folder, exist_ok=True)
            module.save(folder)
        if create_model_card:
            _write_card(model, tmp, model_name)


def _write_card(model: "SentenceTransformer", folder: str, model_name: str | None) -> None:
    """Write README.md (the model card); a card failure is reported, and never loses the model."""
    try:
        from .card.write import write_model_card

        from .training.card_record import build_run_info

        run = getattr(model, "training_run", None)
        info = build_run_info(run, model) if run is not None else basic_run_info(model)
        if model_name and not info.card_data.model_name:
            info.card_data.model_name = model_name
        problem = write_model_card(folder, info)
    except Exception as err:  # the model is saved regardless; the error is reported, not hidden
        problem = f"The model was saved, but its model card could not be written: {type(err).__name__}: {err}"
    if problem:
        logger.error(problem)
        warnings.warn(problem, stacklevel=3)


def basic_run_info(model: "SentenceTransformer"):
    """The card record of a model saved without training: architecture and usage only."""
    from .card.info import RunInfo, collect_framework_versions
    from .modules import Normalize

    return RunInfo(
        card_data=model.model_card_data,
        architecture=str(model),
        max_seq_length=model.max_seq_length,
        output_dimension=model.get_sentence_embedding_dimension(),
        similarity_fn_name=model.similarity_fn_name,
        has_normalize=any(isinstance(m, Normalize) for m in model),
        base_model=model.base_model_id,
        framework_versions=collect_framework_versions(),
    )
