"""Achieved GFLOP/s of encode and training, both libraries, against this machine's fp32 GEMM peak.

FLOPs are counted analytically for the BERT-MiniLM encoder from the REAL token counts seen by
the encoder (a hook on the Transformer module): 2 * linear params * tokens for Q, K, V, O and the
feed-forward, plus 4 * hidden * length**2 per layer for attention (QK^T and AV). Two figures:
"useful" counts real tokens only (the work any implementation must do; the fair rate), "padded"
counts every padded position (what a padded forward executes). Training = 3 x forward (backward
~2 x forward); optimizer, embeddings, LayerNorm, softmax and the loss are not counted. The GEMM
peak is a large fp32 torch.matmul, measured before and after in the same run; the best counts.

    .venv/bin/python benchmarks/bench_flops.py [--batch-size 32] [--repeats 3] [--limit N]
        [--train-steps 30] [--fast-forward off|on|both] [--no-record]
"""

from __future__ import annotations

import argparse
import json

import common
from token_counts import EncoderShape, count_tokens, forward_flops, gemm_peak_gflops

TRAIN_FACTOR = 3.0  # forward + backward (about twice the forward)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="encode only the first N sentences")
    parser.add_argument("--train-steps", type=int, default=30,
                        help="CosineSimilarityLoss steps, at least 2 (0: skip training)")
    parser.add_argument("--gemm-size", type=int, default=2048)
    common.add_common_args(parser)
    return parser.parse_args()


def encode_rates(args, contenders) -> dict[str, dict]:
    """Median encode seconds and the token counts of one encode, per contender (in this process)."""
    sentences = common.stsb_test_sentences()[: args.limit]
    st_model = common.load_model("st")
    sf_model = common.load_model("sentforge")
    st_counts, sf_counts = count_tokens(st_model), count_tokens(sf_model)

    def runner(library: str, fast_forward: bool):
        model = st_model if library == "st" else sf_model

        def run():
            if library == "sentforge":
                common.set_fast_forward(model, fast_forward)
            model.encode(sentences, batch_size=args.batch_size, show_progress_bar=False)

        return run

    runs = {name: runner(*spec) for name, spec in contenders.items()}
    st_model.encode(sentences, batch_size=args.batch_size, show_progress_bar=False)
    sf_model.encode(sentences, batch_size=args.batch_size, show_progress_bar=False)
    # one encode's counts per library (their length sorts break ties differently: padding may differ slightly)
    one_encode = {"st": st_counts.as_dict(), "sentforge": sf_counts.as_dict()}
    wall, _ = common.alternate(runs, args.repeats)
    return {
        name: {"seconds": common.median(wall[name]), "tokens": one_encode[library]}
        for name, (library, _ff) in contenders.items()
    }


def train_rates(args, contenders) -> dict[str, dict]:
    """Training steps in a fresh process per contender (bench_train's child); seconds and token counts."""
    out = {}
    for name, (library, fast_forward) in contenders.items():
        spec = {"library": library, "fast_forward": fast_forward, "loss": "cosine",
                "max_steps": args.train_steps, "mnrl_data": "stsb"}
        result = common.run_child("bench_train.py", ["--child", json.dumps(spec)])
        out[name] = result["after_first_step"] or {"seconds": result["seconds"], "tokens": result["tokens"]}
    return out


def rows_for(kind: str, rates: dict[str, dict], shape: EncoderShape, factor: float, peak: float) -> list[list]:
    rows = []
    for name, rate in rates.items():
        useful = factor * forward_flops(shape, rate["tokens"], padded=False)
        padded = factor * forward_flops(shape, rate["tokens"], padded=True)
        useful_rate = useful / rate["seconds"] / 1e9
        tokens = rate["tokens"]
        rows.append([
            kind, name, f"{tokens['real_tokens']}", f"{tokens['real_tokens'] / tokens['padded_tokens']:.0%}",
            f"{useful / 1e9:.1f}", f"{padded / 1e9:.1f}", f"{rate['seconds']:.2f}",
            f"{useful_rate:.1f}", f"{padded / rate['seconds'] / 1e9:.1f}", f"{useful_rate / peak:.0%}",
        ])
    return rows


def main() -> int:
    args = parse_args()
    common.setup(args)
    contenders = {"ST": ("st", False)}
    contenders.update({common.contender_name("sentforge", ff): ("sentforge", ff)
                       for ff in common.fast_forward_settings(args.fast_forward)})
    shape = EncoderShape.of_minilm()
    peak_before = gemm_peak_gflops(args.gemm_size)
    encode = encode_rates(args, contenders)
    train = train_rates(args, contenders) if args.train_steps > 0 else {}
    peak_after = gemm_peak_gflops(args.gemm_size)
    peak = max(peak_before[0], peak_after[0])
    rows = rows_for("encode", encode, shape, 1.0, peak) + rows_for("train", train, shape, TRAIN_FACTOR, peak)
    headers = ["work", "contender", "real tokens", "real / padded", "useful GFLOP", "padded GFLOP", "seconds",
               "useful GFLOP/s", "padded GFLOP/s", "useful % of GEMM peak"]
    notes = [
        f"GEMM peak (fp32 {args.gemm_size}^3 torch.matmul): best {peak:.1f} GFLOP/s (before: best "
        f"{peak_before[0]:.1f}, median {peak_before[1]:.1f}; after: best {peak_after[0]:.1f}, "
        f"median {peak_after[1]:.1f})",
        f"encoder linear params {shape.linear_params:,} ({shape.layers} layers, hidden {shape.hidden}, "
        f"FFN {shape.intermediate}); tokens are real (attention-mask) counts; padding counted only in 'padded'",
        f"encode: {encode[next(iter(encode))]['tokens']['sentences']} STS-B test sentences, batch {args.batch_size}, "
        f"median of {args.repeats} alternating rounds; training: CosineSimilarityLoss, batch 16, "
        f"{args.train_steps} steps, timed from the end of step 1 to the end of the last (setup left out), "
        "FLOPs = 3 x forward",
    ]
    common.report("Achieved FLOP rate (bench_flops)", common.markdown_table(headers, rows), notes, args.no_record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
