"""InformationRetrievalEvaluator: rank a corpus for each query and score the ranking against the
relevant documents (accuracy, precision, recall, MRR, nDCG and MAP at k), as sentence-transformers.

Ties in score are broken by ascending corpus id, so the results do not depend on ``corpus_chunk_size``.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from ..errors import SentforgeError
from ..similarity import SimilarityFunction
from .base import SentenceEvaluator, append_csv_row, embed, epoch_text, model_similarity_fn_name, role_prompt
from .scoring import dcg_at_k

logger = logging.getLogger(__name__)

_METRIC_ORDER = ("accuracy@k", "precision@k", "recall@k", "ndcg@k", "mrr@k", "map@k")


def _to_numpy(scores) -> np.ndarray:
    if isinstance(scores, Tensor):
        scores = scores.detach().cpu()
        return (scores if scores.dtype in (torch.float32, torch.float64) else scores.float()).numpy()
    return np.asarray(scores)


class InformationRetrievalEvaluator(SentenceEvaluator):
    """Retrieval metrics for ``queries`` (qid -> text) over ``corpus`` (cid -> text), given
    ``relevant_docs`` (qid -> set of cids). Queries without relevant documents are skipped.

    Metric keys are ``<score function>_<metric>@<k>``, e.g. ``cosine_ndcg@10``; the primary metric is
    ``<main score function>_ndcg@<max ndcg k>`` (without a main one: the best-scoring function).
    """

    def __init__(
        self,
        queries: dict[str, str],
        corpus: dict[str, str],
        relevant_docs: dict[str, set[str]],
        corpus_chunk_size: int = 50000,
        mrr_at_k: list[int] = [10],
        ndcg_at_k: list[int] = [10],
        accuracy_at_k: list[int] = [1, 3, 5, 10],
        precision_recall_at_k: list[int] = [1, 3, 5, 10],
        map_at_k: list[int] = [100],
        show_progress_bar: bool = False,
        batch_size: int = 32,
        name: str = "",
        write_csv: bool = True,
        truncate_dim: int | None = None,
        score_functions: dict[str, Callable[[Tensor, Tensor], Tensor]] | None = None,
        main_score_function: str | SimilarityFunction | None = None,
        query_prompt: str | None = None,
        query_prompt_name: str | None = None,
        corpus_prompt: str | None = None,
        corpus_prompt_name: str | None = None,
        write_predictions: bool = False,
    ) -> None:
        super().__init__()
        self.queries_ids = [qid for qid in queries if len(relevant_docs.get(qid, ())) > 0]
        if not self.queries_ids:
            raise SentforgeError(
                f"None of the {len(queries)} queries has a relevant document in relevant_docs; check that the "
                "query ids used as keys of relevant_docs match the keys of queries (same type: str vs int)."
            )
        if not corpus:
            raise SentforgeError("The corpus is empty; pass a dict of corpus id -> document text.")
        self.queries = [queries[qid] for qid in self.queries_ids]
        self.corpus_ids = list(corpus)
        self.corpus = [corpus[cid] for cid in self.corpus_ids]
        self.relevant_docs = relevant_docs
        self.corpus_chunk_size = corpus_chunk_size
        self.mrr_at_k = mrr_at_k
        self.ndcg_at_k = ndcg_at_k
        self.accuracy_at_k = accuracy_at_k
        self.precision_recall_at_k = precision_recall_at_k
        self.map_at_k = map_at_k
        self.show_progress_bar = show_progress_bar
        self.batch_size = batch_size
        self.name = name
        self.write_csv = write_csv
        self.truncate_dim = truncate_dim
        self.score_functions = score_functions
        self.score_function_names = sorted(score_functions) if score_functions else []
        self._score_functions_from_model = score_functions is None
        self.main_score_function = SimilarityFunction(main_score_function) if main_score_function else None
        self.query_prompt = query_prompt
        self.query_prompt_name = query_prompt_name
        self.corpus_prompt = corpus_prompt
        self.corpus_prompt_name = corpus_prompt_name
        self.write_predictions = write_predictions
        suffix = f"_{name}" if name else ""
        self.csv_file = f"Information-Retrieval_evaluation{suffix}_results.csv"
        self.predictions_file = f"Information-Retrieval_evaluation{suffix}_predictions.jsonl"
        self._corpus_id_ranks = np.argsort(np.argsort(np.array(self.corpus_ids, dtype=object), kind="stable"))
        if self.main_score_function is not None:
            self.primary_metric = self.prefixed(f"{self.main_score_function.value}_ndcg@{max(ndcg_at_k)}")
        elif len(self.score_function_names) == 1:
            self.primary_metric = self.prefixed(f"{self.score_function_names[0]}_ndcg@{max(ndcg_at_k)}")

    @property
    def csv_headers(self) -> list[str]:
        headers = ["epoch", "steps"]
        for fn in self.score_function_names:
            headers += [f"{fn}-Accuracy@{k}" for k in self.accuracy_at_k]
            for k in self.precision_recall_at_k:
                headers += [f"{fn}-Precision@{k}", f"{fn}-Recall@{k}"]
            headers += [f"{fn}-MRR@{k}" for k in self.mrr_at_k]
            headers += [f"{fn}-NDCG@{k}" for k in self.ndcg_at_k]
            headers += [f"{fn}-MAP@{k}" for k in self.map_at_k]
        return headers

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1, *args, **kwargs):
        logger.info(
            f"Information Retrieval Evaluation of the model on the {self.name} dataset"
            f"{epoch_text(epoch, steps, self.truncate_dim)}:"
        )
        if self._score_functions_from_model:
            # resolved per call, so a reused evaluator follows each model's own similarity
            fn_name = model_similarity_fn_name(model)
            similarity = getattr(model, "similarity", None) or SimilarityFunction.to_similarity_fn(fn_name)
            self.score_functions = {fn_name: similarity}
            if self.score_function_names != [fn_name]:
                self.score_function_names = [fn_name]
                if self.main_score_function is None:
                    self.primary_metric = None

        scores = self.compute_all_metrics(model, *args, output_path=output_path, **kwargs)

        if output_path is not None and self.write_csv:
            row = [epoch, steps]
            for fn in self.score_function_names:
                row += [scores[fn]["accuracy@k"][k] for k in self.accuracy_at_k]
                for k in self.precision_recall_at_k:
                    row += [scores[fn]["precision@k"][k], scores[fn]["recall@k"][k]]
                row += [scores[fn]["mrr@k"][k] for k in self.mrr_at_k]
                row += [scores[fn]["ndcg@k"][k] for k in self.ndcg_at_k]
                row += [scores[fn]["map@k"][k] for k in self.map_at_k]
            append_csv_row(output_path, self.csv_file, self.csv_headers, row)

        k_ndcg = max(self.ndcg_at_k)
        if self.main_score_function is not None:
            self.primary_metric = f"{self.main_score_function.value}_ndcg@{k_ndcg}"
        elif not self.primary_metric:
            best = max(self.score_function_names, key=lambda fn: scores[fn]["ndcg@k"][k_ndcg])
            self.primary_metric = f"{best}_ndcg@{k_ndcg}"

        metrics = {
            f"{fn}_{metric.replace('@k', f'@{k}')}": value
            for fn, per_metric in scores.items()
            for metric, per_k in per_metric.items()
            for k, value in per_k.items()
        }
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    @property
    def max_k(self) -> int:
        return max(
            max(self.mrr_at_k), max(self.ndcg_at_k), max(self.accuracy_at_k),
            max(self.precision_recall_at_k), max(self.map_at_k),
        )

    def compute_all_metrics(
        self, model, corpus_model=None, corpus_embeddings: Tensor | None = None, output_path: str | None = None
    ) -> dict[str, dict[str, dict[int, float]]]:
        """Rank the corpus for every query; return {score function: {"ndcg@k": {10: ...}, ...}}."""
        corpus_model = corpus_model or model
        query_embeddings = self._embed(model, self.queries, "query", self.query_prompt, self.query_prompt_name)
        hits = {fn: [[] for _ in self.queries] for fn in self.score_functions}
        for start in range(0, len(self.corpus), self.corpus_chunk_size):
            end = min(start + self.corpus_chunk_size, len(self.corpus))
            if corpus_embeddings is None:
                chunk = self._embed(
                    corpus_model, self.corpus[start:end], "document", self.corpus_prompt, self.corpus_prompt_name
                )
            else:
                chunk = corpus_embeddings[start:end]
            for fn, score_function in self.score_functions.items():
                chunk_scores = _to_numpy(score_function(query_embeddings, chunk))
                for query_hits, row in zip(hits[fn], chunk_scores):
                    for idx in self._top_indices(row, start):
                        query_hits.append((float(row[idx]), self.corpus_ids[start + idx]))
                    query_hits.sort(key=lambda hit: (-hit[0], hit[1]))
                    del query_hits[self.max_k :]

        ranked = {
            fn: [[{"corpus_id": cid, "score": score} for score, cid in query_hits] for query_hits in per_query]
            for fn, per_query in hits.items()
        }
        if self.write_predictions and output_path is not None:
            self._write_predictions(output_path, ranked)
        logger.info(f"Queries: {len(self.queries)}")
        logger.info(f"Corpus: {len(self.corpus)}\n")
        scores = {fn: self.compute_metrics(ranked[fn]) for fn in self.score_functions}
        for fn in self.score_function_names:
            logger.info(f"Score-Function: {fn}")
            self.output_scores(scores[fn])
        return scores

    # sentence-transformers' older spelling
    compute_metrices = compute_all_metrics

    def _top_indices(self, row: np.ndarray, start: int) -> np.ndarray:
        """Indices of the chunk's best ``max_k`` scores under the order (-score, corpus id)."""
        k = min(self.max_k, len(row))
        if k == len(row):
            candidates = np.arange(len(row))
        else:
            candidates = np.argpartition(-row, k - 1)[:k]
            kth_score = row[candidates].min()
            if np.count_nonzero(row >= kth_score) > k:  # ties at the cut: take the lowest corpus ids
                candidates = np.flatnonzero(row >= kth_score)
        ranks = self._corpus_id_ranks[start + candidates]
        order = np.lexsort((ranks, -row[candidates]))
        return candidates[order][:k]

    def _embed(self, model, texts: list[str], role: str, prompt: str | None, prompt_name: str | None):
        prompt_name = role_prompt(model, role, prompt, prompt_name)
        return embed(
            model, texts, batch_size=self.batch_size, show_progress_bar=self.show_progress_bar, as_tensor=True,
            prompt=prompt, prompt_name=prompt_name, truncate_dim=self.truncate_dim,
        )

    def compute_metrics(self, queries_result_list: list[list[dict]]) -> dict[str, dict[int, float]]:
        """Metrics of ranked hits (one list per query, best first) against the relevant documents."""
        values = {metric: {k: [] for k in ks} for metric, ks in self._ks().items()}
        for query_id, hits in zip(self.queries_ids, queries_result_list):
            relevant = self.relevant_docs[query_id]
            top = sorted(hits, key=lambda hit: (-hit["score"], hit["corpus_id"]))
            is_hit = [hit["corpus_id"] in relevant for hit in top]
            for k in self.accuracy_at_k:
                values["accuracy@k"][k].append(float(any(is_hit[:k])))
            for k in self.precision_recall_at_k:
                values["precision@k"][k].append(sum(is_hit[:k]) / k)
                values["recall@k"][k].append(sum(is_hit[:k]) / len(relevant))
            for k in self.mrr_at_k:
                first = next((rank for rank, hit in enumerate(is_hit[:k]) if hit), None)
                values["mrr@k"][k].append(0.0 if first is None else 1.0 / (first + 1))
            for k in self.ndcg_at_k:
                ideal = dcg_at_k([1] * len(relevant), k)
                values["ndcg@k"][k].append(dcg_at_k([int(hit) for hit in is_hit], k) / ideal)
            for k in self.map_at_k:
                found, precision_sum = 0, 0.0
                for rank, hit in enumerate(is_hit[:k]):
                    if hit:
                        found += 1
                        precision_sum += found / (rank + 1)
                values["map@k"][k].append(precision_sum / min(k, len(relevant)))
        return {metric: {k: float(np.mean(v)) for k, v in per_k.items()} for metric, per_k in values.items()}

    def _ks(self) -> dict[str, list[int]]:
        return {
            "accuracy@k": self.accuracy_at_k,
            "precision@k": self.precision_recall_at_k,
            "recall@k": self.precision_recall_at_k,
            "ndcg@k": self.ndcg_at_k,
            "mrr@k": self.mrr_at_k,
            "map@k": self.map_at_k,
        }

    def output_scores(self, scores: dict[str, dict[int, float]]) -> None:
        for metric in _METRIC_ORDER:
            label = {"ndcg@k": "NDCG", "mrr@k": "MRR", "map@k": "MAP"}.get(metric, metric[:-2].capitalize())
            for k, value in scores[metric].items():
                shown = f"{value * 100:.2f}%" if metric in ("accuracy@k", "precision@k", "recall@k") else f"{value:.4f}"
                logger.info(f"{label}@{k}: {shown}")

    def _write_predictions(self, output_path: str, ranked: dict[str, list[list[dict]]]) -> None:
        os.makedirs(output_path, exist_ok=True)
        for fn, per_query in ranked.items():
            path = os.path.join(output_path, self.predictions_file.replace(".jsonl", f"_{fn}.jsonl"))
            with open(path, "w", encoding="utf-8") as f:
                for query_id, query, results in zip(self.queries_ids, self.queries, per_query):
                    f.write(json.dumps({"query_id": query_id, "query": query, "results": results}) + "\n")

    @property
    def description(self) -> str:
        return "Information Retrieval"

    def get_config_dict(self) -> dict:
        keys = ("truncate_dim", "query_prompt", "query_prompt_name", "corpus_prompt", "corpus_prompt_name")
        return {key: getattr(self, key) for key in keys if getattr(self, key) is not None}
