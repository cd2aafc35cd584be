"""Rerank all-MiniLM-L6-v2's SciFact results with a cross-encoder trained by `sentforge train-reranker`,
and with sentence-transformers' CrossEncoderTrainer on the same rows and hyperparameters.

1. `sentforge train-reranker scifact:train --retriever all-MiniLM-L6-v2 --corpus scifact:corpus ...`
   (hard negatives mined from all 5,183 abstracts, 10% of the train claims held out by group).
2. The same training rows (the command's own functions, same seed) trained with
   sentence-transformers' CrossEncoder + CrossEncoderTrainer, same loss and hyperparameters.
3. SciFact test (300 claims): all-MiniLM-L6-v2 retrieves the top-k of the 5,183 abstracts;
   each cross-encoder reranks them (both scored by sentforge's predict; sentence-transformers' model is
   saved and loaded, which keeps its scores within 1e-5). nDCG@10 of retrieval alone (published: 0.6451),
   reranked, and fused with the retriever's cosine at the weight each model got on the same held-out
   claims (the command's own choice for sentforge's; the same procedure for sentence-transformers').

    python examples/scifact_reranker.py [--top-k 100] [--negatives 5] [--max-length 128] [--epochs N]
        [--lr 5e-5] [--head-lr X] [--output output/scifact-reranker] [--skip-st] [--json results.json]
        [--device cuda|cpu]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time

import torch

PUBLISHED_RETRIEVAL_NDCG10 = 0.6451


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top-k", type=int, default=100)
    parser.add_argument("--negatives", type=int, default=5)
    parser.add_argument("--sampling", choices=("random", "top"), default="random")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--epochs", type=float, default=None, help="default: the command's choice from the rows")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--head-lr", type=float, default=None,
                        help="the new head's learning rate in both libraries (default: the command's, 20 x --lr)")
    parser.add_argument("--max-steps", type=int, default=-1)
    parser.add_argument("--output", default="output/scifact-reranker")
    parser.add_argument("--skip-st", action="store_true", help="do not train the sentence-transformers reranker")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--device", default=None,
                        help="where both libraries train and score (default: cuda when there is one, else cpu)")
    opts = parser.parse_args(argv)
    opts.device = opts.device or ("cuda" if torch.cuda.is_available() else "cpu")
    return opts


def train_with_sentforge(opts) -> dict:
    from typer.testing import CliRunner

    from sentforge.cli import app

    command = ["train-reranker", "scifact:train", "--retriever", "all-MiniLM-L6-v2", "--corpus", "scifact:corpus",
               "--negatives", str(opts.negatives), "--sampling", opts.sampling, "--top-k", str(opts.top_k),
               "--max-length", str(opts.max_length),
               "--batch-size", str(opts.batch_size), "--lr", str(opts.lr),
               "--max-steps", str(opts.max_steps), "--output", os.path.join(opts.output, "sentforge"),
               "--device", opts.device]
    command += ["--epochs", str(opts.epochs)] if opts.epochs is not None else []
    command += ["--head-lr", str(opts.head_lr)] if opts.head_lr is not None else []
    result = CliRunner().invoke(app, command)
    print(result.output)
    if result.exit_code != 0:
        raise SystemExit(f"train-reranker failed (exit {result.exit_code})")
    with open(os.path.join(opts.output, "sentforge", "metrics.json"), encoding="utf-8") as handle:
        return json.load(handle)


def train_with_sentence_transformers(opts, retriever) -> tuple[object, float, int, float]:
    """The command's training rows (same split, same mining), trained by sentence-transformers; the fusion
    weight chosen on the command's held-out claims by the command's procedure."""
    from sentence_transformers.cross_encoder import (
        CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments, losses,
    )

    from sentforge.cross_encoder import reranker_data, score_fusion
    from sentforge.cross_encoder.evaluation import CrossEncoderRerankingEvaluator
    from sentforge.cross_encoder.head import head_parameter_pattern
    from sentforge.cross_encoder.reranker_training import (
        RerankerOptions, _load_pairs, head_learning_rate, load_corpus, training_epochs,
    )
    from sentforge.cross_encoder.retrieval import reranking_samples, retrieve_top_k_scored
    from sentforge.packaged_models import packaged_model_dir

    options = RerankerOptions(data="scifact:train", retriever="all-MiniLM-L6-v2", negatives=opts.negatives,
                              sampling=opts.sampling, top_k=opts.top_k,
                              epochs=opts.epochs, batch_size=opts.batch_size, lr=opts.lr, head_lr=opts.head_lr)
    queries, positives = _load_pairs(options.data)
    split = reranker_data.split_pairs(queries, positives, options.seed)
    corpus = list(dict.fromkeys([*positives, *load_corpus("scifact:corpus")]))
    random.seed(options.seed)  # the sampled negatives, as the command does
    rows = reranker_data.training_rows(split, retriever, corpus, options.loss, options.negatives, options.skip_above,
                                       sampling=options.sampling, top_k=opts.top_k)
    torch.manual_seed(options.seed)  # the new head's initialisation, as the command does
    model = CrossEncoder(packaged_model_dir("all-MiniLM-L6-v2"), max_length=opts.max_length, device=opts.device)
    args = CrossEncoderTrainingArguments(
        output_dir=os.path.join(opts.output, "st-run"), num_train_epochs=training_epochs(len(rows), options),
        max_steps=opts.max_steps,
        per_device_train_batch_size=opts.batch_size, learning_rate=opts.lr, warmup_ratio=0.1, seed=options.seed,
        eval_strategy="no", save_strategy="no", report_to=[], disable_tqdm=True, use_cpu=opts.device == "cpu",
        learning_rate_mapping={head_parameter_pattern(model.model): head_learning_rate(options)},
    )
    loss = losses.BinaryCrossEntropyLoss(model, pos_weight=torch.tensor(float(opts.negatives)))
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=rows, loss=loss)
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    hits, cosines = retrieve_top_k_scored(retriever, split.eval_queries, corpus, opts.top_k)
    heldout = reranking_samples(split.eval_queries, split.eval_positives, corpus, hits)
    evaluator = CrossEncoderRerankingEvaluator(heldout, at_k=10, always_rerank_positives=False)
    weight, _ = score_fusion.choose_weight(evaluator, score_fusion.score_queries(model, heldout, cosines))
    return model, seconds, len(rows), weight


def scifact_test_samples(top_k: int, retriever) -> tuple[list[dict], list[list[float]]]:
    from sentforge.cross_encoder.retrieval import reranking_samples, retrieve_top_k_scored
    from sentforge.data.shared_sets import load_scifact

    test = load_scifact("test")
    doc_ids = list(test.corpus)
    corpus = [test.corpus[d] for d in doc_ids]
    query_ids = list(test.queries)
    hits, cosines = retrieve_top_k_scored(retriever, [test.queries[q] for q in query_ids], corpus, top_k)
    positives = [[test.corpus[d] for d in sorted(test.relevant_docs[q])] for q in query_ids]
    return reranking_samples([test.queries[q] for q in query_ids], positives, corpus, hits), cosines


def rerank_test(model, samples: list[dict], cosines: list[list[float]], weight: float) -> dict:
    """Test metrics of the retriever's order, the reranker's alone and fused at ``weight`` (one scoring pass)."""
    from sentforge.cross_encoder import score_fusion
    from sentforge.cross_encoder.evaluation import CrossEncoderRerankingEvaluator

    evaluator = CrossEncoderRerankingEvaluator(samples, at_k=10, always_rerank_positives=False)
    started = time.perf_counter()
    scored = score_fusion.score_queries(model, samples, cosines)
    return {"retrieval": score_fusion.metrics_at(evaluator, scored, 0.0),
            "reranked": score_fusion.metrics_at(evaluator, scored, 1.0),
            "fused": {"reranker_weight": weight, **score_fusion.metrics_at(evaluator, scored, weight)},
            "seconds": round(time.perf_counter() - started, 1)}


def main(argv=None) -> dict:
    opts = parse_args(argv)
    from sentforge import SentenceTransformer
    from sentforge.cross_encoder import CrossEncoder
    from sentforge.cross_encoder.embedding_cache import CachedEncoder

    results: dict = {"settings": vars(opts)}
    results["command"] = train_with_sentforge(opts)
    retriever = CachedEncoder(SentenceTransformer("all-MiniLM-L6-v2", device=opts.device))  # test retrieval and ST's mining share it
    samples, cosines = scifact_test_samples(opts.top_k, retriever)
    ours = CrossEncoder(os.path.join(opts.output, "sentforge"), device=opts.device)
    results["sentforge_test"] = rerank_test(ours, samples, cosines, results["command"]["fused"]["reranker_weight"])
    print("SciFact test, sentforge reranker:", results["sentforge_test"])
    if not opts.skip_st:
        model, seconds, rows, weight = train_with_sentence_transformers(opts, retriever)
        results["st_train_seconds"], results["st_train_rows"] = round(seconds, 1), rows
        st_dir = os.path.join(opts.output, "sentence-transformers")
        model.save_pretrained(st_dir)  # scored by the same predict as ours (parity within 1e-5 is tested)
        results["st_test"] = rerank_test(CrossEncoder(st_dir, device=opts.device), samples, cosines, weight)
        print("SciFact test, sentence-transformers reranker:", results["st_test"])
    if opts.json:
        with open(opts.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
    return results


if __name__ == "__main__":
    main()
