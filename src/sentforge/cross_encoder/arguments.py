"""CrossEncoder constructor arguments: the older names sentence-transformers still accepts."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

RENAMED = {
    "model_name": "model_name_or_path",
    "automodel_args": "model_kwargs",
    "tokenizer_args": "processor_kwargs",
    "tokenizer_kwargs": "processor_kwargs",
    "config_args": "config_kwargs",
    "cache_dir": "cache_folder",
    "default_activation_function": "activation_fn",
}


def apply_legacy_names(given: dict[str, Any], legacy: dict[str, Any]) -> dict[str, Any]:
    """Fold older keyword names into ``given`` (the current names); unknown keywords raise TypeError."""
    given = dict(given)
    for old, value in legacy.items():
        if old == "classifier_dropout":
            given["config_kwargs"] = {**(given.get("config_kwargs") or {}), "classifier_dropout": value}
            continue
        new = RENAMED.get(old)
        if new is None:
            raise TypeError(f"CrossEncoder.__init__() got an unexpected keyword argument {old!r}")
        logger.warning("The CrossEncoder argument `%s` is deprecated; use `%s` instead.", old, new)
        if given.get(new) is None:
            given[new] = value
    return given
