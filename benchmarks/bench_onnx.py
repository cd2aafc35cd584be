"""ONNX encode: sentforge's backend="onnx" (fp32, O2-optimized, int8) vs its torch path and sentence-transformers.

Contenders, all on the same STS-B test sentences in alternating rounds:
  ST fp32               sentence-transformers on torch: the reference
  ST onnx               SentenceTransformer(path, backend="onnx"): skipped with the reason when it cannot
                        run offline (it needs optimum)
  sentforge torch       the default torch path
  sentforge onnx        backend="onnx": the encoder exported once with torch.onnx, run by onnxruntime
  sentforge onnx O2     the same graph after export_optimized_onnx_model(..., "O2") (fused attention etc.)
  sentforge onnx int8   export_dynamic_quantized_onnx_model(..., "avx512_vnni")
Reports sentences/s, ratios to ST fp32 and to sentforge torch, the largest difference of each ONNX
fp32 embedding from sentforge torch, and the STS-B test Spearman (full set only).

    .venv/bin/python benchmarks/bench_onnx.py [--batch-size 32] [--repeats 3] [--limit N] [--no-record]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from typing import Any, Callable

import numpy as np

import common


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="encode only the first N sentences (quick runs)")
    common.add_common_args(parser)
    return parser.parse_args()


def build_models(folder: str) -> tuple[dict[str, Any], list[str]]:
    """name -> model; and notes on skipped contenders."""
    from sentforge import SentenceTransformer, export_dynamic_quantized_onnx_model, export_optimized_onnx_model

    notes = []
    models: dict[str, Any] = {"ST fp32": common.load_model("st")}
    try:
        from sentence_transformers import SentenceTransformer as STModel

        models["ST onnx"] = STModel(folder, device="cpu", backend="onnx")
    except Exception as err:  # any failure means: not available here
        notes.append(f"ST onnx backend skipped: {type(err).__name__}: {str(err).splitlines()[0][:160]}")
    models["sentforge torch"] = SentenceTransformer(folder, device="cpu")
    onnx = SentenceTransformer(folder, device="cpu", backend="onnx")
    models["sentforge onnx"] = onnx
    optimized = export_optimized_onnx_model(onnx, "O2", folder)
    models["sentforge onnx O2"] = SentenceTransformer(folder, device="cpu", backend="onnx",
                                                      model_kwargs={"file_name": optimized.name})
    int8 = export_dynamic_quantized_onnx_model(onnx, "avx512_vnni", folder)
    models["sentforge onnx int8"] = SentenceTransformer(folder, device="cpu", backend="onnx",
                                                        model_kwargs={"file_name": int8.name})
    return models, notes


def main() -> int:
    args = parse_args()
    common.setup(args)
    sentences = common.stsb_test_sentences()[: args.limit]
    workdir = tempfile.mkdtemp(prefix="bench-onnx-")
    folder = shutil.copytree(common.minilm_path(), f"{workdir}/minilm")  # the exports go into the model folder
    try:
        models, notes = build_models(str(folder))

        def encoder(model) -> Callable[[], np.ndarray]:
            return lambda: model.encode(sentences, batch_size=args.batch_size, show_progress_bar=False)

        runs = {name: encoder(model) for name, model in models.items()}
        embeddings = {name: np.asarray(run(), dtype=np.float32) for name, run in runs.items()}  # warm-up too
        wall, _ = common.alternate(runs, args.repeats, warmup=False)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    full_set = args.limit is None
    st_speed = len(sentences) / common.median(wall["ST fp32"])
    torch_speed = len(sentences) / common.median(wall["sentforge torch"])
    reference = embeddings["sentforge torch"]
    rows = []
    for name, vectors in embeddings.items():
        speed = len(sentences) / common.median(wall[name])
        spearman = f"{common.stsb_spearman_from(dict(zip(sentences, vectors))):.4f}" if full_set else "-"
        rows.append([name, f"{speed:.1f}", common.ratio(speed, st_speed), common.paired_ratio(wall, name, "ST fp32"),
                     common.ratio(speed, torch_speed), f"{np.abs(vectors - reference).max():.1e}", spearman])
    headers = ["contender", "sentences/s (median)", "vs ST fp32", "vs ST fp32, per round (median)",
               "vs sentforge torch", "max abs diff to sentforge torch", "STS-B test spearman"]
    notes = [
        f"{len(sentences)} unique STS-B test sentences, batch {args.batch_size}, {args.repeats} alternating "
        "rounds after a warm-up; onnxruntime with all graph optimizations, intra-op threads = torch's",
        *notes,
    ]
    common.report("ONNX encode (bench_onnx)", common.markdown_table(headers, rows), notes, args.no_record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
