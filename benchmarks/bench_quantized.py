"""Reduced-precision encode: sentforge int8 / bfloat16 vs sentence-transformers fp32 (and its own paths).

Contenders, all on the same STS-B test sentences in alternating rounds:
  ST fp32               the reference
  ST bf16               SentenceTransformer(path, model_kwargs={"dtype": torch.bfloat16})
  ST int8 (by hand)     torch.ao.quantization.quantize_dynamic applied to ST's model
  ST onnx               SentenceTransformer(path, backend="onnx"): skipped with the reason when it
                        cannot run offline (it needs optimum + onnx)
  sentforge fp32 / int8 / bf16   from sentforge.backends.quantize_model
Reports sentences/s, the ratio to ST fp32, the STS-B test Spearman (full set only) next to the
fp32 one, and the cosine of each embedding to ST's fp32 embedding.

    .venv/bin/python benchmarks/bench_quantized.py [--batch-size 32] [--repeats 3] [--limit N]
        [--fast-forward off|on|both] [--no-record]
"""

from __future__ import annotations

import argparse
import copy
import warnings
from typing import Any, Callable

import numpy as np
import torch

import common

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="encode only the first N sentences (quick runs)")
    common.add_common_args(parser)
    return parser.parse_args()


def st_int8_by_hand(model):
    from torch.ao.quantization import default_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear: default_dynamic_qconfig}, dtype=torch.qint8)


def st_onnx_model() -> tuple[Any, str]:
    """ST's ONNX backend if it loads offline; else (None, why not)."""
    try:
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(common.minilm_path(), device="cpu", backend="onnx"), ""
    except Exception as err:  # any failure means: not available here
        first_sentence = str(err).split(". ")[0].splitlines()[0]
        return None, f"{type(err).__name__}: {first_sentence}"


def build_models(fast_forward_settings: list[bool]) -> tuple[dict[str, tuple[Any, bool]], list[str]]:
    """name -> (model, fast_forward); and notes on skipped contenders."""
    from sentforge.backends import quantize_model

    notes = []
    st_fp32 = common.load_model("st")
    models: dict[str, tuple[Any, bool]] = {
        "ST fp32": (st_fp32, False),
        "ST bf16": (common.load_model("st", model_kwargs={"dtype": torch.bfloat16}), False),
        "ST int8 (by hand)": (st_int8_by_hand(st_fp32), False),
    }
    onnx, why = st_onnx_model()
    if onnx is not None:
        models["ST onnx"] = (onnx, False)
    else:
        notes.append(f"ST onnx backend skipped: {why}")
    sf_fp32 = common.load_model("sentforge")
    variants = {
        "fp32": sf_fp32,
        "int8": quantize_model(sf_fp32, "int8"),
        "bf16": quantize_model(sf_fp32, "bfloat16"),
    }
    for precision, model in variants.items():
        for ff in fast_forward_settings:
            models[common.contender_name("sentforge", ff, precision)] = (model, ff)
    return models, notes


def main() -> int:
    from sentforge.speed.int8_linear import full_range_activations

    args = parse_args()
    common.setup(args)
    sentences = common.stsb_test_sentences()[: args.limit]
    models, notes = build_models(common.fast_forward_settings(args.fast_forward))

    def encoder(model, fast_forward: bool) -> Callable[[], np.ndarray]:
        def run() -> np.ndarray:
            if hasattr(model[0], "fast_forward"):
                common.set_fast_forward(model, fast_forward)
            return model.encode(sentences, batch_size=args.batch_size, show_progress_bar=False)

        return run

    runs = {name: encoder(model, ff) for name, (model, ff) in models.items()}
    embeddings = {name: np.asarray(run(), dtype=np.float32) for name, run in runs.items()}  # warm-up too
    wall, cpu = common.alternate(runs, args.repeats, warmup=False)
    reference = embeddings["ST fp32"]
    ref_norm = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    full_set = args.limit is None
    rows = []
    base_speed = len(sentences) / common.median(wall["ST fp32"])
    base_cpu = len(sentences) / common.median(cpu["ST fp32"])
    base_spearman = common.stsb_spearman_from(dict(zip(sentences, reference))) if full_set else None
    for name, vectors in embeddings.items():
        speed = len(sentences) / common.median(wall[name])
        per_cpu = len(sentences) / common.median(cpu[name])
        cosine = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True) * ref_norm).sum(1)
        spearman = "-"
        if full_set:
            value = common.stsb_spearman_from(dict(zip(sentences, vectors)))
            spearman = f"{value:.4f} ({value - base_spearman:+.4f})"
        rows.append([
            name, f"{speed:.1f}", common.ratio(speed, base_speed), common.paired_ratio(wall, name, "ST fp32"),
            f"{per_cpu:.1f}", common.ratio(per_cpu, base_cpu),
            spearman, f"{cosine.mean():.4f}", f"{cosine.min():.4f}",
        ])
    headers = ["contender", "sentences/s (median)", "vs ST fp32", "vs ST fp32, per round (median)",
               "sentences per CPU-s", "vs ST fp32 (CPU)",
               "STS-B test spearman (vs ST fp32)", "mean cos to ST fp32", "min cos to ST fp32"]
    notes = [
        f"{len(sentences)} unique STS-B test sentences, batch {args.batch_size}, {args.repeats} alternating "
        "rounds after a warm-up",
        "sentforge int8 = every nn.Linear as Int8Linear (weights per output channel, inputs per call, "
        f"{'all 8 bits (AVX512-VNNI)' if full_range_activations() else '7 bits (no VNNI)'}); ST int8 (by hand) = "
        "torch's quantize_dynamic defaults (weights per tensor, 7-bit inputs); "
        "bf16 = all weights in bfloat16; embeddings returned as float32",
        "ONNX (backend=\"onnx\", its O2 and int8 exports): bench_onnx.py",
        *notes,
    ]
    common.report("Reduced-precision encode (bench_quantized)", common.markdown_table(headers, rows), notes,
                  args.no_record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
