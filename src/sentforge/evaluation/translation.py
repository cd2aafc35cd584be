"""TranslationEvaluator: for parallel sentences, how often a source sentence's nearest target (by
cosine similarity) is its own translation, and the reverse, as sentence-transformers.
"""

from __future__ import annotations

import logging

import numpy as np

from ..errors import SentforgeError
from ..similarity import cos_sim
from .base import SentenceEvaluator, append_csv_row, embed, epoch_text

logger = logging.getLogger(__name__)


class TranslationEvaluator(SentenceEvaluator):
    """``src2trg_accuracy``, ``trg2src_accuracy`` and their mean ``mean_accuracy`` (primary).

    A match counts as correct when the retrieved sentence's text equals the expected one, so exact
    duplicates in the data do not count as errors.
    """

    def __init__(
        self,
        source_sentences: list[str],
        target_sentences: list[str],
        show_progress_bar: bool = False,
        batch_size: int = 16,
        name: str = "",
        print_wrong_matches: bool = False,
        write_csv: bool = True,
        truncate_dim: int | None = None,
    ):
        super().__init__()
        if len(source_sentences) != len(target_sentences):
            raise SentforgeError(
                f"TranslationEvaluator got {len(source_sentences)} source and {len(target_sentences)} target "
                "sentences; pass parallel lists (target i is the translation of source i)."
            )
        self.source_sentences = source_sentences
        self.target_sentences = target_sentences
        self.show_progress_bar = show_progress_bar
        self.batch_size = batch_size
        self.name = name
        self.print_wrong_matches = print_wrong_matches
        self.write_csv = write_csv
        self.truncate_dim = truncate_dim
        self.csv_file = "translation_evaluation" + (f"_{name}" if name else "") + "_results.csv"
        self.csv_headers = ["epoch", "steps", "src2trg", "trg2src"]
        self.primary_metric = self.prefixed("mean_accuracy")

    def _embed(self, model, sentences: list[str]):
        return embed(
            model, sentences, batch_size=self.batch_size, show_progress_bar=self.show_progress_bar,
            as_tensor=True, truncate_dim=self.truncate_dim,
        )

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        logger.info(
            f"Evaluating translation matching Accuracy of the model on the {self.name} dataset"
            f"{epoch_text(epoch, steps, self.truncate_dim)}:"
        )
        sims = cos_sim(self._embed(model, self.source_sentences), self._embed(model, self.target_sentences))
        sims = sims.detach().cpu().numpy()
        best_target = np.argmax(sims, axis=1)
        best_source = np.argmax(sims, axis=0)
        correct_src2trg = 0
        for i, j in enumerate(best_target):
            if self.target_sentences[i] == self.target_sentences[j]:
                correct_src2trg += 1
            elif self.print_wrong_matches:
                print(f"\nIncorrect  : Source {i} is most similar to target {j} instead of target {i}")
                print("Source     :", self.source_sentences[i])
                print("Pred Target:", self.target_sentences[j], f"(Score: {sims[i][j]:.4f})")
                print("True Target:", self.target_sentences[i], f"(Score: {sims[i][i]:.4f})")
        correct_trg2src = sum(self.source_sentences[i] == self.source_sentences[j] for i, j in enumerate(best_source))
        acc_src2trg = correct_src2trg / len(sims)
        acc_trg2src = correct_trg2src / len(sims)
        logger.info(f"Accuracy src2trg: {acc_src2trg * 100:.2f}")
        logger.info(f"Accuracy trg2src: {acc_trg2src * 100:.2f}")
        if output_path is not None and self.write_csv:
            append_csv_row(output_path, self.csv_file, self.csv_headers, [epoch, steps, acc_src2trg, acc_trg2src])
        metrics = {
            "src2trg_accuracy": acc_src2trg,
            "trg2src_accuracy": acc_trg2src,
            "mean_accuracy": (acc_src2trg + acc_trg2src) / 2,
        }
        self.primary_metric = "mean_accuracy"
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    def get_config_dict(self) -> dict:
        return {"truncate_dim": self.truncate_dim} if self.truncate_dim is not None else {}
