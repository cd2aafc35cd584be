"""BinaryClassificationEvaluator: how well a similarity threshold separates similar (1) from
dissimilar (0) pairs: accuracy, F1, precision, recall (at their best thresholds), average precision
and Matthews correlation, per similarity function, as sentence-transformers.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np

from ..errors import SentforgeError
from ..similarity import SimilarityFunction
from .base import SentenceEvaluator, append_csv_row, embed, epoch_text, model_similarity_fn_name
from .scoring import average_precision, matthews_corrcoef

logger = logging.getLogger(__name__)

_METRICS = ("accuracy", "accuracy_threshold", "f1", "precision", "recall", "f1_threshold", "ap", "mcc")
# name -> (label in the log, True when a higher score means "more similar")
_FUNCTIONS = {
    "cosine": ("Cosine-Similarity", True),
    "dot": ("Dot-Product", True),
    "manhattan": ("Manhattan-Distance", False),
    "euclidean": ("Euclidean-Distance", False),
}


def _sorted_rows(scores, labels, high_score_more_similar: bool) -> list[tuple]:
    return sorted(zip(scores, labels), key=lambda row: row[0], reverse=high_score_more_similar)


def _midpoint(rows: list[tuple], i: int):
    """Threshold between score group i and the next one (never equal to the next score)."""
    if i == len(rows) - 1:
        return rows[i][0]
    middle = (rows[i][0] + rows[i + 1][0]) / 2
    return rows[i][0] if middle == rows[i + 1][0] else middle


class BinaryClassificationEvaluator(SentenceEvaluator):
    """Threshold-based classification of (sentence1, sentence2) pairs with labels 0 or 1.

    Distances (euclidean, manhattan) are reported as positive distances with "smaller = similar"
    thresholds. The primary metric is ``<function>_ap`` (``max_ap`` for several functions).
    """

    def __init__(
        self,
        sentences1: list[str],
        sentences2: list[str],
        labels: list[int],
        name: str = "",
        batch_size: int = 32,
        show_progress_bar: bool = False,
        write_csv: bool = True,
        truncate_dim: int | None = None,
        similarity_fn_names: list[Literal["cosine", "dot", "euclidean", "manhattan"]] | None = None,
    ):
        super().__init__()
        if not len(sentences1) == len(sentences2) == len(labels):
            raise SentforgeError(
                f"BinaryClassificationEvaluator got {len(sentences1)} sentences1, {len(sentences2)} sentences2 and "
                f"{len(labels)} labels; pass one label per (sentence1, sentence2) pair."
            )
        bad = sorted({repr(label) for label in labels if label not in (0, 1)})
        if bad:
            raise SentforgeError(
                f"BinaryClassificationEvaluator needs labels 0 (dissimilar) or 1 (similar), got {', '.join(bad[:5])}. "
                "Map your labels to 0/1, or use EmbeddingSimilarityEvaluator for graded similarity scores."
            )
        unknown = sorted(set(similarity_fn_names or []) - set(_FUNCTIONS))
        if unknown:
            raise SentforgeError(f"Unknown similarity_fn_names {unknown}; use any of {sorted(_FUNCTIONS)}.")
        self.sentences1 = sentences1
        self.sentences2 = sentences2
        self.labels = labels
        self.name = name
        self.batch_size = batch_size
        self.show_progress_bar = show_progress_bar
        self.write_csv = write_csv
        self.truncate_dim = truncate_dim
        self.similarity_fn_names = list(similarity_fn_names or [])
        self.csv_file = "binary_classification_evaluation" + (f"_{name}" if name else "") + "_results.csv"
        if self.similarity_fn_names:
            many = len(self.similarity_fn_names) > 1
            self.primary_metric = self.prefixed("max_ap" if many else f"{self.similarity_fn_names[0]}_ap")

    @property
    def csv_headers(self) -> list[str]:
        return ["epoch", "steps"] + [f"{fn}_{m}" for fn in self.similarity_fn_names for m in _METRICS]

    @classmethod
    def from_input_examples(cls, examples, **kwargs) -> "BinaryClassificationEvaluator":
        """Build from InputExample-like objects with ``texts=[s1, s2]`` and a 0/1 ``label``."""
        return cls(
            [ex.texts[0] for ex in examples], [ex.texts[1] for ex in examples], [ex.label for ex in examples], **kwargs
        )

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        logger.info(
            f"Binary Accuracy Evaluation of the model on the {self.name} dataset"
            f"{epoch_text(epoch, steps, self.truncate_dim)}:"
        )
        if not self.similarity_fn_names:
            self.similarity_fn_names = [model_similarity_fn_name(model)]
        if len(set(self.labels)) < 2:
            logger.warning(
                f"All {len(self.labels)} labels are {self.labels[0] if self.labels else '-'}: accuracy and AP are "
                "trivial; add pairs of the other class for a meaningful binary evaluation."
            )
        scores = self.compute_metrics(model)

        if output_path is not None and self.write_csv:
            row = [scores[fn][m] for fn in self.similarity_fn_names for m in _METRICS]
            append_csv_row(output_path, self.csv_file, self.csv_headers, [epoch, steps, *row])

        metrics = {f"{fn}_{metric}": value for fn, values in scores.items() for metric, value in values.items()}
        if len(self.similarity_fn_names) > 1:
            first = next(iter(scores.values()))
            metrics.update({f"max_{metric}": max(scores[fn][metric] for fn in scores) for metric in first})
            self.primary_metric = "max_ap"
        else:
            self.primary_metric = f"{self.similarity_fn_names[0]}_ap"
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    def compute_metrics(self, model) -> dict[str, dict[str, float]]:
        """Per similarity function: {accuracy, accuracy_threshold, f1, f1_threshold, precision, recall, ap, mcc}."""
        embeddings1, embeddings2 = self._embed_pairs(model)
        labels = np.asarray(self.labels)
        results = {}
        for fn_name in self.similarity_fn_names:
            log_name, higher_is_similar = _FUNCTIONS[fn_name]
            sims = SimilarityFunction.to_similarity_pairwise_fn(fn_name)(embeddings1, embeddings2)
            scores = sims.detach().cpu().numpy()
            if not higher_is_similar:
                scores = -scores  # negative distances back into distances
            acc, acc_threshold = self.find_best_acc_and_threshold(scores, labels, higher_is_similar)
            f1, precision, recall, f1_threshold = self.find_best_f1_and_threshold(scores, labels, higher_is_similar)
            ap = average_precision(labels, scores if higher_is_similar else -scores)
            predicted = scores >= f1_threshold if higher_is_similar else scores <= f1_threshold
            mcc = matthews_corrcoef(labels, predicted)
            logger.info(f"Accuracy with {log_name}:             {acc * 100:.2f}\t(Threshold: {acc_threshold:.4f})")
            logger.info(f"F1 with {log_name}:                   {f1 * 100:.2f}\t(Threshold: {f1_threshold:.4f})")
            logger.info(f"Precision with {log_name}:            {precision * 100:.2f}")
            logger.info(f"Recall with {log_name}:               {recall * 100:.2f}")
            logger.info(f"Average Precision with {log_name}:    {ap * 100:.2f}")
            logger.info(f"Matthews Correlation with {log_name}: {mcc * 100:.2f}\n")
            results[fn_name] = {
                "accuracy": acc, "accuracy_threshold": acc_threshold, "f1": f1, "f1_threshold": f1_threshold,
                "precision": precision, "recall": recall, "ap": ap, "mcc": mcc,
            }
        return results

    compute_metrices = compute_metrics

    def _embed_pairs(self, model) -> tuple[np.ndarray, np.ndarray]:
        """Embed each distinct sentence once, then look the pairs up."""
        unique = list(dict.fromkeys([*self.sentences1, *self.sentences2]))
        embeddings = embed(
            model, unique, batch_size=self.batch_size, show_progress_bar=self.show_progress_bar,
            truncate_dim=self.truncate_dim,
        )
        position = {sentence: i for i, sentence in enumerate(unique)}
        embeddings = np.asarray(embeddings)
        return (
            embeddings[[position[s] for s in self.sentences1]],
            embeddings[[position[s] for s in self.sentences2]],
        )

    @staticmethod
    def find_best_acc_and_threshold(scores, labels, high_score_more_similar: bool) -> tuple[float, float]:
        """Best accuracy over all thresholds between consecutive distinct scores, and that threshold."""
        labels = np.asarray(labels)
        score_dtype = np.result_type(np.asarray(scores).dtype, np.float16)
        rows = _sorted_rows(scores, labels, high_score_more_similar)
        if not rows:
            return 0, -1
        negatives_left = int(np.sum(labels == 0))
        # start with the threshold that calls every pair dissimilar
        best_acc = negatives_left / len(labels)
        best_threshold = np.nextafter(rows[0][0], np.inf if high_score_more_similar else -np.inf, dtype=score_dtype)
        positives_above = 0
        for i, (score, label) in enumerate(rows):
            positives_above += label == 1
            negatives_left -= label == 0
            if i < len(rows) - 1 and score == rows[i + 1][0]:
                continue
            acc = (positives_above + negatives_left) / len(labels)
            if acc > best_acc:
                best_acc, best_threshold = acc, _midpoint(rows, i)
        return best_acc, best_threshold

    @staticmethod
    def find_best_f1_and_threshold(scores, labels, high_score_more_similar: bool) -> tuple[float, float, float, float]:
        """Best F1 over all thresholds, with its precision, recall and threshold."""
        labels = np.asarray(labels)
        rows = _sorted_rows(np.asarray(scores), labels, high_score_more_similar)
        best_f1 = best_precision = best_recall = 0
        threshold = 0
        total_positives = int(np.sum(labels))
        extracted = correct = 0
        for i, (score, label) in enumerate(rows):
            extracted += 1
            correct += label == 1
            if i < len(rows) - 1 and score == rows[i + 1][0]:
                continue
            if correct > 0:
                precision, recall = correct / extracted, correct / total_positives
                f1 = 2 * precision * recall / (precision + recall)
                if f1 > best_f1:
                    best_f1, best_precision, best_recall = f1, precision, recall
                    threshold = _midpoint(rows, i)
        return best_f1, best_precision, best_recall, threshold

    @property
    def description(self) -> str:
        return "Binary Classification"

    def get_config_dict(self) -> dict:
        return {"truncate_dim": self.truncate_dim} if self.truncate_dim is not None else {}
