"""`sentforge train-reranker` end to end on tiny models: mining, hold-out, training, metrics, card."""

from __future__ import annotations

import json
import math
import random

import yaml
from typer.testing import CliRunner

from sentforge.cli import app
from sentforge.cross_encoder import CrossEncoder
from sentforge.cross_encoder.reranker_data import split_pairs
from tiny_models import WORDS

runner = CliRunner()


def _pairs_file(folder) -> str:
    rng = random.Random(0)
    lines = ["question,passage"]
    for i in range(40):
        topic = rng.sample(WORDS, 3)
        lines.append(f"what about {' '.join(topic)} {i},{' '.join(topic + rng.sample(WORDS, 5))} {i}")
    path = folder / "pairs.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_split_keeps_queries_and_passages_on_one_side():
    queries = [f"q{i % 12}" for i in range(40)]
    passages = [f"p{i % 17}" for i in range(40)]
    split = split_pairs(queries, passages, seed=0)
    held_queries = set(split.eval_queries)
    held_passages = {p for group in split.eval_positives for p in group}
    assert held_queries and not held_queries & set(split.train_queries)
    assert not held_passages & set(split.train_positives)


def test_train_reranker_writes_model_card_and_metrics(tiny_bert_dir, tmp_path):
    output = tmp_path / "reranker"
    result = runner.invoke(app, [
        "train-reranker", _pairs_file(tmp_path), "--retriever", tiny_bert_dir, "--output", str(output),
        "--epochs", "1", "--batch-size", "8", "--negatives", "2", "--top-k", "5", "--max-steps", "3",
        "--skip-above", "1.0",  # a random tiny retriever scores everything alike: keep candidates up to the positive
    ])
    assert result.exit_code == 0, result.output
    metrics = json.loads((output / "metrics.json").read_text())
    assert set(metrics["retriever"]) == set(metrics["reranked"]) == {"map", "mrr@10", "ndcg@10"}
    assert metrics["heldout_queries"] > 0 and metrics["train_rows"] > 0
    assert "ndcg@10" in result.output and "retriever" in result.output
    card = (output / "README.md").read_text()
    front = yaml.safe_load(card.split("---")[1])
    assert "loss:BinaryCrossEntropyLoss" in front["tags"] and front["pipeline_tag"] == "text-ranking"
    assert "## Baseline vs Fine-tuned" in card and "heldout_ndcg@10" in card
    model = CrossEncoder(str(output), device="cpu")
    assert model.predict(("a question", "a passage")).shape == ()
    fused = metrics["fused"]  # the weight was chosen on the held-out queries: never worse there than either end
    assert 0 <= fused["reranker_weight"] <= 1
    assert fused["ndcg@10"] >= max(metrics["retriever"]["ndcg@10"], metrics["reranked"]["ndcg@10"]) - 1e-9
    assert json.loads((output / "score_fusion.json").read_text())["reranker_weight"] == fused["reranker_weight"]
    assert f"fused, reranker weight {fused['reranker_weight']:g} | {fused['ndcg@10']:.4f}" in card
    (pattern, head_lr), = metrics["learning_rate_mapping"].items()  # the new head learns at 20 x --lr
    assert head_lr == 20 * metrics["options"]["lr"] and "classifier" in pattern
    card_is_regenerated_with_the_fusion_section(output, card)


def card_is_regenerated_with_the_fusion_section(output, card: str) -> None:
    """`sentforge card` rewrites a reranker's card as a cross-encoder card, fusion section included."""
    assert card.index("## Reranking with the retriever") < card.index("## Training Details")
    (output / "README.md").unlink()
    result = runner.invoke(app, ["card", str(output)])
    assert result.exit_code == 0, result.output
    assert (output / "README.md").read_text() == card


def test_train_reranker_head_rate_only_for_a_new_head(tiny_bert_dir, tmp_path):
    common = ["--epochs", "1", "--batch-size", "8", "--negatives", "2", "--top-k", "5", "--max-steps", "2",
              "--skip-above", "1.0"]
    data = _pairs_file(tmp_path)
    first, second = tmp_path / "first", tmp_path / "second"
    result = runner.invoke(app, ["train-reranker", data, "--retriever", tiny_bert_dir, "-o", str(first),
                                 "--head-lr", "0.003", *common])
    assert result.exit_code == 0, result.output
    assert list(json.loads((first / "metrics.json").read_text())["learning_rate_mapping"].values()) == [0.003]
    result = runner.invoke(app, ["train-reranker", data, "--retriever", tiny_bert_dir, "--base", str(first),
                                 "-o", str(second), *common])
    assert result.exit_code == 0, result.output
    assert json.loads((second / "metrics.json").read_text())["learning_rate_mapping"] == {}  # head already trained


def test_train_reranker_user_errors(tiny_bert_dir, tmp_path):
    data = _pairs_file(tmp_path)
    result = runner.invoke(app, ["train-reranker", data, "--retriever", tiny_bert_dir, "--loss", "MarginMSELoss"])
    assert result.exit_code == 2 and "Error:" in result.output and "teacher" in result.output
    result = runner.invoke(app, ["train-reranker", data, "--retriever", tiny_bert_dir, "--negatives", "0"])
    assert result.exit_code == 2 and "--negatives" in result.output
    result = runner.invoke(app, ["train-reranker", str(tmp_path / "missing.csv"), "--retriever", tiny_bert_dir])
    assert result.exit_code == 2 and "Error:" in result.output
    result = runner.invoke(app, ["train-reranker", data, "--retriever", tiny_bert_dir, "--output",
                                 str(tmp_path / "none"), "--skip-above", "0.5"])
    assert result.exit_code == 2 and "No hard negatives" in result.output


def test_train_reranker_progress_is_plain_lines_off_a_terminal(tiny_bert_dir, tmp_path, monkeypatch):
    """A pipe or CI log gets sentforge's progress lines, not transformers' raw log dicts."""
    monkeypatch.setenv("SENTFORGE_PROGRESS_SECONDS", "0")
    result = runner.invoke(app, [
        "train-reranker", _pairs_file(tmp_path), "--retriever", tiny_bert_dir, "--output", str(tmp_path / "r"),
        "--batch-size", "8", "--negatives", "2", "--top-k", "5", "--max-steps", "3", "--skip-above", "1.0",
    ])
    assert result.exit_code == 0, result.output
    assert "Training: 3 steps" in result.output
    assert "step 3/3 (100%) loss" in result.output
    assert "{'loss'" not in result.output and "'grad_norm'" not in result.output


def test_default_epochs_give_a_few_hundred_steps():
    from sentforge.cross_encoder.reranker_training import MAX_EPOCHS, TARGET_STEPS, RerankerOptions, training_epochs

    options = RerankerOptions(data="d", retriever="r", batch_size=32)
    assert training_epochs(32 * 128, options) == math.ceil(TARGET_STEPS / 128) <= MAX_EPOCHS  # SciFact-sized
    assert training_epochs(32 * 1000, options) == 1  # a large set: one pass
    assert training_epochs(40, options) == MAX_EPOCHS  # a tiny one: capped
    assert training_epochs(40, RerankerOptions(data="d", retriever="r", epochs=2.5)) == 2.5
