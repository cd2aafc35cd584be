"""CrossEncoderRerankingEvaluator: rerank each query's documents with the model; MAP, MRR@k, nDCG@k.

Same samples, metrics and keys as sentence-transformers. Samples are ``{"query", "positive",
"negative"}`` or ``{"query", "positive", "documents"}``; with ``documents`` (e.g. a retriever's
top-k, in its order) the metrics of that order come too, as ``base_map``, ``base_mrr@k`` and
``base_ndcg@k``. ``always_rerank_positives=False`` reranks only what the retriever found (a
positive it missed counts as missed), which is what a reranker in production sees.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ...evaluation.base import SentenceEvaluator, append_csv_row, epoch_text
from ...evaluation.scoring import average_precision

logger = logging.getLogger(__name__)


class CrossEncoderRerankingEvaluator(SentenceEvaluator):
    """Metrics ``map``, ``mrr@<at_k>``, ``ndcg@<at_k>`` (primary), and ``base_*`` for samples with documents."""

    def __init__(self, samples: list[dict[str, Any]] | dict, at_k: int = 10, always_rerank_positives: bool = True,
                 name: str = "", prompt_name: str | None = None, batch_size: int = 64, show_progress_bar: bool = False,
                 write_csv: bool = True, mrr_at_k: int | None = None) -> None:
        super().__init__()
        self.samples = list(samples.values()) if isinstance(samples, dict) else samples
        if mrr_at_k is not None:
            logger.warning(f"The `mrr_at_k` parameter has been deprecated; please use `at_k={mrr_at_k}` instead.")
        self.at_k = mrr_at_k if mrr_at_k is not None else at_k
        self.always_rerank_positives = always_rerank_positives
        self.name = name
        self.prompt_name = prompt_name
        self.batch_size = batch_size
        self.show_progress_bar = show_progress_bar
        self.write_csv = write_csv
        self.csv_file = "CrossEncoderRerankingEvaluator" + (f"_{name}" if name else "") + f"_results_@{self.at_k}.csv"
        self.csv_headers = ["epoch", "steps", "MAP", f"MRR@{self.at_k}", f"NDCG@{self.at_k}"]
        self.primary_metric = f"ndcg@{self.at_k}"

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        logger.info(f"CrossEncoderRerankingEvaluator: Evaluating the model on the {self.name} dataset"
                    f"{epoch_text(epoch, steps)}:")
        plans, base = [], []
        pairs: list[list[str]] = []
        for sample in self.samples:
            plan, base_metrics = self._plan(sample)
            plans.append(plan)
            if base_metrics is not None:
                base.append(base_metrics)
            if plan is not None:
                pairs.extend([sample["query"], doc] for doc in plan[0])
        scores = (model.predict(pairs, prompt_name=self.prompt_name, batch_size=self.batch_size,
                                convert_to_numpy=True, show_progress_bar=self.show_progress_bar)
                  if pairs else np.array([]))
        per_sample, offset = [], 0
        self.last_scores: list[np.ndarray | None] = []  # each sample's document scores (None: not scored)
        for plan in plans:
            if plan is None:
                per_sample.append((0.0, 0.0, 0.0))
                self.last_scores.append(None)
                continue
            docs, relevant, positives = plan
            per_sample.append(self.compute_metrics(relevant, scores[offset : offset + len(docs)], positives))
            self.last_scores.append(np.asarray(scores[offset : offset + len(docs)]))
            offset += len(docs)
        mrr, ndcg, ap = (float(np.mean(values)) for values in zip(*per_sample))
        metrics = {"map": ap, f"mrr@{self.at_k}": mrr, f"ndcg@{self.at_k}": ndcg}
        if base:
            base_mrr, base_ndcg, base_ap = (float(np.mean(values)) for values in zip(*base))
            metrics.update({"base_map": base_ap, f"base_mrr@{self.at_k}": base_mrr,
                            f"base_ndcg@{self.at_k}": base_ndcg})
            logger.info(f"MAP: {base_ap * 100:.2f} -> {ap * 100:.2f}; NDCG@{self.at_k}: {base_ndcg * 100:.2f} -> "
                        f"{ndcg * 100:.2f}")
        else:
            logger.info(f"MAP: {ap * 100:.2f}; MRR@{self.at_k}: {mrr * 100:.2f}; NDCG@{self.at_k}: {ndcg * 100:.2f}")
        if output_path is not None and self.write_csv:
            append_csv_row(output_path, self.csv_file, self.csv_headers, [epoch, steps, ap, mrr, ndcg])
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    def _plan(self, sample: dict[str, Any]):
        """(documents to score, their relevance, number of positives) and the retriever-order metrics."""
        for key in ("query", "positive"):
            if key not in sample:
                raise ValueError(f"CrossEncoderRerankingEvaluator requires a '{key}' key in each sample.")
        if ("negative" in sample) == ("documents" in sample):
            raise ValueError(
                "CrossEncoderRerankingEvaluator requires exactly one of 'negative' and 'documents' in each sample."
            )
        positive = [sample["positive"]] if isinstance(sample["positive"], str) else list(sample["positive"])
        base_metrics = None
        if "documents" in sample:
            documents = list(sample["documents"])
            base_relevant = [int(doc in positive) for doc in documents]
            base_metrics = self.compute_metrics(base_relevant, np.arange(len(documents), 0, -1), len(positive))
            if self.always_rerank_positives:
                docs = positive + [doc for doc in documents if doc not in positive]
                relevant = [1] * len(positive) + [0] * (len(docs) - len(positive))
            else:
                docs, relevant = documents, base_relevant
        else:
            docs = positive + list(sample["negative"])
            relevant = [1] * len(positive) + [0] * len(sample["negative"])
        if sum(relevant) == 0:
            return None, base_metrics
        return (docs, relevant, len(positive)), base_metrics

    def compute_metrics(self, y_true, y_pred, num_positives: int | None = None) -> tuple[float, float, float]:
        """(MRR@k, nDCG@k, AP) of one ranking; a positive the documents lack counts as missed."""
        retrieved = int(sum(y_true))
        if retrieved == 0:
            return 0.0, 0.0, 0.0
        num_positives = max(num_positives or 0, retrieved)
        y_pred = np.asarray(y_pred, dtype=np.float64)
        ranking = np.argsort(y_pred)[::-1]
        mrr = 0.0
        for rank, index in enumerate(ranking[: self.at_k]):
            if y_true[index]:
                mrr = 1.0 / (rank + 1)
                break
        dcg = _tie_averaged_dcg(np.asarray(y_true, dtype=np.float64), y_pred, self.at_k) if len(y_true) > 1 \
            else float(y_true[0])
        ideal = float(np.sum(1 / np.log2(np.arange(2, min(num_positives, self.at_k) + 2))))
        ap = average_precision(y_true, y_pred) * (retrieved / num_positives)
        return mrr, dcg / ideal, ap

    def get_config_dict(self) -> dict[str, Any]:
        config: dict[str, Any] = {"at_k": self.at_k}
        if self.samples and "documents" in self.samples[0]:
            config["always_rerank_positives"] = self.always_rerank_positives
        return config


def _tie_averaged_dcg(relevance: np.ndarray, scores: np.ndarray, k: int) -> float:
    """DCG@k where tied scores share the average gain of their positions (scikit-learn's dcg_score)."""
    discount = 1.0 / np.log2(np.arange(len(relevance)) + 2)
    discount[k:] = 0.0
    distinct, inverse, counts = np.unique(-scores, return_inverse=True, return_counts=True)
    gains = np.zeros(len(distinct))
    np.add.at(gains, inverse.ravel(), relevance)
    group_discounts = np.diff(np.cumsum(discount)[np.cumsum(counts) - 1], prepend=0.0)
    return float(np.sum(gains / counts * group_discounts))
