"""CrossEncoderClassificationEvaluator: accuracy/F1/AP (one label) or macro/micro/weighted F1 (several)."""

from __future__ import annotations

import logging

import numpy as np

from ...evaluation.base import SentenceEvaluator, append_csv_row, epoch_text
from ...evaluation.binary import BinaryClassificationEvaluator
from ...evaluation.scoring import average_precision

logger = logging.getLogger(__name__)


class CrossEncoderClassificationEvaluator(SentenceEvaluator):
    """Pairs with labels: 0/1 for a one-label model, class ids for a multi-label one (sentence-transformers' keys)."""

    def __init__(self, sentence_pairs: list[list[str]], labels: list[int], *, name: str = "",
                 prompt_name: str | None = None, batch_size: int = 32, show_progress_bar: bool | None = None,
                 write_csv: bool = True, **kwargs) -> None:
        super().__init__()
        if len(sentence_pairs) != len(labels):
            raise ValueError("sentence_pairs and labels must have the same length")
        self.sentence_pairs = sentence_pairs
        self.labels = np.asarray(labels)
        self.name = name
        self.prompt_name = prompt_name
        self.batch_size = batch_size
        self.show_progress_bar = logger.getEffectiveLevel() <= logging.INFO if show_progress_bar is None \
            else show_progress_bar
        self.write_csv = write_csv
        self.csv_file = "CrossEncoderClassificationEvaluator" + (f"_{name}" if name else "") + "_results.csv"
        self.csv_headers: list[str] = []

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        logger.info(f"CrossEncoderClassificationEvaluator: Evaluating the model on {self.name} dataset"
                    f"{epoch_text(epoch, steps)}:")
        scores = model.predict(self.sentence_pairs, prompt_name=self.prompt_name, batch_size=self.batch_size,
                               convert_to_numpy=True, show_progress_bar=self.show_progress_bar)
        if model.num_labels == 1:
            metrics = self._binary(scores)
            self.csv_headers = ["epoch", "steps", "Accuracy", "Accuracy_Threshold", "F1", "F1_Threshold",
                                "Precision", "Recall", "Average_Precision"]
            self.primary_metric = "average_precision"
        else:
            metrics = self._multi_class(np.argmax(scores, axis=1))
            self.csv_headers = ["epoch", "steps", "Macro_F1", "Micro_F1", "Weighted_F1"]
            self.primary_metric = "f1_macro"
        logger.info(", ".join(f"{key}: {value:.4f}" for key, value in metrics.items()))
        if output_path is not None and self.write_csv:
            append_csv_row(output_path, self.csv_file, self.csv_headers, [epoch, steps, *metrics.values()])
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    def _binary(self, scores: np.ndarray) -> dict[str, float]:
        acc, acc_threshold = BinaryClassificationEvaluator.find_best_acc_and_threshold(scores, self.labels, True)
        f1, precision, recall, f1_threshold = BinaryClassificationEvaluator.find_best_f1_and_threshold(
            scores, self.labels, True
        )
        return {"accuracy": acc, "accuracy_threshold": acc_threshold, "f1": f1, "f1_threshold": f1_threshold,
                "precision": precision, "recall": recall,
                "average_precision": average_precision(self.labels, scores)}

    def _multi_class(self, predicted: np.ndarray) -> dict[str, float]:
        return {"f1_macro": _f1(self.labels, predicted, "macro"), "f1_micro": _f1(self.labels, predicted, "micro"),
                "f1_weighted": _f1(self.labels, predicted, "weighted")}


def _f1(labels: np.ndarray, predicted: np.ndarray, average: str) -> float:
    """scikit-learn's f1_score for class ids (labels seen in either array; 0 where undefined)."""
    if average == "micro":
        return float(np.mean(labels == predicted))
    classes = np.union1d(labels, predicted)
    scores, support = [], []
    for label in classes:
        tp = np.sum((predicted == label) & (labels == label))
        fp = np.sum((predicted == label) & (labels != label))
        fn = np.sum((predicted != label) & (labels == label))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
        support.append(np.sum(labels == label))
    if average == "macro":
        return float(np.mean(scores))
    return float(np.average(scores, weights=support)) if np.sum(support) else 0.0
