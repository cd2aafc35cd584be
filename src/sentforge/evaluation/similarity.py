"""EmbeddingSimilarityEvaluator: Pearson / Spearman correlation of embedding similarity with gold scores.

Correlation is undefined when the gold scores (or the model's similarities) are all equal. Then the
metrics are NaN, as in sentence-transformers, and ``nan_reasons`` says why and what to do instead.
"""

from __future__ import annotations

import logging
import warnings
from typing import Literal

import numpy as np
from scipy.stats import pearsonr, spearmanr

from ..errors import SentforgeError
from ..similarity import SimilarityFunction
from .base import SentenceEvaluator, append_csv_row, embed, epoch_text, model_similarity_fn_name

logger = logging.getLogger(__name__)

_PRIMARY_BY_FUNCTION = {
    SimilarityFunction.COSINE: "spearman_cosine",
    SimilarityFunction.EUCLIDEAN: "spearman_euclidean",
    SimilarityFunction.MANHATTAN: "spearman_manhattan",
    SimilarityFunction.DOT_PRODUCT: "spearman_dot",
}


def correlation_nan_reason(labels: np.ndarray, scores: np.ndarray, fn_name: str) -> str | None:
    """Why Pearson/Spearman between labels and scores is undefined, or None when it is defined."""
    n = len(labels)
    if n < 2:
        return f"only {n} pair(s): correlation needs at least 2 pairs; add more evaluation pairs"
    if np.isnan(labels).any():
        return f"{int(np.isnan(labels).sum())} of {n} labels are NaN: drop or fix those rows"
    if np.all(labels == labels[0]):
        return (
            f"all {n} labels are equal ({labels[0]:g}): correlation is undefined; evaluate these pairs "
            "with InformationRetrievalEvaluator or add negative pairs"
        )
    if np.isnan(scores).any():
        return f"the model produced NaN {fn_name} similarities for {int(np.isnan(scores).sum())} of {n} pairs"
    if np.all(scores == scores[0]):
        return (
            f"all {n} {fn_name} similarities are equal: correlation is undefined; the model maps every "
            "sentence to the same embedding (check the model and its pooling)"
        )
    return None


