"""Pick the loss and the evaluator for prepared data, and say why in one line each.

=========================  ===================================  =============================================
train columns              loss (``--loss auto``)               evaluator on the eval data
=========================  ===================================  =============================================
(a, b)                     MultipleNegativesRankingLoss         InformationRetrievalEvaluator over the pairs
(a, b, score)              CoSENTLoss                           EmbeddingSimilarityEvaluator
(a, b, 0/1 label)          ContrastiveLoss                      BinaryClassificationEvaluator
(anchor, positive, neg)    MultipleNegativesRankingLoss         TripletEvaluator
=========================  ===================================  =============================================

When every evaluation label is the same value a correlation is undefined (NaN), so the eval pairs
are scored with retrieval metrics instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import datasets
from torch import nn

from .prepare import PreparedData
from ..errors import SentforgeError
from ..losses import LabelKind
from ..recipes.build import build_loss
from ..recipes.recipe import EvaluatorSpec, LossSpec

_PAIR_EVALUATORS = ("EmbeddingSimilarityEvaluator", "BinaryClassificationEvaluator", "InformationRetrievalEvaluator")


@dataclass
class Choice:
    """What was picked, and one line saying why; ``display`` names it in the log when ``name`` is terse."""

    value: Any
    name: str
    reason: str
    display: str = ""

    @property
    def label(self) -> str:
        return self.display or self.name


def choose_loss(
    model: nn.Module, data: PreparedData, loss: str, params: dict[str, Any] | None = None, source: str = "--loss"
) -> Choice:
    """``auto`` picks from the columns (see the module table); any other value names a loss class."""
    if loss.lower() == "auto":
        name = data.roles.loss
        return Choice(build_loss(LossSpec(name=name), model), name, data.roles.explanation)
    name = loss_name(loss, source)
    built = build_loss(LossSpec(name=name, params=dict(params or {})), model)
    return Choice(built, name, f"named by {source} (the columns look like {data.roles.task}).")


def choose_recipe_loss(model: nn.Module | None, data: PreparedData, recipe: Any) -> Choice:
    """The loss of a recipe chosen from the data (a RecipeChoice), in MatryoshkaLoss when the recipe says so."""
    from ..losses import MatryoshkaLoss
    from .matryoshka_report import matryoshka_dims

    name = loss_name(recipe.loss, "--loss")
    params = dict(recipe.loss_params)
    if name == "GISTEmbedLoss" and model is not None:
        params["guide"] = frozen_copy(model)  # the base model guides: it flags in-batch false negatives
    inner = build_loss(LossSpec(name=name, params=params), model)
    reason = data.roles.explanation if name == data.roles.loss else recipe.loss_reason
    dims = matryoshka_dims(model) if recipe.matryoshka and model is not None else []
    if len(dims) < 2:
        return Choice(inner, name, reason)
    wrapped = MatryoshkaLoss(model, inner, dims)
    display = f"{name} inside MatryoshkaLoss (dims {', '.join(str(d) for d in dims)})"
    return Choice(wrapped, f"MatryoshkaLoss({name})", reason, display)


def frozen_copy(model: nn.Module) -> nn.Module:
    """A copy of ``model`` that training leaves as it is (no gradients)."""
    import copy

    guide = copy.deepcopy(model)
    for parameter in guide.parameters():
        parameter.requires_grad_(False)
    return guide.eval()


def loss_name(name: str, source: str) -> str:
    """A sentforge loss class name, matched without regard to case; import paths pass through."""
    if "." in name:
        return name
    import difflib

    from .. import losses

    known = [item for item in losses.__all__ if item.endswith("Loss") and item != "BaseLoss"]
    by_lower = {item.lower(): item for item in known}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    hint = f" Did you mean {by_lower[close[0]]}?" if close else ""
    raise SentforgeError(
        f"Unknown loss '{name}' ({source}).{hint} Use auto, one of {', '.join(known)}, or an import path "
        "to your own loss class (my_losses.MyLoss)."
    )


def loss_label_range(loss: nn.Module) -> tuple[float, float] | None:
    """The label range the loss accepts, for the data doctor (0-1 for a 0/1 loss)."""
    kind = getattr(loss, "label_kind", None)
    if kind is LabelKind.BINARY:
        return (0.0, 1.0)
    if kind in (LabelKind.SCORE, LabelKind.CLASS_ID):
        return getattr(loss, "label_range", None)
    return None


def wants_scores(loss: nn.Module) -> bool:
    """Whether the loss reads a float score per row (so 0-5 scores are rescaled for it)."""
    return getattr(loss, "label_kind", None) is LabelKind.SCORE


def eval_labels(data: datasets.Dataset) -> list[float] | None:
    """The eval labels as floats (NaN and missing left out), or None without a label column."""
    if "label" not in data.column_names:
        return None
    return [float(v) for v in data["label"] if v is not None and not math.isnan(float(v))]


def choose_evaluator(
    model: nn.Module, data: PreparedData, spec: EvaluatorSpec | None = None, batch_size: int = 32
) -> Choice | None:
    """The evaluator for ``data.eval`` (None without eval data); a recipe's ``spec`` is honoured when it can work."""
    if data.eval is None:
        return None
    eval_data, name = data.eval, data.eval_name
    texts = [c for c in eval_data.column_names if c != "label"]
    labels = eval_labels(eval_data)
    constant = labels is not None and len(set(labels)) == 1
    similarity = getattr(model, "similarity_fn_name", None) or "cosine"
    kind = spec.type if spec is not None else None
    params = dict(spec.params) if spec is not None else {}
    name = (spec.name or name) if spec is not None else name
    if constant and kind in (None, "EmbeddingSimilarityEvaluator", "BinaryClassificationEvaluator"):
        why = (
            f"every eval label is {labels[0]:g}, so a correlation (Pearson/Spearman) would be NaN; the eval pairs "
            "are scored by retrieval instead: each first text must find its own second text"
        )
        if kind is not None:
            why = f"the recipe's {kind} cannot work: " + why
        return _retrieval(eval_data, texts, name, similarity, batch_size, why)
    if kind is None:
        if len(texts) >= 3:
            kind = "TripletEvaluator"
        elif labels is None:
            kind = "InformationRetrievalEvaluator"
        elif set(labels) <= {0.0, 1.0} and data.roles.task == "binary-pairs":
            kind = "BinaryClassificationEvaluator"
        else:
            kind = "EmbeddingSimilarityEvaluator"
    return _build(kind, eval_data, texts, name, similarity, batch_size, params)


