"""MSEEvaluator: mean squared error (x100) between a teacher's and the model's embeddings, the
metric of multilingual knowledge distillation; reported as ``negative_mse`` so higher is better.
"""

from __future__ import annotations

import logging

import numpy as np

from ..errors import SentforgeError
from .base import SentenceEvaluator, append_csv_row, embed, epoch_text

logger = logging.getLogger(__name__)


class MSEEvaluator(SentenceEvaluator):
    """MSE x 100 between ``teacher_model.encode(source_sentences)`` (computed once, here) and
    ``model.encode(target_sentences)``; primary metric ``negative_mse``."""

    def __init__(
        self,
        source_sentences: list[str],
        target_sentences: list[str],
        teacher_model=None,
        show_progress_bar: bool = False,
        batch_size: int = 32,
        name: str = "",
        write_csv: bool = True,
        truncate_dim: int | None = None,
    ):
        super().__init__()
        if len(source_sentences) != len(target_sentences):
            raise SentforgeError(
                f"source_sentences ({len(source_sentences)}) and target_sentences ({len(target_sentences)}) must "
                "have the same length: pass one target (e.g. translation) per source sentence."
            )
        if teacher_model is None:
            raise SentforgeError("MSEEvaluator needs teacher_model= to embed the source sentences.")
        self.target_sentences = target_sentences
        self.show_progress_bar = show_progress_bar
        self.batch_size = batch_size
        self.name = name
        self.write_csv = write_csv
        self.truncate_dim = truncate_dim
        self.csv_file = "mse_evaluation_" + name + "_results.csv"
        self.csv_headers = ["epoch", "steps", "MSE"]
        self.primary_metric = self.prefixed("negative_mse")
        self.source_embeddings = self._embed(teacher_model, source_sentences)

    def _embed(self, model, sentences: list[str]) -> np.ndarray:
        return embed(
            model, sentences, batch_size=self.batch_size, show_progress_bar=self.show_progress_bar,
            truncate_dim=self.truncate_dim,
        )

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        target_embeddings = self._embed(model, self.target_sentences)
        mse = float(((self.source_embeddings - target_embeddings) ** 2).mean() * 100)
        logger.info(
            f"MSE evaluation (lower = better) on the {self.name} dataset{epoch_text(epoch, steps, self.truncate_dim)}:"
        )
        logger.info(f"MSE (*100):\t{mse:4f}")
        if output_path is not None and self.write_csv:
            append_csv_row(output_path, self.csv_file, self.csv_headers, [epoch, steps, mse])
        self.primary_metric = "negative_mse"
        metrics = self.prefix_name_to_metrics({"negative_mse": -mse}, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    @property
    def description(self) -> str:
        return "Knowledge Distillation"

    def get_config_dict(self) -> dict:
        return {"truncate_dim": self.truncate_dim} if self.truncate_dim is not None else {}
