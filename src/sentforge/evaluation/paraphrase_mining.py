"""Paraphrase mining (the most similar sentence pairs of a collection) and ParaphraseMiningEvaluator,
which scores the mined pairs against known duplicates, as sentence-transformers.
"""

from __future__ import annotations

import heapq
import logging
from collections import defaultdict
from typing import Callable

from torch import Tensor

from ..search import _as_2d_tensor, semantic_search
from ..similarity import cos_sim
from .base import SentenceEvaluator, append_csv_row, epoch_text

logger = logging.getLogger(__name__)

ScoreFunction = Callable[[Tensor, Tensor], Tensor]


def paraphrase_mining(
    model,
    sentences: list[str],
    show_progress_bar: bool = False,
    batch_size: int = 32,
    query_chunk_size: int = 5000,
    corpus_chunk_size: int = 100000,
    max_pairs: int = 500000,
    top_k: int = 100,
    score_function: ScoreFunction = cos_sim,
    truncate_dim: int | None = None,
    prompt_name: str | None = None,
    prompt: str | None = None,
) -> list[list[float | int]]:
    """The most similar sentence pairs in ``sentences``: ``[score, i, j]`` with i < j, best first."""
    optional = {"truncate_dim": truncate_dim, "prompt_name": prompt_name, "prompt": prompt}
    embeddings = model.encode(
        sentences, show_progress_bar=show_progress_bar, batch_size=batch_size, convert_to_tensor=True,
        **{key: value for key, value in optional.items() if value is not None},
    )
    return paraphrase_mining_embeddings(
        embeddings, query_chunk_size=query_chunk_size, corpus_chunk_size=corpus_chunk_size,
        max_pairs=max_pairs, top_k=top_k, score_function=score_function,
    )


def paraphrase_mining_embeddings(
    embeddings: Tensor,
    query_chunk_size: int = 5000,
    corpus_chunk_size: int = 100000,
    max_pairs: int = 500000,
    top_k: int = 100,
    score_function: ScoreFunction = cos_sim,
) -> list[list[float | int]]:
    """Paraphrase mining on precomputed embeddings; ``score_function`` must be symmetric."""
    embeddings = _as_2d_tensor(embeddings)
    # each sentence's top_k neighbours (itself excluded), via semantic search with one extra hit
    neighbours = semantic_search(
        embeddings, embeddings, query_chunk_size=query_chunk_size, corpus_chunk_size=corpus_chunk_size,
        top_k=top_k + 1, score_function=score_function,
    )
    pairs: list[tuple[float, int, int]] = []  # min-heap capped at max_pairs
    queued: set[tuple[int, int]] = set()
    min_score = float("-inf")
    for i, hits in enumerate(neighbours):
        for hit in [hit for hit in hits if hit["corpus_id"] != i][:top_k]:
            j, score = hit["corpus_id"], hit["score"]
            pair = (i, j) if i < j else (j, i)
            if score <= min_score or pair in queued:
                continue
            queued.add(pair)
            if len(pairs) < max_pairs:
                heapq.heappush(pairs, (score, *pair))
            else:
                evicted = heapq.heappushpop(pairs, (score, *pair))
                queued.discard(evicted[1:])
                min_score = evicted[0]
    return sorted(([score, i, j] for score, i, j in pairs), key=lambda row: row[0], reverse=True)



