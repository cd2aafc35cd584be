"""Encode throughput (sentences/s), sentforge vs sentence-transformers, fp32, same sentences, same run.

All unique STS-B test sentences (both columns), all-MiniLM-L6-v2, ``encode(batch_size=B)`` for
each batch size; the contenders run in alternating rounds and the median round counts. Also
gives the median of the per-round ratios (steadier when the machine's speed drifts), checks
that the embeddings agree (max abs difference <= 1e-5, else exit 1), reports the STS-B
test Spearman of each contender, and the peak RSS of a fresh process that loads the model and
encodes everything at the largest batch size (one subprocess per contender).

    .venv/bin/python benchmarks/bench_encode.py [--batch-sizes 32 128] [--repeats 5] [--limit N]
        [--fast-forward off|on|both] [--no-memory] [--no-record]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import common

TOLERANCE = 1e-5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--repeats", type=int, default=5, help="alternating timed rounds per contender")
    parser.add_argument("--limit", type=int, default=None, help="encode only the first N sentences (quick runs)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-RSS subprocesses")
    parser.add_argument("--child", nargs=3, metavar=("LIBRARY", "FAST_FORWARD", "BATCH"), help=argparse.SUPPRESS)
    common.add_common_args(parser)
    return parser.parse_args()


def child_memory(library: str, fast_forward: bool, batch_size: int, limit: int | None) -> None:
    """Fresh process: load, encode the sentences, report peak RSS and RSS after loading."""
    common.quiet()
    sentences = common.stsb_test_sentences()[:limit]
    model = common.load_model(library, fast_forward)
    loaded_mb = common.peak_rss_mb()
    start = time.perf_counter()
    model.encode(sentences, batch_size=batch_size, show_progress_bar=False)
    common.emit_child_result(
        {"loaded_rss_mb": loaded_mb, "encode_s": time.perf_counter() - start, "sentences": len(sentences)}
    )


def main() -> int:
    args = parse_args()
    common.setup(args)
    if args.child:
        library, fast_forward, batch = args.child
        child_memory(library, fast_forward == "on", int(batch), args.limit)
        return 0
    sentences = common.stsb_test_sentences()[: args.limit]
    settings = common.fast_forward_settings(args.fast_forward)
    st_model = common.load_model("st")
    sf_model = common.load_model("sentforge")
    contenders = {"ST": ("st", False)}
    contenders.update({common.contender_name("sentforge", ff): ("sentforge", ff) for ff in settings})

    def encoder(library: str, fast_forward: bool, batch_size: int):
        model = st_model if library == "st" else sf_model

        def run() -> np.ndarray:
            if library == "sentforge":
                common.set_fast_forward(model, fast_forward)
            return model.encode(sentences, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True)

        return run

    rows, worst = [], 0.0
    full_set = args.limit is None
    for batch_size in args.batch_sizes:
        runs = {name: encoder(*spec, batch_size) for name, spec in contenders.items()}
        embeddings = {name: run() for name, run in runs.items()}  # also the warm-up
        times, cpu = common.alternate(runs, args.repeats, warmup=False)
        speed = {name: len(sentences) / common.median(t) for name, t in times.items()}
        per_cpu = {name: len(sentences) / common.median(t) for name, t in cpu.items()}
        for name in contenders:
            diff = float(np.abs(embeddings[name] - embeddings["ST"]).max())
            worst = max(worst, diff)
            spearman = (
                f"{common.stsb_spearman_from(dict(zip(sentences, embeddings[name]))):.4f}" if full_set else "-"
            )
            spread = f"{len(sentences) / max(times[name]):.0f}-{len(sentences) / min(times[name]):.0f}"
            rows.append(
                [batch_size, name, f"{speed[name]:.1f}", spread, common.ratio(speed[name], speed["ST"]),
                 common.paired_ratio(times, name, "ST"), f"{per_cpu[name]:.1f}",
                 common.ratio(per_cpu[name], per_cpu["ST"]), f"{diff:.1e}", spearman]
            )
        print(f"batch {batch_size}: " + ", ".join(f"{n} {s:.1f}/s" for n, s in speed.items()), flush=True)

    memory_rows = [] if args.no_memory else measure_memory(contenders, max(args.batch_sizes), args.limit)
    headers = ["batch", "contender", "sentences/s (median)", "range", "vs ST",
               "vs ST, per round (median)", "sentences per CPU-s",
               "vs ST (CPU)", "max abs diff vs ST", "STS-B test spearman"]
    table = common.markdown_table(headers, rows)
    if memory_rows:
        table += "\n\n" + common.markdown_table(
            ["contender", "peak RSS MB (load + encode, fresh process)", "peak RSS MB after load",
             "vs ST (< 1: less memory)"],
            memory_rows,
        )
    notes = [
        f"{len(sentences)} unique STS-B test sentences, fp32, {args.repeats} alternating rounds after a warm-up",
        f"embeddings agree within {TOLERANCE:g}: {'yes' if worst <= TOLERANCE else 'NO'} (worst {worst:.1e})",
        "sentforge runs with its defaults (packed forward on); sentforge-noff = packed forward off (model[0].fast_forward = False)",
    ]
    common.report("Encode throughput (bench_encode)", table, notes, args.no_record)
    return 0 if worst <= TOLERANCE else 1


def measure_memory(contenders: dict[str, tuple[str, bool]], batch_size: int, limit: int | None) -> list[list]:
    """Peak RSS of a fresh process per contender (sequential, never two at once)."""
    results = {}
    for name, (library, fast_forward) in contenders.items():
        child_args = ["--child", library, "on" if fast_forward else "off", str(batch_size)]
        if limit is not None:
            child_args += ["--limit", str(limit)]
        results[name] = common.run_child("bench_encode.py", child_args)
    st_peak = results["ST"]["peak_rss_mb"]
    return [
        [name, f"{r['peak_rss_mb']:.0f}", f"{r['loaded_rss_mb']:.0f}", f"{r['peak_rss_mb'] / st_peak:.2f}x"]
        for name, r in results.items()
    ]


if __name__ == "__main__":
    raise SystemExit(main())
