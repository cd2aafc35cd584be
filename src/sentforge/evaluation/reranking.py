"""RerankingEvaluator: for each query with known positive and negative documents, rank the documents
by similarity and report MAP, MRR@k and nDCG@k, as sentence-transformers.
"""

from __future__ import annotations

import logging
from typing import Callable

import numpy as np
import torch

from ..errors import SentforgeError
from ..similarity import cos_sim
from .base import SentenceEvaluator, append_csv_row, embed, epoch_text, role_prompt
from .scoring import average_precision, ndcg_at_k

logger = logging.getLogger(__name__)


class RerankingEvaluator(SentenceEvaluator):
    """``samples``: a list (or dict) of ``{"query": str, "positive": [str], "negative": [str]}``.

    Samples without positives or without negatives are skipped. Metrics ``map``, ``mrr@<at_k>`` and
    ``ndcg@<at_k>`` (primary).
    """

    def __init__(
        self,
        samples: list[dict] | dict,
        at_k: int = 10,
        name: str = "",
        write_csv: bool = True,
        similarity_fct: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = cos_sim,
        batch_size: int = 64,
        show_progress_bar: bool = False,
        use_batched_encoding: bool = True,
        truncate_dim: int | None = None,
        mrr_at_k: int | None = None,
    ):
        super().__init__()
        if mrr_at_k is not None:
            logger.warning(f"`mrr_at_k` is deprecated; use `at_k={mrr_at_k}` instead.")
        self.at_k = mrr_at_k if mrr_at_k is not None else at_k
        samples = list(samples.values()) if isinstance(samples, dict) else samples
        as_list = lambda docs: [docs] if isinstance(docs, str) else list(docs)  # noqa: E731
        self.samples = [
            {**s, "positive": as_list(s["positive"]), "negative": as_list(s["negative"])} for s in samples
        ]
        self.samples = [s for s in self.samples if s["positive"] and s["negative"]]
        if not self.samples:
            raise SentforgeError(
                "RerankingEvaluator has no sample with both a positive and a negative document; each sample "
                "needs {'query': ..., 'positive': [...], 'negative': [...]} with non-empty lists."
            )
        self.name = name
        self.write_csv = write_csv
        self.similarity_fct = similarity_fct
        self.batch_size = batch_size
        self.show_progress_bar = show_progress_bar
        self.use_batched_encoding = use_batched_encoding
        self.truncate_dim = truncate_dim
        self.csv_file = "RerankingEvaluator" + (f"_{name}" if name else "") + f"_results_@{self.at_k}.csv"
        self.csv_headers = ["epoch", "steps", "MAP", f"MRR@{self.at_k}", f"NDCG@{self.at_k}"]
        self.primary_metric = self.prefixed(f"ndcg@{self.at_k}")

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        logger.info(
            f"RerankingEvaluator: Evaluating the model on the {self.name} dataset"
            f"{epoch_text(epoch, steps, self.truncate_dim)}:"
        )
        scores = self.compute_metrics(model)
        logger.info(f"Queries: {len(self.samples)}")
        logger.info(f"MAP: {scores['map'] * 100:.2f}")
        logger.info(f"MRR@{self.at_k}: {scores['mrr'] * 100:.2f}")
        logger.info(f"NDCG@{self.at_k}: {scores['ndcg'] * 100:.2f}")
        if output_path is not None and self.write_csv:
            row = [epoch, steps, scores["map"], scores["mrr"], scores["ndcg"]]
            append_csv_row(output_path, self.csv_file, self.csv_headers, row)
        metrics = {"map": scores["map"], f"mrr@{self.at_k}": scores["mrr"], f"ndcg@{self.at_k}": scores["ndcg"]}
        self.primary_metric = f"ndcg@{self.at_k}"
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    def compute_metrics(self, model) -> dict[str, float]:
        """Mean AP, MRR@k and nDCG@k over the samples."""
        docs = [doc for s in self.samples for doc in s["positive"] + s["negative"]]
        if self.use_batched_encoding:
            query_embeddings = self._embed(model, [s["query"] for s in self.samples], "query")
            doc_embeddings = self._embed(model, docs, "document")
        mrr, ndcg, ap = [], [], []
        offset = 0
        for i, sample in enumerate(self.samples):
            n_docs = len(sample["positive"]) + len(sample["negative"])
            if self.use_batched_encoding:
                query, documents = query_embeddings[i], doc_embeddings[offset : offset + n_docs]
            else:
                query = self._embed(model, [sample["query"]], "query")
                documents = self._embed(model, docs[offset : offset + n_docs], "document")
            offset += n_docs
            pred = self.similarity_fct(query, documents)
            pred = (pred[0] if pred.dim() > 1 else pred).detach().cpu().numpy()
            is_relevant = [1] * len(sample["positive"]) + [0] * len(sample["negative"])
            ranking = np.argsort(-pred, kind="stable")[: self.at_k]
            first = next((rank for rank, idx in enumerate(ranking) if is_relevant[idx]), None)
            mrr.append(0.0 if first is None else 1.0 / (first + 1))
            ndcg.append(ndcg_at_k(is_relevant, pred, self.at_k))
            ap.append(average_precision(is_relevant, pred))
        return {"map": float(np.mean(ap)), "mrr": float(np.mean(mrr)), "ndcg": float(np.mean(ndcg))}

    compute_metrices = compute_metrics

    def _embed(self, model, texts: list[str], role: str):
        return embed(
            model, texts, batch_size=self.batch_size, show_progress_bar=self.show_progress_bar, as_tensor=True,
            truncate_dim=self.truncate_dim, prompt_name=role_prompt(model, role, None, None),
        )

    def get_config_dict(self) -> dict:
        config: dict = {"at_k": self.at_k}
        if self.truncate_dim is not None:
            config["truncate_dim"] = self.truncate_dim
        return config
