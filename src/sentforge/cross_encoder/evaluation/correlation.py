"""CrossEncoderCorrelationEvaluator: Pearson and Spearman of the model's scores against gold scores."""

from __future__ import annotations

import logging

import numpy as np
from scipy.stats import pearsonr, spearmanr

from ...evaluation.base import SentenceEvaluator, append_csv_row, epoch_text

logger = logging.getLogger(__name__)


class CrossEncoderCorrelationEvaluator(SentenceEvaluator):
    """Metrics ``pearson`` and ``spearman`` (primary); NaN (with the reason) when the gold scores are all equal."""

    def __init__(self, sentence_pairs: list[list[str]], scores: list[float], name: str = "",
                 prompt_name: str | None = None, batch_size: int = 32, show_progress_bar: bool | None = None,
                 write_csv: bool = True) -> None:
        super().__init__()
        self.sentence_pairs = sentence_pairs
        self.scores = scores
        self.name = name
        self.prompt_name = prompt_name
        self.batch_size = batch_size
        self.show_progress_bar = logger.getEffectiveLevel() <= logging.INFO if show_progress_bar is None \
            else show_progress_bar
        self.write_csv = write_csv
        self.csv_file = "CrossEncoderCorrelationEvaluator" + (f"_{name}" if name else "") + "_results.csv"
        self.csv_headers = ["epoch", "steps", "Pearson_Correlation", "Spearman_Correlation"]
        self.primary_metric = "spearman"

    @classmethod
    def from_input_examples(cls, examples, **kwargs) -> CrossEncoderCorrelationEvaluator:
        return cls([example.texts for example in examples], [example.label for example in examples], **kwargs)

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        logger.info(f"CrossEncoderCorrelationEvaluator: Evaluating the model on {self.name} dataset"
                    f"{epoch_text(epoch, steps)}:")
        predicted = model.predict(self.sentence_pairs, prompt_name=self.prompt_name, batch_size=self.batch_size,
                                  convert_to_numpy=True, show_progress_bar=self.show_progress_bar)
        if np.ptp(np.asarray(self.scores, dtype=float)) == 0 or np.ptp(predicted) == 0:
            pearson = spearman = float("nan")
        else:
            pearson, spearman = float(pearsonr(self.scores, predicted)[0]), float(spearmanr(self.scores, predicted)[0])
        logger.info(f"Correlation:\tPearson: {pearson:.4f}\tSpearman: {spearman:.4f}")
        if output_path is not None and self.write_csv:
            append_csv_row(output_path, self.csv_file, self.csv_headers, [epoch, steps, pearson, spearman])
        metrics = {"pearson": pearson, "spearman": spearman}
        if np.isnan(pearson):
            self._record_nan(metrics, ["pearson", "spearman"],
                             "a correlation is undefined when all gold scores (or all predicted scores) are equal; "
                             "use evaluation pairs whose scores vary")
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics
