"""Training throughput (pairs/s) and peak RSS, sentforge vs sentence-transformers, same hyperparameters.

Each library's own trainer, one fresh process per run (never two at once), all-MiniLM-L6-v2:
  cosine  CosineSimilarityLoss on STS-B train (score / 5), batch 16
  mnrl    MultipleNegativesRankingLoss, batch 32, on STS-B train pairs with score >= 0.8
          (``--mnrl-data nli``: the anchor/positive pairs of ../shared/data/nli/triplets.jsonl)
lr 2e-5, warmup_ratio 0.1, seed 42, 1 epoch (or ``--max-steps``), no eval, no saving, no logging.
Only ``trainer.train()`` is timed; pairs are counted as the sentences the encoder saw / 2. Full
runs (no ``--max-steps``) also report the STS-B test Spearman of the trained model (cosine).

    .venv/bin/python benchmarks/bench_train.py [--losses cosine mnrl] [--max-steps 100] [--repeats 1]
        [--mnrl-data stsb|nli] [--fast-forward off|on|both] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

from transformers import TrainerCallback

import common
from token_counts import TokenCounts, count_tokens

BATCH_SIZES = {"cosine": 16, "mnrl": 32}
LOSS_NAMES = {"cosine": "CosineSimilarityLoss", "mnrl": "MultipleNegativesRankingLoss"}
MNRL_MIN_SCORE = 0.8


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--losses", nargs="+", choices=sorted(BATCH_SIZES), default=["cosine", "mnrl"])
    parser.add_argument("--max-steps", type=int, default=None, help="stop after N steps (no Spearman then)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per contender, alternating")
    parser.add_argument("--mnrl-data", choices=("stsb", "nli"), default="stsb")
    parser.add_argument("--child", metavar="JSON", help=argparse.SUPPRESS)
    common.add_common_args(parser)
    return parser.parse_args()


def training_pairs(loss: str, mnrl_data: str) -> dict[str, list]:
    """Columns for the trainer: (sentence1, sentence2, score) for cosine, (sentence1, sentence2) for MNRL."""
    if loss == "cosine":
        return common.stsb("train")
    if mnrl_data == "stsb":
        data = common.stsb("train")
        keep = [i for i, score in enumerate(data["score"]) if score >= MNRL_MIN_SCORE]
        return {column: [data[column][i] for i in keep] for column in ("sentence1", "sentence2")}
    with open(common.shared_data_file("nli", "triplets.jsonl"), encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return {"sentence1": [r["anchor"] for r in rows], "sentence2": [r["positive"] for r in rows]}


class StepClock(TrainerCallback):
    """Time and encoder counts at each step end, for rates after the first step (setup excluded)."""

    def __init__(self, counts: TokenCounts) -> None:
        self.counts = counts
        self.marks: list[tuple[float, dict[str, int]]] = []

    def on_step_end(self, args, state, control, **kwargs):
        self.marks.append((time.perf_counter(), self.counts.as_dict()))

    def after_first_step(self) -> dict | None:
        """Seconds and encoder counts from the end of step 1 to the end of the last step."""
        if len(self.marks) < 2:
            return None
        (t0, first), (t1, last) = self.marks[0], self.marks[-1]
        return {"seconds": t1 - t0, "tokens": {key: last[key] - first[key] for key in last}}


def run_training(spec: dict) -> dict:
    """One training run in this process; returns timings, counts and (full runs) the Spearman."""
    common.quiet()
    from datasets import Dataset

    if spec["library"] == "st":
        import sentence_transformers as lib
        from sentence_transformers import losses
    else:
        import sentforge as lib
        from sentforge import losses
    model = common.load_model(spec["library"], spec["fast_forward"])
    dataset = Dataset.from_dict(training_pairs(spec["loss"], spec["mnrl_data"]))
    loss = getattr(losses, LOSS_NAMES[spec["loss"]])(model)
    counts = count_tokens(model)
    with tempfile.TemporaryDirectory() as output_dir:
        args = lib.SentenceTransformerTrainingArguments(
            output_dir=output_dir,
            num_train_epochs=1,
            max_steps=spec["max_steps"] or -1,
            per_device_train_batch_size=BATCH_SIZES[spec["loss"]],
            learning_rate=2e-5,
            warmup_ratio=0.1,
            seed=42,
            report_to=[],
            eval_strategy="no",
            save_strategy="no",
            logging_strategy="no",
            disable_tqdm=True,
        )
        steps = StepClock(counts)
        trainer = lib.SentenceTransformerTrainer(
            model=model, args=args, train_dataset=dataset, loss=loss, callbacks=[steps]
        )
        before_mb = common.peak_rss_mb()
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
        train_peak_mb = common.peak_rss_mb()
    result = {
        "seconds": seconds,
        "steps": trainer.state.global_step,
        "pairs": counts.sentences / 2,
        "after_first_step": steps.after_first_step(),
        "tokens": counts.as_dict(),
        "rss_before_train_mb": before_mb,
        "train_peak_rss_mb": train_peak_mb,
    }
    if not spec["max_steps"]:
        result["spearman"] = common.stsb_spearman(model)
    return result


def steady_pairs_per_second(result: dict) -> float:
    later = result["after_first_step"]
    return later["tokens"]["sentences"] / 2 / later["seconds"] if later else 0.0


def run_contenders(loss: str, args: argparse.Namespace, contenders: dict[str, tuple[str, bool]]) -> dict[str, list]:
    """Each contender ``args.repeats`` times in fresh processes, order rotated each round."""
    results: dict[str, list] = {name: [] for name in contenders}
    names = list(contenders)
    for round_index in range(args.repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            library, fast_forward = contenders[name]
            spec = {"library": library, "fast_forward": fast_forward, "loss": loss,
                    "max_steps": args.max_steps, "mnrl_data": args.mnrl_data}
            result = common.run_child("bench_train.py", ["--child", json.dumps(spec)])
            print(f"  {loss} {name}: {result['pairs'] / result['seconds']:.1f} pairs/s, "
                  f"{result['steps']} steps, peak RSS {result['peak_rss_mb']:.0f} MB{steal_text(result)}", flush=True)
            results[name].append(result)
    return results


def steal_text(result: dict) -> str:
    """", CPU steal 1.2%": the share of the machine's CPU time the hypervisor gave to others."""
    steal = result.get("cpu_steal_pct")
    return "" if steal is None else f", CPU steal {steal:.1f}%"


