"""Write a SentenceTransformer to disk in the sentence-transformers folder format."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from . import format as fmt

if TYPE_CHECKING:
    from .model import SentenceTransformer

logger = logging.getLogger(__name__)


def save_model(model: "SentenceTransformer", path: str, model_name: str | None = None, create_model_card: bool = True) -> None:
    """Save modules, configs and (when a card writer is attached) the model card, atomically."""
    class_names = [type(m).__name__ for m in model]
    with fmt.atomic_directory(path) as tmp:
        fmt.write_json(os.path.join(tmp, fmt.MODULES_FILE), fmt.modules_entries(class_names))
        fmt.write_json(
            os.path.join(tmp, fmt.ST_CONFIG_FILE),
            {
                "__version__": fmt.framework_versions(),
                "model_type": "SentenceTransformer",
                "prompts": model.prompts,
                "default_prompt_name": model.default_prompt_name,
                "similarity_fn_name": model.similarity_fn_name,
            },
        )
        for index, (module, class_name) in enumerate(zip(model, class_names)):
            folder = os.path.join(tmp, fmt.module_folder_name(index, class_name))
            os.makedirs(folder, exist_ok=True)
            module.save(folder)
        if create_model_card:
            _write_card(model, tmp, model_name)


def _write_card(model: "SentenceTransformer", folder: str, model_name: str | None) -> None:
    """Write README.md through the card package when available; a card failure never loses the model."""
    writer = getattr(model, "_card_writer", None)
    if writer is None:
        return
    try:
        writer(model, folder, model_name)
    except Exception as err:  # the model is saved regardless; the error is reported, not hidden
        logger.error("The model was saved, but its model card could not be written: %s", err)
