"""Cross-encoder training throughput (pairs/s), sentforge vs sentence-transformers, same hyperparameters.

Each library's own CrossEncoderTrainer, one fresh process per run (never two at once), a
CrossEncoder built from all-MiniLM-L6-v2's encoder with a new one-label head, BinaryCrossEntropyLoss
(pos_weight = negatives per positive) on SciFact train: each (claim, cited abstract) pair with
label 1 plus ``--negatives`` random abstracts with label 0 (seeded; the same rows for both).
Batch 32, lr 2e-5, warmup_ratio 0.1, seed 42, ``--max-length`` tokens per pair (default: the
model's 512), no eval, no saving, no logging. Only ``trainer.train()`` is timed.

    .venv/bin/python benchmarks/bench_cross_encoder.py [--max-steps 20] [--repeats 1]
        [--max-length 512] [--negatives 4] [--no-record]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time

from transformers import TrainerCallback

import common

BATCH_SIZE = 32


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-steps", type=int, default=20, help="steps per run (<= 0: one full epoch)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per contender, alternating")
    parser.add_argument("--max-length", type=int, default=None, help="tokens per pair (default: the model's)")
    parser.add_argument("--negatives", type=int, default=4, help="random negatives per positive")
    parser.add_argument("--child", metavar="JSON", help=argparse.SUPPRESS)
    common.add_common_args(parser)
    return parser.parse_args()


def scifact_rows(negatives: int, seed: int = 42) -> dict[str, list]:
    """(query, passage, label) columns from ../shared/data/scifact, read without either library."""
    def read_jsonl(name: str) -> list[dict]:
        with open(common.shared_data_file("scifact", name), encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    queries = {row["_id"]: row["text"] for row in read_jsonl("queries.jsonl")}
    corpus = {row["_id"]: f"{row.get('title') or ''} {row.get('text') or ''}".strip()
              for row in read_jsonl("corpus.jsonl")}
    with open(common.shared_data_file("scifact", "qrels", "train.tsv"), encoding="utf-8") as handle:
        qrels = [(r["query-id"], r["corpus-id"]) for r in csv.DictReader(handle, delimiter="\t")
                 if float(r["score"]) > 0]
    rng = random.Random(seed)
    ids = sorted(corpus)
    rows: dict[str, list] = {"query": [], "passage": [], "label": []}
    for query_id, doc_id in qrels:
        for passage, label in [(corpus[doc_id], 1)] + [(corpus[d], 0) for d in rng.sample(ids, negatives)]:
            rows["query"].append(queries[query_id])
            rows["passage"].append(passage)
            rows["label"].append(label)
    order = list(range(len(rows["label"])))
    rng.shuffle(order)
    return {column: [values[i] for i in order] for column, values in rows.items()}


class StepClock(TrainerCallback):
    """Wall time at the end of each step, for the rate after the first step (setup left out)."""

    def __init__(self) -> None:
        self.marks: list[float] = []

    def on_step_end(self, args, state, control, **kwargs):
        self.marks.append(time.perf_counter())


def run_training(spec: dict) -> dict:
    """One training run in this process; returns seconds, steps, pairs and token counts."""
    common.quiet()
    import torch
    from datasets import Dataset

    if spec["library"] == "st":
        from sentence_transformers.cross_encoder import (
            CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments, losses,
        )
    else:
        from sentforge.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments, losses
    torch.manual_seed(42)
    model = CrossEncoder(common.minilm_path(), device="cpu", max_length=spec["max_length"])
    if spec["library"] == "sentforge":
        model.fast_forward = spec["fast_forward"]
    dataset = Dataset.from_dict(scifact_rows(spec["negatives"]))
    loss = losses.BinaryCrossEntropyLoss(model, pos_weight=torch.tensor(float(spec["negatives"])))
    tokens = {"pairs": 0, "real_tokens": 0, "padded_tokens": 0}
    tokenize = model.preprocess
    loss_forward = loss.forward

    def counting_forward(inputs, labels, *args, **kwargs):  # pairs as the loss sees them, the same in both
        tokens["pairs"] += len(inputs[0])
        mask = tokenize(list(zip(inputs[0], inputs[1])))["attention_mask"]
        tokens["real_tokens"] += int(mask.sum())
        tokens["padded_tokens"] += int(mask.numel())
        return loss_forward(inputs, labels, *args, **kwargs)

    loss.forward = counting_forward
    clock = StepClock()
    with tempfile.TemporaryDirectory() as output_dir:
        args = CrossEncoderTrainingArguments(
            output_dir=output_dir, num_train_epochs=1, max_steps=spec["max_steps"] if spec["max_steps"] > 0 else -1,
            per_device_train_batch_size=BATCH_SIZE, learning_rate=2e-5, warmup_ratio=0.1, seed=42, report_to=[],
            eval_strategy="no", save_strategy="no", logging_strategy="no", disable_tqdm=True,
        )
        trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=dataset, loss=loss, callbacks=[clock])
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    steps = trainer.state.global_step
    after = clock.marks[-1] - clock.marks[0] if len(clock.marks) > 1 else 0.0
    return {"seconds": seconds, "steps": steps, "pairs": tokens["pairs"], "tokens": tokens,
            "after_first_step_s": after, "max_length": model.max_length}


def main() -> int:
    args = parse_args()
    common.setup(args)
    if args.child:
        common.emit_child_result(run_training(json.loads(args.child)))
        return 0
    contenders = {"ST": ("st", False)}
    contenders.update({common.contender_name("sentforge", ff): ("sentforge", ff)
                       for ff in common.fast_forward_settings(args.fast_forward)})
    results: dict[str, list] = {name: [] for name in contenders}
    names = list(contenders)
    for round_index in range(args.repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            library, fast_forward = contenders[name]
            spec = {"library": library, "fast_forward": fast_forward, "max_steps": args.max_steps,
                    "max_length": args.max_length, "negatives": args.negatives}
            result = common.run_child("bench_cross_encoder.py", ["--child", json.dumps(spec)])
            print(f"  {name}: {result['pairs'] / result['seconds']:.2f} pairs/s, {result['steps']} steps, "
                  f"peak RSS {result['peak_rss_mb']:.0f} MB", flush=True)
            results[name].append(result)
    speed = {n: common.median([r["pairs"] / r["seconds"] for r in runs]) for n, runs in results.items()}
    steady = {n: common.median([r["pairs"] * (r["steps"] - 1) / r["steps"] / r["after_first_step_s"]
                                for r in runs if r["after_first_step_s"] > 0] or [0.0]) for n, runs in results.items()}
    rows = []
    for name, runs in results.items():
        first = runs[0]
        real_share = first["tokens"]["real_tokens"] / max(first["tokens"]["padded_tokens"], 1)
        rows.append([name, first["steps"], first["pairs"], f"{real_share:.0%}", f"{speed[name]:.2f}",
                     common.ratio(speed[name], speed["ST"]), f"{steady[name]:.2f}",
                     common.ratio(steady[name], steady["ST"]), f"{max(r['peak_rss_mb'] for r in runs):.0f}"])
    headers = ["contender", "steps", "pairs", "real / padded tokens", "pairs/s (median)", "vs ST",
               "pairs/s after step 1", "vs ST (after step 1)", "peak RSS MB"]
    max_length = next(iter(results.values()))[0]["max_length"]
    notes = [
        f"BinaryCrossEntropyLoss (pos_weight {args.negatives}), batch {BATCH_SIZE}, lr 2e-5, warmup_ratio 0.1, "
        f"seed 42, max_length {max_length}, " + (f"max_steps {args.max_steps}" if args.max_steps > 0 else "1 epoch")
        + "; no eval, no saving, no logging; each library's own CrossEncoderTrainer; only trainer.train() is timed",
        f"data: SciFact train (claim, cited abstract) pairs + {args.negatives} random abstracts each (label 0), "
        f"shuffled with seed 42; CrossEncoder from all-MiniLM-L6-v2 with a new head (same seed)",
        f"each run in a fresh process, {args.repeats} run(s) per contender; 'after step 1' leaves out setup and "
        "the first step",
        "runs: " + "; ".join(f"{name} {r['pairs'] / r['seconds']:.2f} pairs/s" for name, runs in results.items()
                             for r in runs),
    ]
    common.report("Cross-encoder training throughput (bench_cross_encoder)", common.markdown_table(headers, rows),
                  notes, args.no_record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