def main() -> int:
    args = parse_args()
    common.setup(args)
    if args.child:
        common.emit_child_result(run_training(json.loads(args.child)))
        return 0
    contenders = {"ST": ("st", False)}
    contenders.update({common.contender_name("sentforge", ff): ("sentforge", ff)
                       for ff in common.fast_forward_settings(args.fast_forward)})
    rows, every_run = [], []
    for loss in args.losses:
        results = run_contenders(loss, args, contenders)
        every_run += [{"loss": loss, "name": name, "pairs_per_s": r["pairs"] / r["seconds"], "steal": steal_text(r)}
                      for name, runs in results.items() for r in runs]
        speeds = {name: common.median([r["pairs"] / r["seconds"] for r in runs]) for name, runs in results.items()}
        steady = {name: common.median([steady_pairs_per_second(r) for r in runs]) for name, runs in results.items()}
        peaks = {name: max(r["peak_rss_mb"] for r in runs) for name, runs in results.items()}
        for name, runs in results.items():
            spearman = runs[0].get("spearman")
            rows.append([
                LOSS_NAMES[loss], BATCH_SIZES[loss], name, runs[0]["steps"], f"{runs[0]['pairs']:.0f}",
                f"{speeds[name]:.1f}", common.ratio(speeds[name], speeds["ST"]),
                f"{steady[name]:.1f}", common.ratio(steady[name], steady["ST"]),
                f"{peaks[name]:.0f}", f"{peaks[name] / peaks['ST']:.2f}x",
                "-" if spearman is None else f"{spearman:.4f}",
            ])
    headers = ["loss", "batch", "contender", "steps", "pairs", "pairs/s (median)", "vs ST",
               "pairs/s after step 1", "vs ST (after step 1)", "peak RSS MB",
               "RSS vs ST (< 1: less)", "STS-B test spearman"]
    mnrl_source = (f"STS-B train pairs with score >= {MNRL_MIN_SCORE}" if args.mnrl_data == "stsb"
                   else "NLI anchor/positive pairs")
    notes = [
        "lr 2e-5, warmup_ratio 0.1, seed 42, 1 epoch" + (f", max_steps {args.max_steps}" if args.max_steps else "")
        + "; no eval, no saving, no logging; each library's own trainer; only trainer.train() is timed",
        f"MNRL data: {mnrl_source}; each run in a fresh process, {args.repeats} run(s) per contender",
        "pairs/s = pairs / wall time of trainer.train(); 'after step 1' leaves out the setup and the first step",
        "peak RSS = high-water mark (VmHWM) of the child process: model load + tokenization + training",
        "runs: " + "; ".join(f"{r['loss']} {r['name']} {r['pairs_per_s']:.1f} pairs/s{r['steal']}" for r in every_run),
    ]
    common.report("Training throughput (bench_train)", common.markdown_table(headers, rows), notes, args.no_record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
