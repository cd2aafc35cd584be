"""Run each drop-in training script under sentforge and under sentence-transformers, then score both.

The scripts in tests/dropin/ are sentence-transformers' own training examples with `sentence_transformers`
-> `sentforge` in their imports. Here each one runs twice on the packaged all-MiniLM-L6-v2 with the same
budget: once as it is (sentforge), once with its imports switched back (sentence-transformers). Both saved
models are then loaded by sentence-transformers and scored by its own evaluator on a real test split:
STS-B test Spearman (cosine) for the STS and NLI scripts, MRPC test average precision (cosine) for
the Quora scripts (MRPC stands in for Quora), triplet accuracy on the TREC stand-in's test split for
the batch-hard TREC script. The two scores should agree within 0.01.

    python examples/dropin_vs_st.py                                  # every script, 100 steps each
    python examples/dropin_vs_st.py training_stsbenchmark --max-steps 200 --json output/dropin.json

Results accumulate in --json (a script already there is not run again); the table prints at the end.
`--rescore NAME ...` scores the saved models of those scripts again without training them again.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

DROPIN_DIR = Path(__file__).resolve().parents[1] / "tests" / "dropin"
MRPC_SCORED = ("training_OnlineContrastiveLoss", "training_MultipleNegativesRankingLoss",
               "training_multi-task-learning")
TRIPLET_SCORED = ("training_batch_hard_trec",)
AGREEMENT = 0.01
IMPORT_LINE = re.compile(r"^(from|import) sentforge\b", re.MULTILINE)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scripts", nargs="*", help="script names (default: every script in tests/dropin)")
    parser.add_argument("--max-steps", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--train-rows", type=int, default=4000)
    parser.add_argument("--eval-rows", type=int, default=300)
    parser.add_argument("--output", default="output/dropin-vs-st")
    parser.add_argument("--json", default="output/dropin-vs-st/results.json")
    parser.add_argument("--seed", type=int, default=None,
                        help="DROPIN_SEED for the scripts that read it (results kept as '<script> (seed N)')")
    parser.add_argument("--rescore", nargs="*", default=[], help="score these scripts' saved models again")
    return parser.parse_args(argv)


def all_scripts() -> list[str]:
    return sorted(p.stem for p in DROPIN_DIR.glob("*.py") if p.stem != "local_data")


def as_sentence_transformers(source: str) -> str:
    """The script with its imports switched back to sentence-transformers (nothing else changes)."""
    return IMPORT_LINE.sub(lambda m: f"{m.group(1)} sentence_transformers", source)


def run_script(name: str, library: str, opts, model: str) -> dict:
    """One run of one script in a subprocess; returns its exit status, time and output folder."""
    output_dir = Path(opts.output) / library / (name if opts.seed is None else f"{name}-seed{opts.seed}")
    script = DROPIN_DIR / f"{name}.py"
    if library == "sentence-transformers":
        copy = Path(opts.output) / "scripts" / f"{name}.py"
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(as_sentence_transformers(script.read_text(encoding="utf-8")), encoding="utf-8")
        script = copy
    env = dict(os.environ, DROPIN_MODEL=model, DROPIN_OUTPUT_DIR=str(output_dir.resolve()),
               DROPIN_MAX_STEPS=str(opts.max_steps), DROPIN_BATCH_SIZE=str(opts.batch_size),
               DROPIN_TRAIN_ROWS=str(opts.train_rows), DROPIN_EVAL_ROWS=str(opts.eval_rows),
               PYTHONPATH=os.pathsep.join(filter(None, [str(DROPIN_DIR), os.environ.get("PYTHONPATH")])),
               DROPIN_GUIDE_MODEL=model, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    if opts.seed is not None:
        env["DROPIN_SEED"] = str(opts.seed)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, str(script.resolve())], cwd=DROPIN_DIR, env=env,
                            capture_output=True, text=True)
    seconds = round(time.perf_counter() - started, 1)
    if result.returncode != 0:
        print(result.stderr[-3000:], file=sys.stderr)
    return {"exit": result.returncode, "seconds": seconds, "final": str(output_dir / "final")}


def score(name: str, model_dir: str) -> float:
    """sentence-transformers loads the saved model and scores it with its own evaluator."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.evaluation import (
        BinaryClassificationEvaluator, EmbeddingSimilarityEvaluator,
    )

    from sentforge.data.shared_sets import load_mrpc, load_stsb

    model = SentenceTransformer(model_dir, device="cpu")
    if name in TRIPLET_SCORED:
        from sentence_transformers.sentence_transformer.evaluation import TripletEvaluator

        anchors, positives, negatives = labelled_test_triplets()
        evaluator = TripletEvaluator(anchors, positives, negatives, name="trec-test")
        return float(evaluator(model)["trec-test_cosine_accuracy"])
    if name in MRPC_SCORED:
        test = load_mrpc("test")
        first, second, label = test.column_names[:3]
        evaluator = BinaryClassificationEvaluator(test[first], test[second], test[label], name="mrpc-test")
        return float(evaluator(model)["mrpc-test_cosine_ap"])
    test = load_stsb("test")
    evaluator = EmbeddingSimilarityEvaluator(test["sentence1"], test["sentence2"], test["score"], name="sts-test")
    return float(evaluator(model)["sts-test_spearman_cosine"])


