"""TripletEvaluator: the share of (anchor, positive, negative) triplets where the anchor is more
similar to the positive than to the negative (by at least ``margin``), as sentence-transformers.
"""

from __future__ import annotations

import logging
from typing import Literal, Sequence

from ..errors import SentforgeError
from ..similarity import SimilarityFunction
from .base import SentenceEvaluator, append_csv_row, embed, epoch_text, model_similarity_fn_name, role_prompt

logger = logging.getLogger(__name__)

_FUNCTION_NAMES = ("cosine", "dot", "manhattan", "euclidean")


class TripletEvaluator(SentenceEvaluator):
    """Accuracy of ``similarity(anchor, positive) > similarity(anchor, negative) + margin``.

    Evaluates ``similarity_fn_names`` (default: the main function, else the model's own). Metric keys
    are ``<function>_accuracy`` plus ``max_accuracy`` for several functions; the primary metric is the
    main function's accuracy, else ``max_accuracy`` or the single function's accuracy.
    """

    def __init__(
        self,
        anchors: Sequence[str],
        positives: Sequence[str],
        negatives: Sequence[str],
        main_similarity_function: str | SimilarityFunction | None = None,
        margin: float | dict[str, float] | None = None,
        name: str = "",
        batch_size: int = 16,
        show_progress_bar: bool = False,
        write_csv: bool = True,
        truncate_dim: int | None = None,
        similarity_fn_names: list[Literal["cosine", "dot", "euclidean", "manhattan"]] | None = None,
        main_distance_function: str | SimilarityFunction | None = "deprecated",
    ):
        super().__init__()
        if not len(anchors) == len(positives) == len(negatives):
            raise SentforgeError(
                f"TripletEvaluator got {len(anchors)} anchors, {len(positives)} positives and {len(negatives)} "
                "negatives; pass one positive and one negative per anchor."
            )
        if len(anchors) == 0:
            raise SentforgeError("TripletEvaluator got no triplets; pass at least one (anchor, positive, negative).")
        if main_distance_function != "deprecated" and main_similarity_function is None:
            logger.warning("'main_distance_function' is deprecated; use 'main_similarity_function' instead.")
            main_similarity_function = main_distance_function
        self.anchors = anchors
        self.positives = positives
        self.negatives = negatives
        self.main_similarity_function = (
            SimilarityFunction(main_similarity_function) if main_similarity_function else None
        )
        self.similarity_fn_names = list(similarity_fn_names or [])
        if not self.similarity_fn_names and self.main_similarity_function is not None:
            self.similarity_fn_names = [self.main_similarity_function.value]
        if unknown := sorted(set(self.similarity_fn_names) - set(_FUNCTION_NAMES)):
            raise SentforgeError(f"Unknown similarity_fn_names {unknown}; use any of {list(_FUNCTION_NAMES)}.")
        self.margin = self._margins(margin)
        self.name = name
        self.batch_size = batch_size
        self.show_progress_bar = show_progress_bar
        self.write_csv = write_csv
        self.truncate_dim = truncate_dim
        self.csv_file = "triplet_evaluation" + (f"_{name}" if name else "") + "_results.csv"
        if self.similarity_fn_names:
            self.primary_metric = self.prefixed(self._unprefixed_primary())

    @staticmethod
    def _margins(margin: float | dict[str, float] | None) -> dict[str, float]:
        if margin is None:
            return dict.fromkeys(_FUNCTION_NAMES, 0)
        if isinstance(margin, (int, float)):
            return dict.fromkeys(_FUNCTION_NAMES, margin)
        if isinstance(margin, dict):
            if unknown := sorted(set(margin) - set(_FUNCTION_NAMES)):
                raise SentforgeError(f"`margin` got unknown keys {unknown}; use keys among {list(_FUNCTION_NAMES)}.")
            return {**dict.fromkeys(_FUNCTION_NAMES, 0), **margin}
        raise SentforgeError(f"`margin` must be a number or a dict with keys among {list(_FUNCTION_NAMES)}.")

    @property
    def csv_headers(self) -> list[str]:
        return ["epoch", "steps"] + [f"accuracy_{fn}" for fn in self.similarity_fn_names]

    @classmethod
    def from_input_examples(cls, examples, **kwargs) -> "TripletEvaluator":
        """Build from InputExample-like objects with ``texts=[anchor, positive, negative]``."""
        return cls(
            [ex.texts[0] for ex in examples], [ex.texts[1] for ex in examples], [ex.texts[2] for ex in examples],
            **kwargs,
        )

    def _unprefixed_primary(self) -> str:
        if self.main_similarity_function is not None:
            return f"{self.main_similarity_function.value}_accuracy"
        return "max_accuracy" if len(self.similarity_fn_names) > 1 else f"{self.similarity_fn_names[0]}_accuracy"

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        logger.info(
            f"TripletEvaluator: Evaluating the model on the {self.name} dataset"
            f"{epoch_text(epoch, steps, self.truncate_dim)}:"
        )
        anchors = self._embed(model, self.anchors, "query")
        positives = self._embed(model, self.positives, "document")
        negatives = self._embed(model, self.negatives, "document")
        if not self.similarity_fn_names:
            self.similarity_fn_names = [model_similarity_fn_name(model)]

        metrics: dict[str, float] = {}
        for fn_name in self.similarity_fn_names:
            pairwise = SimilarityFunction.to_similarity_pairwise_fn(fn_name)
            positive_scores, negative_scores = pairwise(anchors, positives), pairwise(anchors, negatives)
            correct = positive_scores > negative_scores + self.margin[fn_name]
            metrics[f"{fn_name}_accuracy"] = correct.float().mean().item()
            logger.info(f"Accuracy {fn_name.capitalize()} Similarity:\t{metrics[f'{fn_name}_accuracy']:.2%}")

        if output_path is not None and self.write_csv:
            append_csv_row(output_path, self.csv_file, self.csv_headers, [epoch, steps, *metrics.values()])
        if len(self.similarity_fn_names) > 1:
            metrics["max_accuracy"] = max(metrics.values())
        self.primary_metric = self._unprefixed_primary()
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    def _embed(self, model, texts: Sequence[str], role: str):
        return embed(
            model, texts, batch_size=self.batch_size, show_progress_bar=self.show_progress_bar,
            truncate_dim=self.truncate_dim, prompt_name=role_prompt(model, role, None, None),
        )

    def get_config_dict(self) -> dict:
        config: dict = {}
        if self.margin != dict.fromkeys(_FUNCTION_NAMES, 0):
            config["margin"] = self.margin
        if self.truncate_dim is not None:
            config["truncate_dim"] = self.truncate_dim
        return config
