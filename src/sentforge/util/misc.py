"""Small helpers, as ``sentence_transformers.util.misc``: class paths, similarity names, teacher
checks, logging and caching switches, CSV appends."""

from __future__ import annotations

import csv
import functools
import importlib
import inspect
import logging
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .original_models import ORIGINAL_TRANSFORMER_MODELS

if TYPE_CHECKING:
    from torch import Tensor

logger = logging.getLogger(__name__)

__all__ = [
    "ORIGINAL_TRANSFORMER_MODELS",
    "append_to_last_row",
    "check_teacher_targets",
    "disable_datasets_caching",
    "disable_logging",
    "fullname",
    "import_from_string",
    "import_module_class",
    "similarity_fct_name",
]


def fullname(obj: Any) -> str:
    """``module.ClassName`` of an object or class (builtins give just the name)."""
    cls = obj if inspect.isclass(obj) else type(obj)
    module = cls.__module__
    if module is None or module == "builtins":
        return cls.__name__
    return f"{module}.{cls.__name__}"


def similarity_fct_name(similarity_fct: Callable) -> str:
    """How a similarity function is named in a config dict: ``cos_sim``; ``f(key=value)`` for a
    partial; the function ``model.similarity`` resolves to; ``Name(config)`` for a configurable metric."""
    if isinstance(similarity_fct, functools.partial):
        name = getattr(similarity_fct.func, "__name__", type(similarity_fct.func).__name__)
        args = ", ".join(f"{key}={value!r}" for key, value in similarity_fct.keywords.items())
        return f"{name}({args})" if args else name
    name = getattr(similarity_fct, "__name__", type(similarity_fct).__name__)
    owner = getattr(similarity_fct, "__self__", None)
    if name in ("similarity", "similarity_pairwise") and hasattr(owner, "similarity_fn_name"):
        from ..similarity import SimilarityFunction

        resolve = (
            SimilarityFunction.to_similarity_fn
            if name == "similarity"
            else SimilarityFunction.to_similarity_pairwise_fn
        )
        return resolve(owner.similarity_fn_name).__name__
    metric_config = getattr(similarity_fct, "get_config_dict", None)
    if metric_config is not None:
        args = ", ".join(f"{key}={value!r}" for key, value in metric_config().items())
        return f"{name}({args})"
    return name


def check_teacher_targets(
    teacher_probabilities: Tensor, teacher_logits: Tensor, teacher_temperature: float, loss_name: str
) -> None:
    """Raise ValueError on NaN teacher scores; warn when the softmaxed targets underflow to 0."""
    scores = teacher_logits.detach().float()
    if scores.isnan().any():
        raise ValueError(
            f"{loss_name}: the teacher scores contain NaN, so the loss and every gradient would be "
            "NaN after the first backward. Check the column holding your teacher scores."
        )
    if scores.isinf().any():  # an infinite score marks a candidate excluded on purpose
        return
    collapsed = int((teacher_probabilities == 0).sum())
    if not collapsed:
        return
    spread = (scores.max(dim=-1).values - scores.min(dim=-1).values).max().item()
    logger.warning(
        f"{loss_name}: teacher_temperature={teacher_temperature} underflows {collapsed} of "
        f"{teacher_probabilities.numel()} teacher scores to exactly zero, so those candidates carry "
        f"no gradient. The widest candidate row spans {spread:.1f}, and a float32 softmax underflows "
        f"once a row's spread divided by the temperature exceeds about 100. Raise "
        f"teacher_temperature above {spread / 100:.3g}."
    )


def import_from_string(dotted_path: str) -> type:
    """The attribute a dotted path names, e.g. ``"sentforge.models.Pooling"``; ImportError if absent."""
    try:
        module_path, class_name = dotted_path.rsplit(".", 1)
    except ValueError:
        raise ImportError(f"{dotted_path} doesn't look like a module path")
    with warnings.catch_warnings():  # these paths come from model configs, not user code
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            module = importlib.import_module(dotted_path)
        except Exception:
            module = importlib.import_module(module_path)
    try:
        return getattr(module, class_name)
    except AttributeError:
        raise ImportError(f'Module "{module_path}" does not define a "{class_name}" attribute/class')


def import_module_class(
    class_ref: str,
    model_name_or_path: str | None = None,
    *,
    trust_remote_code: bool = False,
    revision: str | None = None,
    code_revision: str | None = None,
    token: bool | str | None = None,
    cache_folder: str | None = None,
    local_files_only: bool = False,
) -> type:
    """A module class named in a model's ``modules.json``: from a library path, or from the model
    repository's own code, which runs only with ``trust_remote_code=True``."""
    if class_ref.startswith(("sentence_transformers.", "sentforge.")):
        return import_from_string(class_ref)
    if model_name_or_path is not None:
        from transformers.dynamic_module_utils import get_class_from_dynamic_module

        if not trust_remote_code:
            location = (
                os.path.abspath(model_name_or_path)
                if os.path.isdir(model_name_or_path)
                else f"https://hf.co/{model_name_or_path}"
            )
            raise ValueError(
                f"The model {model_name_or_path} references the module class {class_ref!r}, which is not "
                f"part of sentforge. Importing it executes third-party code. You can inspect the "
                f"repository content at {location}.\n"
                f"Please pass the argument `trust_remote_code=True` to allow custom code to be run."
            )
        try:
            return get_class_from_dynamic_module(
                class_ref,
                model_name_or_path,
                revision=revision,
                code_revision=code_revision,
                token=token,
                cache_dir=cache_folder,
                local_files_only=local_files_only,
            )
        except (OSError, ValueError):  # no such file in the repository, or not a class reference there
            pass
    return import_from_string(class_ref)


@contextmanager
def disable_datasets_caching() -> Iterator[None]:
    """Turn off the ``datasets`` cache inside the block (restored afterwards)."""
    from datasets import disable_caching, enable_caching, is_caching_enabled

    was_enabled = is_caching_enabled()
    try:
        if was_enabled:
            disable_caching()
        yield
    finally:
        if was_enabled:
            enable_caching()


@contextmanager
def disable_logging(highest_level: int = logging.CRITICAL) -> Iterator[None]:
    """Silence all logging up to ``highest_level`` inside the block."""
    previous_level = logging.root.manager.disable
    logging.disable(highest_level)
    try:
        yield
    finally:
        logging.disable(previous_level)


def append_to_last_row(csv_path: str, additional_data: list[Any]) -> bool:
    """Append values to the last data row of a CSV file; False if it has no data row."""
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if len(rows) <= 1:
        return False
    rows[-1].extend(additional_data)
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return True
