"""``sentforge train-reranker``: mine hard negatives with a retriever, train a CrossEncoder, and measure
reranking of the retriever's top-k on held-out queries before and after.

"Before" is the retriever's own order; "after" is the trained cross-encoder's order of the same
top-k. A positive the retriever did not find stays missed (no positive is inserted), so the
numbers are those a search system with this reranker would get.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

import torch

from ..errors import SentforgeError
from ..format import write_file_atomically
from ..util.devices import check_bf16_support, checked_device
from . import reranker_data
from .embedding_cache import CachedEncoder
from .retrieval import reranking_samples, retrieve_top_k_scored

METRICS_FILE = "metrics.json"
TARGET_STEPS = 500
"""Optimisation steps a reranker is given when --epochs is not set: a small set gets several passes
(on SciFact's held-out claims 166 steps left the new head far below the retriever; 512 took it past
the retriever once fused, examples/RUNS.md)."""
MAX_EPOCHS = 4
HEAD_LR_FACTOR = 20.0
"""The head starts from random weights on a pretrained encoder: it learns at this many times the encoder's rate."""
EVALUATOR_NAME = "heldout"


@dataclass
class RerankerOptions:
    """Everything ``train-reranker`` takes; defaults as the command's."""

    data: str
    retriever: str
    base: str | None = None
    output: str | None = None
    epochs: float | None = None
    """None: enough passes for about TARGET_STEPS optimisation steps (1 to MAX_EPOCHS)."""
    batch_size: int = 32
    negatives: int = 5
    sampling: str = "random"
    """How the negatives are picked among the candidates below the skip line: "random" among the retriever's
    top ``top_k`` (the passages the reranker reorders), or "top", the highest-scoring ones."""
    skip_above: float = reranker_data.SKIP_ABOVE
    top_k: int = 100
    loss: str = "BinaryCrossEntropyLoss"
    lr: float = 5e-5
    head_lr: float | None = None
    """Learning rate of the new classification head; None: HEAD_LR_FACTOR times ``lr``."""
    max_length: int | None = None
    corpus: str | None = None
    seed: int = 42
    max_steps: int = -1
    eval_batch_size: int = 64
    device: str | None = None
    """Where the retriever and the reranker run; None: cuda when there is one, else cpu."""
    bf16: bool = False
    """Train in bfloat16 mixed precision (meant for GPUs; on CPU sentforge's float32 path is faster)."""


def train_reranker(options: RerankerOptions, say: Callable[[str], None] = print,
                   progress: Any = None) -> dict[str, Any]:
    """Run the whole recipe; returns (and writes to ``<output>/metrics.json``) the before/after metrics.

    ``progress``: a trainer callback that shows training progress in place of transformers' printed
    log dicts (the command passes its progress bar / plain lines)."""
    from ..model import SentenceTransformer
    from .evaluation import CrossEncoderRerankingEvaluator
    from .model import CrossEncoder

    output = options.output or _default_output(options)
    check_options(options)
    queries, positives = _load_pairs(options.data)
    split = reranker_data.split_pairs(queries, positives, options.seed)
    extra = load_corpus(options.corpus) if options.corpus else []
    corpus = list(dict.fromkeys([*positives, *extra]))
    say(f"{len(split.train_queries)} training rows, {len(split.eval_queries)} held-out queries"
        f"{f' ({split.dropped} rows straddling the split left out)' if split.dropped else ''}; corpus of "
        f"{len(corpus)} passages.")
    # mining and retrieval embed the corpus once
    retriever = CachedEncoder(SentenceTransformer(options.retriever, device=options.device))
    random.seed(options.seed)  # the sampled negatives
    train = reranker_data.training_rows(split, retriever, corpus, options.loss, options.negatives, options.skip_above,
                                        sampling=options.sampling, top_k=options.top_k)
    picked = (f"{options.negatives} per query at random from its top {options.top_k}" if options.sampling == "random"
              else f"the {options.negatives} highest-scoring per query")
    say(f"Mined hard negatives with {options.retriever} ({picked}): {len(train)} training rows for {options.loss}.")
    retrieved, cosines = retrieve_top_k_scored(retriever, split.eval_queries, corpus, options.top_k)
    evaluator = CrossEncoderRerankingEvaluator(
        reranking_samples(split.eval_queries, split.eval_positives, corpus, retrieved), at_k=10,
        always_rerank_positives=False, name=EVALUATOR_NAME, batch_size=options.eval_batch_size,
    )
    del retriever
    torch.manual_seed(options.seed)  # the new head's initialisation
    model = CrossEncoder(options.base or options.retriever, max_length=options.max_length, device=options.device)
    trainer = _trainer(model, train, evaluator, options, output, progress)
    started = time.perf_counter()
    trainer.train()
    train_seconds = time.perf_counter() - started
    after = trainer.run_evaluator()
    model.save(output)
    result = _result(options, split, len(train), after, train_seconds, len(corpus))
    result["learning_rate_mapping"] = dict(trainer.args.learning_rate_mapping)
    result["epochs"] = training_epochs(len(train), options)
    result["fused"] = fuse_on_heldout(model, evaluator, cosines, output, options.eval_batch_size)
    card_problem = note_fusion_in_card(output, result)
    if card_problem:
        say(card_problem)
    result["output"] = output
    write_file_atomically(os.path.join(output, METRICS_FILE), (json.dumps(result, indent=2) + "\n").encode("utf-8"))
    return result


def fuse_on_heldout(model, evaluator, cosines: list[list[float]], output: str, batch_size: int = 64) -> dict[str, Any]:
    """Choose the reranker's weight against the retriever's cosine on the held-out queries; save it."""
    from . import score_fusion

    scored = score_fusion.score_queries(model, evaluator.samples, cosines, batch_size,
                                        known=getattr(evaluator, "last_scores", None))  # scored by the evaluation
    weight, table = score_fusion.choose_weight(evaluator, scored)
    score_fusion.save_fusion(output, weight, f"{len(scored)} held-out queries, top {len(cosines[0]) if cosines else 0}",
                             table)
    return {"reranker_weight": weight, **score_fusion.metrics_at(evaluator, scored, weight)}


def note_fusion_in_card(output: str, result: dict[str, Any]) -> str | None:
    """Add the held-out comparison of retriever, reranker and fused orders to the saved card;
    returns what went wrong when the card could not be rewritten (the model stays saved)."""
    from . import score_fusion

    from ..card.write import RUN_INFO_FILE

    if not os.path.isfile(os.path.join(output, RUN_INFO_FILE)):
        return None
    weight = result["fused"]["reranker_weight"]
    rows = [f"| {name} | {result[key]['ndcg@10']:.4f} | {result[key]['map']:.4f} |"
            for name, key in (("retriever (cosine)", "retriever"), ("reranker alone", "reranked"),
                              (f"fused, reranker weight {weight:g}", "fused"))]
    section = "\n".join([
        "## Reranking with the retriever", "",
        f"On {result['heldout_queries']} held-out queries (the retriever's top {result['options']['top_k']}), the order "
        f"by `{weight:g} x reranker + {1 - weight:g} x cosine` (scores standardised per query) was the best of the "
        f"weights 0, 0.05, ..., 1. `sentforge search --rerank` and `serve --reranker` use it "
        f"(`{score_fusion.FUSION_FILE}`).", "",
        "| Order | nDCG@10 | MAP |", "|:--|--:|--:|", *rows, "", "",
    ])
    return add_card_section(output, section)


def add_card_section(output: str, section: str) -> str | None:
    """Keep ``section`` in the saved run record and rewrite the card from it (so regenerating keeps it);
    returns a message when the card could not be rewritten, else None."""
    from ..card.write import load_run_info, write_model_card

    try:
        info = load_run_info(output)
    except SentforgeError as error:
        return str(error)
    info.extra_sections = [*info.extra_sections, section]
    return write_model_card(output, info)