def _build(kind: str, eval_data, texts: list[str], name: str, similarity: str, batch_size: int, params: dict) -> Choice:
    from .. import evaluation

    if kind == "InformationRetrievalEvaluator":
        why = "each eval first text must find its own second text among all second texts of the eval data"
        return _retrieval(eval_data, texts, name, similarity, batch_size, why, params)
    if kind == "TripletEvaluator":
        if len(texts) < 3:
            raise SentforgeError(f"TripletEvaluator needs (anchor, positive, negative) eval columns, got {', '.join(texts)}.")
        evaluator = evaluation.TripletEvaluator(
            eval_data[texts[0]], eval_data[texts[1]], eval_data[texts[2]], name=name, batch_size=batch_size,
            **{"similarity_fn_names": [similarity], **params},
        )
        why = "accuracy = share of eval triplets whose anchor is closer to its positive than to its negative"
        return Choice(evaluator, kind, f"{kind}: {why} ({len(eval_data)} triplets).")
    if kind not in _PAIR_EVALUATORS:
        raise SentforgeError(
            f"The evaluator {kind} cannot be built from rows of pairs. Use one of {', '.join(_PAIR_EVALUATORS)} "
            "or TripletEvaluator."
        )
    if "label" not in eval_data.column_names:
        raise SentforgeError(
            f"{kind} needs a score or label column in the evaluation data (columns: {', '.join(eval_data.column_names)}). "
            "Add one, or use InformationRetrievalEvaluator for positive pairs."
        )
    first, second, labels = eval_data[texts[0]], eval_data[texts[1]], eval_data["label"]
    if kind == "BinaryClassificationEvaluator":
        evaluator = evaluation.BinaryClassificationEvaluator(
            first, second, [int(v) for v in labels], name=name, batch_size=batch_size,
            **{"similarity_fn_names": [similarity], **params},
        )
        why = "accuracy, F1 and average precision of telling label-1 pairs from label-0 pairs by similarity"
    else:
        evaluator = evaluation.EmbeddingSimilarityEvaluator(
            first, second, [float(v) for v in labels], name=name, batch_size=batch_size,
            **{"similarity_fn_names": [similarity], **params},
        )
        why = "Spearman correlation between the model's similarity and the eval scores"
    return Choice(evaluator, kind, f"{kind}: {why} ({len(eval_data)} pairs).")


def _retrieval(
    eval_data, texts: list[str], name: str, similarity: str, batch_size: int, why: str, params: dict | None = None
) -> Choice:
    from ..evaluation import InformationRetrievalEvaluator

    queries, corpus, relevant = retrieval_sets(eval_data[texts[0]], eval_data[texts[1]])
    evaluator = InformationRetrievalEvaluator(
        queries, corpus, relevant, name=name, batch_size=batch_size,
        **{"main_score_function": similarity, **(params or {})},
    )
    kind = "InformationRetrievalEvaluator"
    return Choice(evaluator, kind, f"{kind}: {why} ({len(queries)} queries, {len(corpus)} documents).")


def retrieval_sets(
    first: list[str], second: list[str]
) -> tuple[dict[str, str], dict[str, str], dict[str, set[str]]]:
    """Queries (first texts), corpus (distinct second texts) and each query's own pair as relevant."""
    queries: dict[str, str] = {}
    corpus: dict[str, str] = {}
    relevant: dict[str, set[str]] = {}
    doc_ids: dict[str, str] = {}
    query_ids: dict[str, str] = {}
    for query, document in zip(first, second):
        if not query or not document:
            continue
        doc_id = doc_ids.setdefault(document, f"d{len(doc_ids)}")
        corpus[doc_id] = document
        query_id = query_ids.setdefault(query, f"q{len(query_ids)}")
        queries[query_id] = query
        relevant.setdefault(query_id, set()).add(doc_id)
    if not queries:
        raise SentforgeError("The evaluation data has no pair with two non-empty texts. Fill in the eval rows.")
    return queries, corpus, relevant
