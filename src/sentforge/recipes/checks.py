"""Name and type checks for recipe fields: training-argument names and values, loss and evaluator names.

The authority for argument names is the training-arguments class itself (sentforge's, or the
transformers base class plus the sentence-transformers additions while ours cannot be imported),
so a recipe is checked against the code that will run it, not against a copied list.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from functools import lru_cache
from typing import Any

from ..errors import SentforgeError

# Arguments that sentence-transformers adds to transformers.TrainingArguments, with their types.
_SENTENCE_TRANSFORMERS_ARGS = {
    "prompts": "str | dict | None",
    "batch_sampler": "BatchSamplers | str",
    "multi_dataset_batch_sampler": "MultiDatasetBatchSamplers | str",
    "router_mapping": "str | dict | None",
    "learning_rate_mapping": "str | dict | None",
}

# Used only when sentforge.losses / sentforge.evaluation cannot be imported.
_FALLBACK_LOSSES = frozenset(
    "AdaptiveLayerLoss AnglELoss BatchAllTripletLoss BatchHardSoftMarginTripletLoss BatchHardTripletLoss "
    "BatchSemiHardTripletLoss CachedGISTEmbedLoss CachedMultipleNegativesRankingLoss "
    "CachedMultipleNegativesSymmetricRankingLoss CoSENTLoss ContrastiveLoss ContrastiveTensionLoss "
    "ContrastiveTensionLossInBatchNegatives CosineSimilarityLoss DenoisingAutoEncoderLoss DistillKLDivLoss "
    "EmbedDistillLoss GISTEmbedLoss GlobalOrthogonalRegularizationLoss MSELoss MarginMSELoss Matryoshka2dLoss "
    "MatryoshkaLoss MegaBatchMarginLoss MultipleNegativesRankingLoss MultipleNegativesSymmetricRankingLoss "
    "OnlineContrastiveLoss SoftmaxLoss TripletLoss".split()
)
_FALLBACK_EVALUATORS = frozenset(
    "BinaryClassificationEvaluator EmbeddingSimilarityEvaluator InformationRetrievalEvaluator "
    "LabelAccuracyEvaluator MSEEvaluator NanoBEIREvaluator ParaphraseMiningEvaluator RerankingEvaluator "
    "SequentialEvaluator TranslationEvaluator TripletEvaluator".split()
)

_RENAMED_ARGS = {"evaluation_strategy": "eval_strategy"}
_DOTTED_NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def did_you_mean(word: str, choices: Any) -> str:
    """' Did you mean `x`?' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.75)
    return f" Did you mean `{close[0]}`?" if close else ""


@lru_cache(maxsize=1)
def training_arg_fields() -> dict[str, tuple[str, Any]]:
    """Map each training-argument name to (type text, default) from the arguments class."""
    try:
        from ..training_args import SentenceTransformerTrainingArguments as args_class

        extras: dict[str, str] = {}
    except ImportError:
        from transformers import TrainingArguments as args_class

        extras = dict(_SENTENCE_TRANSFORMERS_ARGS)
    fields: dict[str, tuple[str, Any]] = {}
    for item in dataclasses.fields(args_class):
        default = item.default if item.default is not dataclasses.MISSING else None
        fields[item.name] = (str(item.type), default)
    for name, type_text in extras.items():
        fields.setdefault(name, (type_text, None))
    return fields


def renamed_arg(name: str) -> str | None:
    """The current name of a training argument that older versions called ``name``, if any."""
    return _RENAMED_ARGS.get(name)


def check_training_args(args: dict[str, Any], where: str) -> dict[str, Any]:
    """Return ``args`` with checked names and values (numbers given as YAML text become numbers)."""
    fields = training_arg_fields()
    checked: dict[str, Any] = {}
    for name, value in args.items():
        if not isinstance(name, str):
            raise SentforgeError(f"{where}: argument name {name!r} is not text. Write `name: value` pairs.")
        if name == "output_dir":
            raise SentforgeError(f"{where}: `args.output_dir` is not used; set the top-level `output:` key instead.")
        if name not in fields:
            hint = f" It is now called `{renamed_arg(name)}`." if renamed_arg(name) else did_you_mean(name, fields)
            raise SentforgeError(
                f"{where}: `args.{name}` is not a training argument.{hint} "
                "Use SentenceTransformerTrainingArguments names (e.g. num_train_epochs, learning_rate)."
            )
        type_text, default = fields[name]
        checked[name] = _checked_value(name, value, type_text, default, where)
    return checked


