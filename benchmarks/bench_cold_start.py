"""Cold start: a fresh process imports the library, loads all-MiniLM-L6-v2 and encodes one sentence.

Each run is a new Python process (one at a time, libraries alternating, one discarded warm-up
run each so the file cache is warm for both). The parent times the whole process; the child
reports its import, load and first-encode times. Medians; speed-up = ST time / sentforge time
(> 1: sentforge starts faster). The children read nothing but the model folder.

    .venv/bin/python benchmarks/bench_cold_start.py [--runs 7] [--fast-forward off|on|both] [--no-record]
"""

from __future__ import annotations

import argparse
import time

START = time.perf_counter()

import common  # noqa: E402  (after START: the child's clock includes this import too)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per contender")
    parser.add_argument("--child", nargs=2, metavar=("LIBRARY", "FAST_FORWARD"), help=argparse.SUPPRESS)
    common.add_common_args(parser)
    return parser.parse_args()


def child(library: str, fast_forward: bool) -> None:
    """Import, load, encode one sentence; each phase timed."""
    marks = {"start": time.perf_counter()}
    if library == "st":
        from sentence_transformers import SentenceTransformer
    else:
        from sentforge import SentenceTransformer
    marks["import"] = time.perf_counter()
    model = SentenceTransformer(common.minilm_path(), device="cpu")
    if library == "sentforge":
        common.set_fast_forward(model, fast_forward)
    marks["load"] = time.perf_counter()
    model.encode("The weather is lovely today.", show_progress_bar=False)
    marks["encode"] = time.perf_counter()
    common.emit_child_result({
        "bench_import_s": marks["start"] - START,
        "import_s": marks["import"] - marks["start"],
        "load_s": marks["load"] - marks["import"],
        "encode_s": marks["encode"] - marks["load"],
        "in_process_s": marks["encode"] - START,
    })


def main() -> int:
    args = parse_args()
    common.setup(args, import_transformers=not args.child)
    if args.child:
        child(args.child[0], args.child[1] == "on")
        return 0
    contenders = {"ST": ["st", "off"]}
    for ff in common.fast_forward_settings(args.fast_forward):
        contenders[common.contender_name("sentforge", ff)] = ["sentforge", "on" if ff else "off"]
    names = list(contenders)
    for name in names:  # warm-up: fill the file cache for every contender
        common.run_child("bench_cold_start.py", ["--child", *contenders[name]])
    results: dict[str, list[dict]] = {name: [] for name in names}
    for round_index in range(args.runs):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            results[name].append(common.run_child("bench_cold_start.py", ["--child", *contenders[name]]))
    phases = ["process_wall_s", "import_s", "load_s", "encode_s"]
    medians = {name: {p: common.median([r[p] for r in runs]) for p in phases} for name, runs in results.items()}
    rows = []
    for name in names:
        cells = [f"{medians[name][p]:.2f}" for p in phases]
        speedup = medians["ST"]["process_wall_s"] / medians[name]["process_wall_s"]
        peak = common.median([r["peak_rss_mb"] for r in results[name]])
        rows.append([name, *cells, f"{speedup:.2f}x", f"{peak:.0f}"])
    headers = ["contender", "process wall s", "import s", "load s", "first encode s",
               "speed-up vs ST (process)", "peak RSS MB"]
    notes = [
        f"{args.runs} fresh processes per contender, alternating, after one warm-up each; medians",
        "process wall = interpreter start to exit, as timed by the parent; phases timed inside the child",
    ]
    common.report("Cold start (bench_cold_start)", common.markdown_table(headers, rows), notes, args.no_record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