def check_options(options: RerankerOptions) -> None:
    """Refuse settings that cannot work, before any model is loaded."""
    if options.loss not in reranker_data.SUPPORTED_LOSSES:
        raise SentforgeError(
            f"train-reranker cannot train {options.loss!r} from (query, positive) data; use one of "
            f"{', '.join(sorted(reranker_data.SUPPORTED_LOSSES))} (MSELoss/MarginMSELoss need teacher scores, "
            "CrossEntropyLoss class labels)."
        )
    for name, value in (("--negatives", options.negatives), ("--top-k", options.top_k),
                        ("--batch-size", options.batch_size)):
        if value < 1:
            raise SentforgeError(f"{name} must be at least 1, got {value}.")
    reranker_data.check_sampling(options.sampling)
    if not 0 < options.skip_above <= 1:
        raise SentforgeError(f"--skip-above must be in (0, 1], got {options.skip_above}.")
    if options.lr <= 0 or (options.head_lr is not None and options.head_lr <= 0):
        raise SentforgeError(f"--lr and --head-lr must be above 0, got {options.lr:g} and {options.head_lr}.")
    if options.epochs is not None and options.epochs <= 0 and options.max_steps <= 0:
        raise SentforgeError(f"--epochs must be above 0, got {options.epochs}.")
    checked_device(options.device)
    if options.bf16:
        check_bf16_support(options.device)


def _trainer(model, train, evaluator, options: RerankerOptions, output: str, progress: Any = None):
    from . import losses
    from .trainer import CrossEncoderTrainer
    from .training_args import CrossEncoderTrainingArguments

    loss_class = getattr(losses, options.loss)
    if options.loss == "BinaryCrossEntropyLoss":
        loss = loss_class(model, pos_weight=torch.tensor(float(options.negatives)))  # one positive per N negatives
    else:
        loss = loss_class(model)
    args = CrossEncoderTrainingArguments(
        output_dir=output, num_train_epochs=training_epochs(len(train), options), max_steps=options.max_steps,
        per_device_train_batch_size=options.batch_size, learning_rate=options.lr, warmup_ratio=0.1,
        learning_rate_mapping=_head_mapping(model, options),
        seed=options.seed, eval_strategy="no", save_strategy="no", logging_steps=max(1, _steps(train, options) // 20),
        report_to=[], disable_tqdm=True, use_cpu=model.device.type == "cpu",
        dataloader_drop_last=options.loss in reranker_data.TUPLE_LOSSES, bf16=options.bf16,
    )
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=train, loss=loss, evaluator=evaluator,
                                  callbacks=[progress] if progress is not None else None)
    if progress is not None:
        from ..training.printed_logs import drop_printed_logs

        drop_printed_logs(trainer)
    trainer.baseline_metrics = _retriever_metrics(evaluator)  # "before" = the retriever's order; no base-model pass
    return trainer


def head_learning_rate(options: RerankerOptions, new_head: bool = True) -> float:
    """The head's learning rate: ``--head-lr``; else HEAD_LR_FACTOR times ``--lr`` for a new head
    (a model that was not a cross-encoder yet) and ``--lr`` for a trained one."""
    if options.head_lr is not None:
        return options.head_lr
    return options.lr * HEAD_LR_FACTOR if new_head else options.lr


def _head_mapping(model, options: RerankerOptions) -> dict[str, float]:
    from .head import head_parameter_pattern

    rate = head_learning_rate(options, bool(getattr(model.model, "new_head_weights", True)))
    return {} if rate == options.lr else {head_parameter_pattern(model): rate}