class ParaphraseMiningEvaluator(SentenceEvaluator):
    """Mine paraphrase pairs among ``sentences_map`` (id -> sentence) and score them against the known
    duplicate pairs: average precision (primary), and the F1 / precision / recall at the best threshold.
    """

    def __init__(
        self,
        sentences_map: dict[str, str],
        duplicates_list: list[tuple[str, str]] | None = None,
        duplicates_dict: dict[str, dict[str, bool]] | None = None,
        add_transitive_closure: bool = False,
        query_chunk_size: int = 5000,
        corpus_chunk_size: int = 100000,
        max_pairs: int = 500000,
        top_k: int = 100,
        show_progress_bar: bool = False,
        batch_size: int = 16,
        name: str = "",
        write_csv: bool = True,
        truncate_dim: int | None = None,
    ):
        super().__init__()
        self.ids = list(sentences_map)
        self.sentences = [sentences_map[i] for i in self.ids]
        self.name = name
        self.show_progress_bar = show_progress_bar
        self.batch_size = batch_size
        self.query_chunk_size = query_chunk_size
        self.corpus_chunk_size = corpus_chunk_size
        self.max_pairs = max_pairs
        self.top_k = top_k
        self.truncate_dim = truncate_dim
        self.write_csv = write_csv
        self._add_transitive_closure = add_transitive_closure
        self.duplicates = duplicates_dict if duplicates_dict is not None else defaultdict(lambda: defaultdict(bool))
        for id1, id2 in duplicates_list or []:
            if id1 in sentences_map and id2 in sentences_map:
                self.duplicates[id1][id2] = self.duplicates[id2][id1] = True
        if add_transitive_closure:
            self.duplicates = self.add_transitive_closure(self.duplicates)
        self.total_num_duplicates = len({
            tuple(sorted((a, b)))
            for a in self.duplicates for b in self.duplicates[a]
            if a in sentences_map and b in sentences_map and (self.duplicates[a][b] or self.duplicates[b][a])
        })
        self.csv_file = "paraphrase_mining_evaluation" + (f"_{name}" if name else "") + "_results.csv"
        self.csv_headers = ["epoch", "steps", "precision", "recall", "f1", "threshold", "average_precision"]
        self.primary_metric = self.prefixed("average_precision")

    def _is_duplicate(self, id1: str, id2: str) -> bool:
        return bool(self.duplicates.get(id1, {}).get(id2) or self.duplicates.get(id2, {}).get(id1))

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        logger.info(
            f"Paraphrase Mining Evaluation of the model on the {self.name} dataset"
            f"{epoch_text(epoch, steps, self.truncate_dim)}:"
        )
        pairs = paraphrase_mining(
            model, self.sentences, show_progress_bar=self.show_progress_bar, batch_size=self.batch_size,
            query_chunk_size=self.query_chunk_size, corpus_chunk_size=self.corpus_chunk_size,
            max_pairs=self.max_pairs, top_k=self.top_k, truncate_dim=self.truncate_dim,
        )
        logger.info(f"Number of candidate pairs: {len(pairs)}")
        extracted = correct = previous_correct = 0
        threshold = best_f1 = best_precision = best_recall = 0
        average_precision = 0.0
        for idx, (score, i, j) in enumerate(pairs):
            extracted += 1
            correct += self._is_duplicate(self.ids[i], self.ids[j])
            if idx + 1 < len(pairs) and pairs[idx + 1][0] == score:
                continue  # equal scores form one threshold
            if correct > previous_correct:
                precision = correct / extracted
                recall = correct / self.total_num_duplicates if self.total_num_duplicates else 0.0
                f1 = 2 * precision * recall / (precision + recall)
                average_precision += precision * (correct - previous_correct)
                if f1 > best_f1:
                    best_f1, best_precision, best_recall = f1, precision, recall
                    threshold = (score + pairs[min(idx + 1, len(pairs) - 1)][0]) / 2
            previous_correct = correct
        average_precision = average_precision / self.total_num_duplicates if self.total_num_duplicates else 0
        logger.info(f"Average Precision: {average_precision * 100:.2f}")
        logger.info(f"Optimal threshold: {threshold:.4f}")
        logger.info(f"Precision: {best_precision * 100:.2f}")
        logger.info(f"Recall: {best_recall * 100:.2f}")
        logger.info(f"F1: {best_f1 * 100:.2f}\n")

        if output_path is not None and self.write_csv:
            row = [epoch, steps, best_precision, best_recall, best_f1, threshold, average_precision]
            append_csv_row(output_path, self.csv_file, self.csv_headers, row)
        metrics = {
            "average_precision": average_precision, "f1": best_f1, "precision": best_precision,
            "recall": best_recall, "threshold": threshold,
        }
        self.primary_metric = "average_precision"
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    @staticmethod
    def add_transitive_closure(graph):
        """Mark every pair inside each connected group of duplicates as duplicates."""
        visited: set = set()
        for start in list(graph):
            if start in visited:
                continue
            group, queue = {start}, [node for node, dup in graph[start].items() if dup]
            while queue:
                node = queue.pop(0)
                if node not in group:
                    group.add(node)
                    queue.extend(n for n, dup in graph[node].items() if dup)
            members = list(group)
            for a_pos, a in enumerate(members):
                for b in members[a_pos + 1 :]:
                    graph[a][b] = graph[b][a] = True
                    visited.update((a, b))
        return graph

    def get_config_dict(self) -> dict:
        config = {
            "add_transitive_closure": self._add_transitive_closure, "max_pairs": self.max_pairs, "top_k": self.top_k
        }
        if self.truncate_dim is not None:
            config["truncate_dim"] = self.truncate_dim
        return config
