"""`sentforge train` end to end on a tiny random model: seed-000-shaped data, scored pairs, a recipe."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from test_cli import restore_library_state  # noqa: F401  (autouse fixture)
from test_cli import WORDS, flat, invoke, write_csv

from sentforge import SentenceTransformer


def qa_pairs(count: int) -> list[tuple[str, str]]:
    """Question/answer pairs in the tiny model's vocabulary (the shape of seed 000's 71 mining-law pairs)."""
    rows = []
    for i in range(count):
        a, b, c = WORDS[i % 18], WORDS[(i * 5 + 3) % 18], WORDS[(i * 11 + 7) % 18]
        rows.append((f"what is the {a} {b} rule {i}", f"the {b} {a} law is a {c} permit {i}"))
    return rows


@pytest.fixture(scope="module")
def seed000_run(tmp_path_factory, tiny_bert_dir):
    """Train on 70 pairs, evaluate on positive pairs whose label is 1.0 everywhere (seed 000's NaN trap)."""
    folder = tmp_path_factory.mktemp("seed000")
    rows = qa_pairs(82)
    train = write_csv(folder / "train.csv", ["question", "answer"], rows[:70])
    evaluation = write_csv(folder / "eval.csv", ["question", "answer", "label"], [(q, a, 1.0) for q, a in rows[70:]])
    output = folder / "model"
    result = invoke("train", train, "--eval", evaluation, "--base", tiny_bert_dir, "--batch-size", 8,
                    "--max-steps", 2, "--eval-steps", 1, "--output", output)
    assert result.exit_code == 0, result.output
    return {"output": output, "log": result.output, "eval": evaluation, "eval_rows": rows[70:]}


def metrics_of(output: Path) -> dict:
    return json.loads((output / "metrics.json").read_text(encoding="utf-8"))


def test_seed000_evaluates_by_retrieval_not_nan(seed000_run) -> None:
    log = flat(seed000_run["log"])
    assert "every eval label is 1" in log and "InformationRetrievalEvaluator" in log
    assert "eval-labels-constant" in log
    assert "eval_cosine_ndcg@10 =" in log  # one line per evaluation during training
    table = log[log.index("Baseline vs fine-tuned"):log.index("Model saved to")]
    assert "eval_cosine_ndcg@10 (primary)" in table
    assert "n/a" not in table and "nan" not in table.lower()
    record = metrics_of(seed000_run["output"])
    assert record["evaluator"]["name"] == "InformationRetrievalEvaluator"
    primary = record["evaluator"]["primary_metric"]
    assert primary == "eval_cosine_ndcg@10"
    for part in ("baseline", "final"):
        values = record[part]
        assert primary in values and len(values) >= 10
        assert all(isinstance(v, float) and math.isfinite(v) for v in values.values()), values
    assert "eval-labels-constant" in [f["code"] for f in record["data_doctor"]["findings"]]


def test_seed000_card_has_retrieval_metrics(seed000_run) -> None:
    card = (seed000_run["output"] / "README.md").read_text(encoding="utf-8")
    front = yaml.safe_load(card.split("---")[1])
    values = [m["value"] for entry in front["model-index"] for r in entry["results"] for m in r["metrics"]]
    assert values and all(isinstance(v, float) and math.isfinite(v) for v in values)
    assert any(m["type"] == "cosine_ndcg@10" for entry in front["model-index"] for r in entry["results"]
               for m in r["metrics"])
    evaluation = card[card.index("## Evaluation"):card.index("## Training Details")]
    assert "Information Retrieval" in evaluation and "Baseline vs Fine-tuned" in evaluation
    assert "nan" not in evaluation.lower() and "n/a" not in evaluation
    assert "eval-labels-constant" in card  # the data doctor's findings are in the card


def test_seed000_metrics_match_sentence_transformers(seed000_run) -> None:
    """The reference library, loading our saved model, gets the same retrieval metrics (tolerance 1e-4)."""
    st = pytest.importorskip("sentence_transformers")
    try:
        from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator
    except ImportError:
        from sentence_transformers.evaluation import InformationRetrievalEvaluator

    model = st.SentenceTransformer(str(seed000_run["output"]), device="cpu")
    rows = seed000_run["eval_rows"]
    queries = {f"q{i}": q for i, (q, _) in enumerate(rows)}
    corpus = {f"d{i}": a for i, (_, a) in enumerate(rows)}
    relevant = {f"q{i}": {f"d{i}"} for i in range(len(rows))}
    reference = InformationRetrievalEvaluator(queries, corpus, relevant, name="eval")(model)
    final = metrics_of(seed000_run["output"])["final"]
    for key in ("eval_cosine_ndcg@10", "eval_cosine_mrr@10", "eval_cosine_accuracy@1"):
        assert final[key] == pytest.approx(reference[key], abs=1e-4), key


def test_train_writes_model_metrics_and_comparison(seed000_run) -> None:
    output = seed000_run["output"]
    for name in ("modules.json", "model.safetensors", "config_sentence_transformers.json", "metrics.json", "README.md"):
        assert (output / name).is_file(), name
    assert not list((output / "training").glob("checkpoint-*")), "checkpoints are removed after the final save"
    log = flat(seed000_run["log"])
    assert "Baseline vs fine-tuned" in log and "Fine-tuned" in log and "(primary)" in log
    assert f"Model saved to {output}" in log and f"Model card: {output / 'README.md'}" in log
    record = metrics_of(output)
    assert record["steps"] == 2 and record["data"]["train_rows"] == 70 and record["data"]["eval_rows"] == 12
    assert set(record["timings_s"]) >= {"load_model", "data_doctor", "baseline_eval", "train", "save", "total"}
    model = SentenceTransformer(str(output), device="cpu")
    assert model.encode(["the law of the land"]).shape == (1, 32)


def test_scored_pairs_are_rescaled_and_held_out(tmp_path, tiny_bert_dir) -> None:
    rows = [(q, a, float(i % 6)) for i, (q, a) in enumerate(qa_pairs(48))]
    data = write_csv(tmp_path / "sts.csv", ["sentence1", "sentence2", "score"], rows)
    output = tmp_path / "model"
    result = invoke("train", data, "--base", tiny_bert_dir, "--batch-size", 8, "--max-steps", 2,
                    "--allow-inverted-labels", "--output", output)  # a random model's cosine means nothing
    assert result.exit_code == 0, result.output
    log = flat(result.output)
    assert "held out 5 of 48" in log and "by group: no text is in both parts" in log
    assert "Scores are on the usual 0-5 scale: mapped onto 0-1 as score / 5" in log
    assert "Loss: CoSENTLoss" in log and "EmbeddingSimilarityEvaluator" in log
    record = metrics_of(output)
    assert record["data"]["held_out_rows"] == 5 and record["data"]["train_rows"] == 43
    assert record["loss"]["name"] == "CoSENTLoss"
    assert record["evaluator"]["primary_metric"] == "held-out_spearman_cosine"


def test_triplets_train_with_hard_negatives(tmp_path, tiny_bert_dir) -> None:
    rows = [(q, a, f"the {WORDS[i % 18]} court") for i, (q, a) in enumerate(qa_pairs(24))]
    data = write_csv(tmp_path / "triplets.csv", ["anchor", "positive", "negative"], rows)
    output = tmp_path / "model"
    result = invoke("train", data, "--base", tiny_bert_dir, "--batch-size", 8, "--max-steps", 1, "--no-baseline",
                    "--output", output)
    assert result.exit_code == 0, result.output
    log = flat(result.output)
    assert "Task: triplets. Loss: MultipleNegativesRankingLoss" in log and "TripletEvaluator" in log
    assert metrics_of(output)["evaluator"]["primary_metric"] == "held-out_cosine_accuracy"


def test_train_from_recipe(tmp_path, tiny_bert_dir) -> None:
    rows = [(q, a, float(i % 2)) for i, (q, a) in enumerate(qa_pairs(40))]
    write_csv(tmp_path / "train.csv", ["premise", "hypothesis", "label"], rows[:32])
    write_csv(tmp_path / "dev.csv", ["sentence1", "sentence2", "score"], [(q, a, 0.3 + 0.05 * i) for i, (q, a, _) in enumerate(rows[32:])])
    recipe = {
        "base_model": tiny_bert_dir, "max_seq_length": 32, "normalize": True,
        "data": {"train": str(tmp_path / "train.csv"), "eval": str(tmp_path / "dev.csv"),
                 "columns": ["premise", "hypothesis", "label"], "eval_columns": ["sentence1", "sentence2", "score"]},
        "loss": {"name": "CosineSimilarityLoss", "params": {"loss_fct": "torch.nn.modules.loss.MSELoss"}},
        "evaluator": {"type": "EmbeddingSimilarityEvaluator", "name": "sts-dev"},
        "args": {"eval_strategy": "steps", "eval_steps": 1, "per_device_train_batch_size": 8},
        "output": str(tmp_path / "from-recipe"),
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    result = invoke("train", path, "--max-steps", 2, "--no-baseline", "--allow-inverted-labels")
    assert result.exit_code == 0, result.output
    log = flat(result.output)
    assert "Recipe: " in log and "Loss: CosineSimilarityLoss" in log and "named by the recipe" in log
    assert log.count("sts-dev_spearman_cosine =") == 2  # evaluated at steps 1 and 2, as the recipe says
    output = tmp_path / "from-recipe"
    record = metrics_of(output)
    assert record["baseline"] == {} and record["evaluator"]["primary_metric"] == "sts-dev_spearman_cosine"
    modules = json.loads((output / "modules.json").read_text())
    assert modules[-1]["type"].endswith("Normalize")
    assert json.loads((output / "sentence_bert_config.json").read_text())["max_seq_length"] == 32


def test_info_shows_the_card_summary(seed000_run) -> None:
    result = invoke("info", seed000_run["output"])
    assert result.exit_code == 0, result.output
    log = flat(result.output)
    assert "Transformer model: BertModel" in log and "Embedding dimension: 32" in log
    # pairs train MultipleNegativesRankingLoss inside MatryoshkaLoss by default (the recipe chosen from the data)
    assert "Loss: MatryoshkaLoss, MultipleNegativesRankingLoss" in log and "Training rows: 70" in log
    assert "cosine_ndcg@10" in log or "cosine_accuracy@1" in log


def test_card_command_regenerates_the_card(seed000_run, tmp_path) -> None:
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(seed000_run["output"], folder)
    original = (folder / "README.md").read_text(encoding="utf-8")
    (folder / "README.md").unlink()
    result = invoke("card", folder)
    assert result.exit_code == 0, result.output
    assert (folder / "README.md").read_text(encoding="utf-8") == original


def test_eval_command_matches_training_metrics(seed000_run) -> None:
    result = invoke("eval", seed000_run["output"], seed000_run["eval"])
    assert result.exit_code == 0, result.output
    log = flat(result.output)
    final = metrics_of(seed000_run["output"])["final"]
    assert "every eval label is 1" in log
    assert f"eval_cosine_ndcg@10 (primary) {final['eval_cosine_ndcg@10']:.4f}" in log


def test_a_crash_during_training_keeps_the_model(tmp_path, tiny_bert_dir, monkeypatch) -> None:
    from sentforge.commands.progress import RichProgress

    def crash(self, args, state, control, **kwargs):
        if state.global_step == 2:
            raise RuntimeError("disk unplugged")

    monkeypatch.setattr(RichProgress, "on_step_end", crash)
    data = write_csv(tmp_path / "pairs.csv", ["question", "answer"], qa_pairs(40))
    output = tmp_path / "model"
    result = invoke("train", data, "--base", tiny_bert_dir, "--batch-size", 8, "--no-baseline", "--output", output)
    assert isinstance(result.exception, RuntimeError)  # a bug is not dressed up as a user error
    assert "stopped by an error at step 2" in flat(result.output)
    assert SentenceTransformer(str(output), device="cpu").encode(["the law"]).shape == (1, 32)