def _retriever_metrics(evaluator) -> dict[str, float]:
    """The held-out metrics of the retriever's own order, under the reranked metrics' names."""
    return {f"{EVALUATOR_NAME}_{key}": value for key, value in retriever_order_metrics(evaluator).items()}


def retriever_order_metrics(evaluator) -> dict[str, float]:
    """MAP, MRR@k and nDCG@k of the documents in retrieved order (no model needed)."""
    import numpy as np

    per_query = []
    for sample in evaluator.samples:
        relevant = [int(doc in sample["positive"]) for doc in sample["documents"]]
        order = np.arange(len(relevant), 0, -1)
        per_query.append(evaluator.compute_metrics(relevant, order, len(sample["positive"])))
    mrr, ndcg, ap = (float(np.mean(values)) for values in zip(*per_query))
    return {"map": ap, f"mrr@{evaluator.at_k}": mrr, f"ndcg@{evaluator.at_k}": ndcg}


def _steps(train, options: RerankerOptions) -> int:
    if options.max_steps > 0:
        return options.max_steps
    return max(1, math.ceil(len(train) / options.batch_size * training_epochs(len(train), options)))


def training_epochs(rows: int, options: RerankerOptions) -> float:
    """``--epochs``, or passes enough for about TARGET_STEPS steps at this batch size (1 to MAX_EPOCHS):
    the new head needs a few hundred updates whatever the data's size."""
    if options.epochs is not None:
        return options.epochs
    per_epoch = max(1, math.ceil(rows / options.batch_size))
    return float(min(MAX_EPOCHS, max(1, math.ceil(TARGET_STEPS / per_epoch))))


def _result(options: RerankerOptions, split, train_rows: int, after: dict[str, float], train_seconds: float,
            corpus_size: int) -> dict[str, Any]:
    prefix = f"{EVALUATOR_NAME}_"
    reranked = {k[len(prefix):]: v for k, v in after.items() if k.startswith(prefix) and "base_" not in k}
    retrieval = {k[len(prefix) + 5:]: v for k, v in after.items() if k.startswith(prefix + "base_")}
    return {
        "options": asdict(options),
        "train_rows": train_rows,
        "heldout_queries": len(split.eval_queries),
        "rows_left_out": split.dropped,
        "corpus_size": corpus_size,
        "train_seconds": round(train_seconds, 1),
        "retriever": retrieval,
        "reranked": reranked,
    }


def _load_pairs(data: str) -> tuple[list[str], list[str]]:
    from ..recipes.sources import load_source

    dataset = load_source(data, what="DATA")
    query_column, positive_column = reranker_data.query_positive_columns(dataset)
    return list(dataset[query_column]), list(dataset[positive_column])


def load_corpus(source: str) -> list[str]:
    """Extra passages: ``scifact:corpus``, a .txt file (one per line) or a table (its text column)."""
    if source == "scifact:corpus":
        from ..data.shared_sets import load_scifact

        return list(load_scifact("test").corpus.values())
    if source.endswith(".txt"):
        with open(source, encoding="utf-8") as handle:
            return [line.strip() for line in handle if line.strip()]
    from ..data.load import load_data

    table = load_data(source)
    if "text" in table.column_names:
        titles = table["title"] if "title" in table.column_names else [""] * len(table)
        return [f"{title or ''} {text or ''}".strip() for title, text in zip(titles, table["text"])]
    columns = [n for n, f in table.features.items() if getattr(f, "dtype", None) == "string"]
    if not columns:
        raise SentforgeError(f"--corpus {source!r} has no text column; pass a .txt file or a table with 'text'.")
    return [text for text in table[columns[0]] if isinstance(text, str) and text.strip()]


def _default_output(options: RerankerOptions) -> str:
    def slug(text: str) -> str:
        return "".join(c if c.isalnum() or c in "-_." else "-" for c in os.path.basename(text.rstrip("/")))

    return os.path.join("output", f"reranker-{slug(options.base or options.retriever)}-{slug(options.data)}")