def _checked_value(name: str, value: Any, type_text: str, default: Any, where: str) -> Any:
    kinds = _allowed_kinds(type_text, default)
    if kinds is None or _kind_of(value) in kinds:
        return value
    if isinstance(value, str) and kinds & {"int", "float"}:
        number = _as_number(value, integer="float" not in kinds)
        if number is not None:
            return number
    expected = " or ".join(sorted(kinds))
    hint = ""
    if isinstance(value, bool) and "str" in kinds:
        hint = " YAML reads unquoted yes/no/on/off as true/false: put the word in quotes, e.g. 'no'."
    raise SentforgeError(
        f"{where}: `args.{name}` must be {expected}, got {value!r} ({type(value).__name__}).{hint} "
        f"Fix the value of `{name}`."
    )


def _allowed_kinds(type_text: str, default: Any) -> set[str] | None:
    """The value kinds a field accepts, read from its annotation; None means anything goes."""
    if re.search(r"\bAny\b|Callable", type_text):
        return None
    words = set(re.findall(r"[A-Za-z_]\w*", type_text.replace("typing.", "")))
    kinds = {kind for kind in ("bool", "int", "float", "str", "list", "dict") if kind in words}
    kinds |= {"list" for w in words if w == "List"} | {"dict" for w in words if w == "Dict"}
    if "float" in kinds:
        kinds.add("int")
    if words & {"None", "Optional"} or default is None:
        kinds.add("NoneType")
    # Enum types (IntervalStrategy, OptimizerNames...) are given by their string value.
    if any(w[0].isupper() and w not in {"Union", "Optional", "List", "Dict", "None"} for w in words):
        kinds.add("str")
    return kinds or None


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    for kind, kind_type in (("int", int), ("float", float), ("str", str), ("list", list), ("dict", dict)):
        if isinstance(value, kind_type):
            return kind
    return type(value).__name__


def _as_number(text: str, integer: bool) -> int | float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    if integer:
        return int(number) if number.is_integer() else None
    return number


def check_loss_name(name: str, where: str) -> None:
    """Raise unless ``name`` is a sentforge loss class name or a dotted path to a custom class."""
    if not _DOTTED_NAME.match(name):
        raise SentforgeError(
            f"{where}: loss name {name!r} is not a class name. Use a sentforge.losses class "
            "(e.g. CosineSimilarityLoss) or an import path to your own class (e.g. my_losses.MyLoss)."
        )
    if "." in name:
        return  # a custom class, supplied by the user; resolved when the loss is built
    known = _exported_classes("sentforge.losses", _FALLBACK_LOSSES)
    if name not in known:
        raise SentforgeError(
            f"{where}: `{name}` is not a sentforge loss.{did_you_mean(name, known)} Use one of "
            f"sentforge.losses (e.g. CosineSimilarityLoss, MultipleNegativesRankingLoss), or an import "
            "path to your own class (e.g. my_losses.MyLoss)."
        )


def check_evaluator_type(name: str, where: str) -> None:
    """Raise unless ``name`` is a sentforge evaluator class name."""
    known = _exported_classes("sentforge.evaluation", _FALLBACK_EVALUATORS)
    if name not in known:
        raise SentforgeError(
            f"{where}: `{name}` is not a sentforge evaluator.{did_you_mean(name, known)} Use one of "
            "sentforge.evaluation, e.g. EmbeddingSimilarityEvaluator."
        )


def _exported_classes(module_name: str, fallback: frozenset[str]) -> frozenset[str]:
    try:
        module = __import__(module_name, fromlist=["_"])
    except ImportError:
        return fallback
    names = frozenset(
        name
        for name, value in vars(module).items()
        # ``losses.ContrastiveLoss`` may be the module of the same name that holds the class
        if isinstance(value, type) or isinstance(getattr(value, name, None), type)
    )
    return names or fallback
