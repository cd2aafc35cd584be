"""Run every side-by-side benchmark, one after the other (``make bench``).

Quick mode (default) uses subsets and few steps: under 10 minutes on a quiet 2-core machine, enough
to check that everything runs and to see the ratios roughly. ``--full`` runs the complete
measurements (all STS-B test sentences, full training epochs with their STS-B Spearman): expect
well over half an hour on 2 cores. Each script appends its section to RESULTS.md unless
``--no-record`` is given.

    .venv/bin/python benchmarks/run_all.py [--full] [--only encode train ...] [--no-record]
        [--fast-forward off|on|both] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))

QUICK = {
    "encode": ["--limit", "512", "--repeats", "3"],
    "quantized": ["--limit", "512", "--repeats", "3"],
    "onnx": ["--limit", "512", "--repeats", "3"],
    "train": ["--max-steps", "20"],
    "cold_start": ["--runs", "3"],
    "flops": ["--limit", "512", "--repeats", "3", "--train-steps", "10"],
}
FULL = {
    "encode": ["--repeats", "7"],
    "quantized": ["--repeats", "5"],
    "onnx": ["--repeats", "5"],
    "train": ["--repeats", "3"],
    "cold_start": ["--runs", "7"],
    "flops": ["--repeats", "3", "--train-steps", "50"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="complete measurements instead of the quick ones")
    parser.add_argument("--only", nargs="+", choices=sorted(QUICK), help="run only these benchmarks")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    parser.add_argument("--fast-forward", choices=("off", "on", "both"), default=None,
                        help="passed to every script (default: each script's own default)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads for both libraries")
    args = parser.parse_args()
    settings = FULL if args.full else QUICK
    extra = ["--no-record"] if args.no_record else []
    if args.fast_forward:
        extra += ["--fast-forward", args.fast_forward]
    if args.threads:
        extra += ["--threads", str(args.threads)]
    failed = []
    for name in args.only or list(settings):
        command = [sys.executable, os.path.join(BENCH_DIR, f"bench_{name}.py"), *settings[name], *extra]
        print(f"\n=== bench_{name} ({'full' if args.full else 'quick'}) ===", flush=True)
        start = time.perf_counter()
        code = subprocess.call(command)
        print(f"=== bench_{name}: exit {code}, {time.perf_counter() - start:.0f} s ===", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