def labelled_test_triplets(seed: int = 42) -> tuple[list[str], list[str], list[str]]:
    """(anchor, same-label positive, other-label negative) for each test sentence of the TREC stand-in."""
    import random

    sys.path.insert(0, str(DROPIN_DIR))
    from local_data import load_local

    test = load_local("omkar334/trec", split="test")
    texts, labels = test["text"], test["fine_label"]
    by_label: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        by_label.setdefault(label, []).append(index)
    usable = {label: rows for label, rows in by_label.items() if len(rows) >= 2}
    rng = random.Random(seed)
    anchors, positives, negatives = [], [], []
    for index, label in enumerate(labels):
        if label not in usable:
            continue
        other = rng.choice([l for l in usable if l != label])
        anchors.append(texts[index])
        positives.append(texts[rng.choice([i for i in usable[label] if i != index])])
        negatives.append(texts[rng.choice(usable[other])])
    return anchors, positives, negatives


def metric_name(name: str) -> str:
    if name in TRIPLET_SCORED:
        return "TREC-like triplet accuracy"
    return "MRPC AP" if name in MRPC_SCORED else "STS-B Spearman"


def metric_key(name: str) -> str:
    return "trec" if name in TRIPLET_SCORED else "mrpc" if name in MRPC_SCORED else "stsb"


def table(results: dict) -> str:
    lines = ["| script | test metric | base | sentforge | sentence-transformers | difference | seconds (sf / ST) |",
             "|---|---|---|---|---|---|---|"]
    for name, row in sorted(results.items()):
        if "sentforge" not in row:
            continue
        ours, theirs = row["sentforge"], row["sentence-transformers"]
        metric = metric_name(name.split(" (seed ")[0])
        if "score" in ours and "score" in theirs:
            diff = ours["score"] - theirs["score"]
            mark = "" if abs(diff) <= AGREEMENT else " (over 0.01)"
            cells = f"{ours['score']:.4f} | {theirs['score']:.4f} | {diff:+.4f}{mark}"
        else:
            cells = f"exit {ours['exit']} | exit {theirs['exit']} | -"
        lines.append(f"| {name} | {metric} | {row['base']:.4f} | {cells} | {ours['seconds']} / {theirs['seconds']} |")
    return "\n".join(lines)


def main(argv=None) -> dict:
    opts = parse_args(argv)
    from sentforge.packaged_models import packaged_model_dir

    model = packaged_model_dir("all-MiniLM-L6-v2")
    path = Path(opts.json)
    results = json.loads(path.read_text()) if path.exists() else {}
    results["settings"] = {k: v for k, v in vars(opts).items() if k not in ("scripts", "json")}
    for name in opts.rescore:
        row, script = results[name], name.split(" (seed ")[0]
        bases = results.setdefault("base", {})
        if metric_key(script) not in bases:
            bases[metric_key(script)] = score(script, model)
        row["base"] = bases[metric_key(script)]
        for library in ("sentforge", "sentence-transformers"):
            if row[library]["exit"] == 0:
                row[library]["score"] = score(script, row[library]["final"])
        path.write_text(json.dumps(results, indent=2))
    for script in opts.scripts or all_scripts():
        name = script if opts.seed is None else f"{script} (seed {opts.seed})"
        if name in results:
            continue
        metric = metric_key(script)
        bases = results.setdefault("base", {})
        if metric not in bases:
            bases[metric] = score(script, model)
        row = {"base": bases[metric]}
        for library in ("sentforge", "sentence-transformers"):
            run = run_script(script, library, opts, model)
            if run["exit"] == 0:
                run["score"] = score(script, run["final"])
            row[library] = run
            print(name, library, run, flush=True)
        results[name] = row
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2))
    print(table(results))
    return results


if __name__ == "__main__":
    main()
