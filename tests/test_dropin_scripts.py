"""Drop-in: sentence-transformers' own training scripts run with `sentforge` in their imports.

Each script in tests/dropin/ is one of sentence-transformers' v3-v5 training examples with only
`sentence_transformers` -> `sentforge` changed (plus lines marked "local:" for data and budget).
Every script runs in a subprocess on a tiny random model; the test then checks what a user would:
the run exits 0, the saved model loads in sentforge AND in sentence-transformers with the same
embeddings (and differs from the base, so the trained weights were saved), the model card
carries the loss tags sentence-transformers writes for the same script, and the evaluator's
metrics reached the trainer's log history under sentence-transformers' names.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pytest
import yaml

from sentforge import SentenceTransformer

DROPIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dropin")
PROBE_SENTENCES = ["A man is playing a flute.", "Stocks rallied sharply in June.", "Two women are embracing."]
TOLERANCE = 1e-5  # same weights, same ops: the two libraries agree to float32 rounding


@dataclass(frozen=True)
class Expected:
    """What sentence-transformers itself produces for the script (tags and metric names of its card/logs)."""

    loss_tags: tuple[str, ...]
    metric: str


SCRIPTS = {
    "training_stsbenchmark": Expected(("loss:CosineSimilarityLoss",), "eval_sts-dev_spearman_cosine"),
    "training_nli_v2": Expected(("loss:MultipleNegativesRankingLoss",), "eval_all-nli-dev_cosine_accuracy"),
    "matryoshka_nli": Expected(
        ("loss:MatryoshkaLoss", "loss:MultipleNegativesRankingLoss"), "eval_sts-dev-16_spearman_cosine"
    ),
    "training_OnlineContrastiveLoss": Expected(("loss:OnlineContrastiveLoss",), "eval_quora-duplicates_cosine_ap"),
    "training_multi-task": Expected(("loss:SoftmaxLoss", "loss:CosineSimilarityLoss"), "eval_sts-dev_spearman_cosine"),
    "training_batch_hard_trec": Expected(("loss:BatchAllTripletLoss",), "eval_trec-dev_cosine_accuracy"),
    "adaptive_layer_nli": Expected(
        ("loss:AdaptiveLayerLoss", "loss:MultipleNegativesRankingLoss"), "eval_sts-dev_spearman_cosine"
    ),
    "2d_matryoshka_nli": Expected(
        ("loss:Matryoshka2dLoss", "loss:MatryoshkaLoss", "loss:MultipleNegativesRankingLoss"),
        "eval_sts-dev_spearman_cosine",
    ),
    "training_nli": Expected(("loss:SoftmaxLoss",), "eval_sts-dev_spearman_cosine"),
    "matryoshka_sts": Expected(("loss:MatryoshkaLoss", "loss:CoSENTLoss"), "eval_sts-dev-16_spearman_cosine"),
    "2d_matryoshka_sts": Expected(
        ("loss:Matryoshka2dLoss", "loss:MatryoshkaLoss", "loss:CoSENTLoss"), "eval_sts-dev_spearman_cosine"
    ),
    "adaptive_layer_sts": Expected(("loss:AdaptiveLayerLoss", "loss:CoSENTLoss"), "eval_sts-dev_spearman_cosine"),
    "training_stsbenchmark_continue_training": Expected(
        ("loss:CosineSimilarityLoss",), "eval_sts-dev_spearman_cosine"
    ),
    "training_nli_v3": Expected(("loss:GISTEmbedLoss",), "eval_sts-dev_spearman_cosine"),
    "training_MultipleNegativesRankingLoss": Expected(("loss:MultipleNegativesRankingLoss",), "eval_cosine_ndcg@10"),
    "training_multi-task-learning": Expected(
        ("loss:MultipleNegativesRankingLoss", "loss:ContrastiveLoss"), "eval_quora-duplicates-dev_average_precision"
    ),
}

@dataclass
class Run:
    result: subprocess.CompletedProcess
    output_dir: str


def run_script(name: str, output_dir: str, model: str, **budget: str) -> Run:
    """Run one drop-in script in a subprocess with a small budget; its outputs go to output_dir."""
    env = dict(
        os.environ,
        DROPIN_MODEL=model,
        DROPIN_OUTPUT_DIR=output_dir,
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        OMP_NUM_THREADS="1",
        **budget,
    )
    result = subprocess.run(
        [sys.executable, f"{name}.py"], cwd=DROPIN_DIR, env=env, capture_output=True, text=True, timeout=600
    )
    return Run(result, output_dir)


@pytest.fixture(scope="module")
def tiny_runs(tiny_bert_dir, shared_data, tmp_path_factory) -> dict[str, Run]:
    """All scripts, two at a time, on the tiny random BERT."""
    root = tmp_path_factory.mktemp("dropin")
    budget = dict(
        DROPIN_MAX_STEPS="4", DROPIN_BATCH_SIZE="8", DROPIN_TRAIN_ROWS="64", DROPIN_EVAL_ROWS="48",
        DROPIN_MATRYOSHKA_DIMS="32,16,8", SENTFORGE_SHARED_DATA=shared_data,
        DROPIN_GUIDE_MODEL=tiny_bert_dir,  # training_nli_v3's GISTEmbedLoss guide (all-MiniLM-L6-v2 there)
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(run_script, name, str(root / name), tiny_bert_dir, **budget) for name in SCRIPTS}
        return {name: future.result() for name, future in futures.items()}


def check_run(run: Run, expected: Expected, base_model: str) -> None:
    assert run.result.returncode == 0, run.result.stderr[-4000:]
    final = os.path.join(run.output_dir, "final")

    # The saved model loads in both libraries and gives the same embeddings.
    from sentence_transformers import SentenceTransformer as ReferenceModel

    ours = SentenceTransformer(final, device="cpu").encode(PROBE_SENTENCES, convert_to_numpy=True)
    reference = ReferenceModel(final, device="cpu").encode(PROBE_SENTENCES, convert_to_numpy=True)
    np.testing.assert_allclose(ours, reference, atol=TOLERANCE)
    base = SentenceTransformer(base_model, device="cpu").encode(PROBE_SENTENCES, convert_to_numpy=True)
    assert np.abs(ours - base).max() > 1e-6, "the saved model still has the base model's weights"

    # The model card is there, with the tags sentence-transformers writes for this loss.
    with open(os.path.join(final, "README.md"), encoding="utf-8") as handle:
        front_matter = handle.read().split("---\n")[1]
    tags = yaml.safe_load(front_matter)["tags"]
    for tag in expected.loss_tags:
        assert tag in tags

    # The evaluator ran during training and its metrics were logged under sentence-transformers' names.
    checkpoints = glob.glob(os.path.join(run.output_dir, "checkpoint-*", "trainer_state.json"))
    assert checkpoints, f"no checkpoint in {run.output_dir}"
    latest = max(checkpoints, key=lambda path: int(path.split("checkpoint-")[1].split(os.sep)[0]))
    with open(latest, encoding="utf-8") as handle:
        history = json.load(handle)["log_history"]
    values = [entry[expected.metric] for entry in history if expected.metric in entry]
    assert values, f"{expected.metric} not in the log history; keys: {sorted({k for e in history for k in e})}"
    assert all(np.isfinite(values))


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_dropin_script_runs_and_saves_an_interoperable_model(name, tiny_runs, tiny_bert_dir):
    check_run(tiny_runs[name], SCRIPTS[name], tiny_bert_dir)


def test_scripts_import_sentforge_and_read_local_data():
    """A drop-in script imports sentforge, never sentence_transformers, and reads data only through load_local."""
    for name in SCRIPTS:
        with open(os.path.join(DROPIN_DIR, f"{name}.py"), encoding="utf-8") as handle:
            source = handle.read()
        imports = [line for line in source.splitlines() if line.startswith(("from ", "import "))]
        assert not [line for line in imports if "sentence_transformers" in line], name
        assert any(line.startswith("from sentforge") for line in imports), name
        assert "load_dataset(" not in source.replace("load_local(", ""), f"{name} still reads from the Hub"


@pytest.mark.integration
def test_stsbenchmark_script_on_minilm_with_cosent(minilm_path, shared_data, tmp_path):
    """The STS-B script with its CoSENT line, 10 steps on the packaged all-MiniLM-L6-v2."""
    run = run_script(
        "training_stsbenchmark", str(tmp_path / "sts"), "sentence-transformers/all-MiniLM-L6-v2",
        DROPIN_LOSS="cosent", DROPIN_MAX_STEPS="10", DROPIN_BATCH_SIZE="16", DROPIN_TRAIN_ROWS="160",
        DROPIN_EVAL_ROWS="100", SENTFORGE_SHARED_DATA=shared_data,
    )
    check_run(run, Expected(("loss:CoSENTLoss",), "eval_sts-dev_spearman_cosine"), minilm_path)