class EmbeddingSimilarityEvaluator(SentenceEvaluator):
    """Spearman and Pearson correlation between gold scores and the similarity of the two sentences'
    embeddings, for each similarity function (by default the model's own ``similarity_fn_name``).

    The primary metric is ``spearman_<main_similarity>``, or ``spearman_max`` when several functions
    are evaluated without a main one.
    """

    def __init__(
        self,
        sentences1: list[str],
        sentences2: list[str],
        scores: list[float],
        batch_size: int = 16,
        main_similarity: str | SimilarityFunction | None = None,
        similarity_fn_names: list[Literal["cosine", "euclidean", "manhattan", "dot"]] | None = None,
        name: str = "",
        show_progress_bar: bool = False,
        write_csv: bool = True,
        precision: Literal["float32", "int8", "uint8", "binary", "ubinary"] | None = None,
        truncate_dim: int | None = None,
    ):
        super().__init__()
        if not len(sentences1) == len(sentences2) == len(scores):
            raise SentforgeError(
                f"EmbeddingSimilarityEvaluator got {len(sentences1)} sentences1, {len(sentences2)} sentences2 "
                f"and {len(scores)} scores; pass one score per (sentence1, sentence2) pair."
            )
        self.sentences1 = sentences1
        self.sentences2 = sentences2
        self.scores = scores
        self.batch_size = batch_size
        self.main_similarity = SimilarityFunction(main_similarity) if main_similarity else None
        self.similarity_fn_names = list(similarity_fn_names or [])
        if unknown := sorted(set(self.similarity_fn_names) - {"cosine", "dot", "euclidean", "manhattan"}):
            raise SentforgeError(
                f"Unknown similarity_fn_names {unknown}; use any of cosine, dot, euclidean, manhattan."
            )
        if not self.similarity_fn_names and self.main_similarity is not None:
            self.similarity_fn_names = [self.main_similarity.value]
        self.name = name
        self.show_progress_bar = show_progress_bar
        self.write_csv = write_csv
        self.precision = precision
        self.truncate_dim = truncate_dim
        self.csv_file = (
            "similarity_evaluation" + (f"_{name}" if name else "") + (f"_{precision}" if precision else "")
            + "_results.csv"
        )
        if self.similarity_fn_names:
            self.primary_metric = self.prefixed(self._unprefixed_primary())

    @property
    def csv_headers(self) -> list[str]:
        return ["epoch", "steps"] + [f"{fn}_{m}" for fn in self.similarity_fn_names for m in ("pearson", "spearman")]

    @classmethod
    def from_input_examples(cls, examples, **kwargs) -> "EmbeddingSimilarityEvaluator":
        """Build from InputExample-like objects with ``texts=[s1, s2]`` and a float ``label``."""
        return cls(
            [ex.texts[0] for ex in examples], [ex.texts[1] for ex in examples], [ex.label for ex in examples], **kwargs
        )

    def _unprefixed_primary(self) -> str:
        if self.main_similarity is not None:
            return _PRIMARY_BY_FUNCTION[self.main_similarity]
        if len(self.similarity_fn_names) > 1:
            return "spearman_max"
        return f"spearman_{self.similarity_fn_names[0]}"

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        logger.info(
            f"EmbeddingSimilarityEvaluator: Evaluating the model on the {self.name} dataset"
            f"{epoch_text(epoch, steps, self.truncate_dim)}:"
        )
        embeddings1, embeddings2 = self._embed_pairs(model)
        if not self.similarity_fn_names:
            self.similarity_fn_names = [model_similarity_fn_name(model)]
        labels = np.asarray(self.scores, dtype=np.float64)

        self.nan_reasons = {}
        metrics: dict[str, float] = {}
        for fn_name in self.similarity_fn_names:
            pairwise = SimilarityFunction.to_similarity_pairwise_fn(fn_name)
            sims = pairwise(embeddings1, embeddings2).detach().cpu().numpy()
            keys = (f"pearson_{fn_name}", f"spearman_{fn_name}")
            reason = correlation_nan_reason(labels, sims.astype(np.float64), fn_name)
            if reason is not None and len(labels) < 2:
                metrics.update(dict.fromkeys(keys, float("nan")))
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # scipy warns on constant input; the reason is recorded below
                    metrics[keys[0]] = pearsonr(labels, sims)[0]
                    metrics[keys[1]] = spearmanr(labels, sims)[0]
            if reason is not None:
                self._record_nan(metrics, keys, reason)
            logger.info(
                f"{fn_name.capitalize()}-Similarity:\tPearson: {metrics[keys[0]]:.4f}\tSpearman: {metrics[keys[1]]:.4f}"
            )

        if output_path is not None and self.write_csv:
            row = [metrics[f"{m}_{fn}"] for fn in self.similarity_fn_names for m in ("pearson", "spearman")]
            append_csv_row(output_path, self.csv_file, self.csv_headers, [epoch, steps, *row])

        if len(self.similarity_fn_names) > 1:
            for m in ("pearson", "spearman"):
                metrics[f"{m}_max"] = max(metrics[f"{m}_{fn}"] for fn in self.similarity_fn_names)

        self.primary_metric = self._unprefixed_primary()
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    def _embed_pairs(self, model) -> tuple[np.ndarray, np.ndarray]:
        """Embed both sides; quantized precisions are embedded together and unpacked to float."""
        quantized = self.precision not in (None, "float32")
        options = dict(
            batch_size=self.batch_size,
            show_progress_bar=self.show_progress_bar,
            truncate_dim=self.truncate_dim,
            precision=self.precision,
            normalize_embeddings=True if self.precision else None,
        )
        if self.precision in ("int8", "uint8"):
            # one calibration for both sides, so a sentence gets the same quantized embedding on either side
            both = embed(model, [*self.sentences1, *self.sentences2], **options)
            embeddings1, embeddings2 = both[: len(self.sentences1)], both[len(self.sentences1) :]
        else:
            embeddings1 = embed(model, self.sentences1, **options)
            embeddings2 = embed(model, self.sentences2, **options)
        if self.precision == "binary":
            embeddings1, embeddings2 = embeddings1.astype(np.int16) + 128, embeddings2.astype(np.int16) + 128
        if self.precision in ("binary", "ubinary"):
            embeddings1 = np.unpackbits(embeddings1.astype(np.uint8), axis=1)
            embeddings2 = np.unpackbits(embeddings2.astype(np.uint8), axis=1)
        if quantized:
            embeddings1, embeddings2 = embeddings1.astype(np.float32), embeddings2.astype(np.float32)
        return embeddings1, embeddings2

    @property
    def description(self) -> str:
        return "Semantic Similarity"

    def get_config_dict(self) -> dict:
        return {key: getattr(self, key) for key in ("truncate_dim", "precision") if getattr(self, key) is not None}
