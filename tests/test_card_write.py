"""Writing the card beside a model: atomic files, errors returned (never raised), the run record
saved as strict JSON and read back to regenerate the same card, and the training curve."""

from __future__ import annotations

import json
import os

import pytest

from sentforge.card import (
    DatasetInfo,
    EvaluatorResult,
    LogRow,
    LossInfo,
    RunInfo,
    SentenceTransformerModelCardData,
    collect_framework_versions,
    load_run_info,
    plot_training_curve,
    regenerate_model_card,
    render_model_card,
    write_model_card,
)
from sentforge.card import write as write_module
from sentforge.card.stats import describe_dataset
from sentforge.errors import SentforgeError

NAN = float("nan")


def run_info() -> RunInfo:
    rows = [{"anchor": f"question {i}?", "positive": f"answer number {i}.", "score": i / 10} for i in range(10)]
    train = describe_dataset(
        rows, lambda texts: [len(t.split()) + 2 for t in texts],
        loss=LossInfo("CoSENTLoss", "sentforge.losses.CoSENTLoss", {"scale": 20.0, "similarity_fct": "pairwise_cos_sim"}),
    )
    logs = [
        LogRow(epoch=step / 4, step=step, training_loss=1.0 / step,
               validation_loss=0.9 / step if step % 2 == 0 else None,
               metrics={"dev_spearman_cosine": 0.5 + step / 20} if step % 2 == 0 else {})
        for step in range(1, 9)
    ]
    logs[3].metrics["dev_spearman_cosine"] = NAN
    dev = EvaluatorResult("EmbeddingSimilarityEvaluator", "dev", "Semantic Similarity",
                          {"dev_pearson_cosine": NAN, "dev_spearman_cosine": 0.9}, "dev_spearman_cosine")
    return RunInfo(
        architecture="SentenceTransformer(...)", max_seq_length=32, output_dimension=16, train_datasets=[train],
        evaluator_results=[dev], baseline_metrics={"dev_pearson_cosine": 0.1, "dev_spearman_cosine": 0.2},
        all_hyperparameters={"learning_rate": 2e-05, "fsdp": [], "lr_scheduler_kwargs": {}, "betas": (0.9, 0.999),
                             "accelerator_config": {"split_batches": False, "dispatch_batches": None}},
        non_default_hyperparameters={"learning_rate": 2e-05}, training_logs=logs, best_step=6,
        framework_versions=collect_framework_versions(), nan_reasons={"dev_pearson_cosine": "constant labels"},
    )


def leftovers(folder) -> list[str]:
    return [name for name in os.listdir(folder) if name.endswith(".tmp")]


def test_write_creates_card_curve_and_strict_json(tmp_path):
    assert write_model_card(tmp_path, run_info()) is None
    assert sorted(os.listdir(tmp_path)) == ["README.md", "training_curve.png", "training_run.json"]
    card = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "![Training curve](training_curve.png)" in card
    assert (
        "* The bold row denotes the saved checkpoint.\n"
        "* `dev_spearman_cosine` is n/a at step 4: the evaluator returned NaN"
    ) in card
    assert ", and evaluate again.\n\n![Training curve](training_curve.png)\n\nFiles of this run" in card
    assert "`training_run.json` (the run record this card was rendered from" in card
    assert (tmp_path / "training_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    def no_constants(name):
        raise AssertionError(f"{name} is not JSON")

    data = json.loads((tmp_path / "training_run.json").read_text(encoding="utf-8"), parse_constant=no_constants)
    assert data["evaluator_results"][0]["metrics"]["dev_pearson_cosine"] == "NaN"
    assert data["training_curve"] == "training_curve.png"


def test_run_record_reads_back_and_regenerates_the_same_card(tmp_path):
    assert write_model_card(tmp_path, run_info()) is None
    card = (tmp_path / "README.md").read_text(encoding="utf-8")
    loaded = load_run_info(tmp_path)
    assert render_model_card(loaded) == card
    assert loaded.training_logs[3].metrics["dev_spearman_cosine"] != loaded.training_logs[3].metrics["dev_spearman_cosine"]
    assert loaded.train_datasets[0].loss.config == {"scale": 20.0, "similarity_fct": "pairwise_cos_sim"}
    (tmp_path / "README.md").unlink()
    assert regenerate_model_card(tmp_path) is None
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == card


def test_a_rendering_bug_is_returned_not_raised_and_the_old_card_stays(tmp_path):
    (tmp_path / "README.md").write_text("previous card", encoding="utf-8")
    broken = run_info()
    broken.evaluator_results[0].metrics = None  # a bug upstream: rendering fails on it
    message = write_model_card(tmp_path, broken)
    assert message is not None and "README.md" in message and "TypeError" in message
    assert f"sentforge card {tmp_path}" in message
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == "previous card"
    assert leftovers(tmp_path) == []


def test_a_crash_while_replacing_leaves_the_old_card_whole(tmp_path, monkeypatch):
    (tmp_path / "README.md").write_text("previous card", encoding="utf-8")

    def crash(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(write_module.os, "replace", crash)
    message = write_model_card(tmp_path, run_info())
    assert "OSError: disk full" in message
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == "previous card"
    assert leftovers(tmp_path) == []


def test_a_missing_folder_is_reported(tmp_path):
    message = write_model_card(tmp_path / "missing", run_info())
    assert message is not None and "README.md" in message


def test_load_run_info_errors_say_what_to_do(tmp_path):
    with pytest.raises(SentforgeError, match="training_run.json"):
        load_run_info(tmp_path)
    (tmp_path / "training_run.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SentforgeError, match="not a readable run record"):
        load_run_info(tmp_path)


def test_training_curve_plots_loss_and_metrics(tmp_path):
    import matplotlib.image

    path = plot_training_curve(run_info().training_logs, ["dev_spearman_cosine"], tmp_path / "curve.png", best_step=6)
    image = matplotlib.image.imread(path)
    assert image.shape[:2] == (640, 800)  # two panels at 100 dpi
    assert image[..., :3].std() > 0.05
    assert plot_training_curve([LogRow(0.5, 1)], ["dev_spearman_cosine"], tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()


def test_untrained_model_card_has_no_training_sections():
    card = render_model_card(RunInfo(architecture="SentenceTransformer(...)", output_dimension=8, max_seq_length=16))
    assert "generated_from_trainer" not in card
    for absent in ["### Training Dataset", "### Training Hyperparameters", "### Training Logs", "## Evaluation"]:
        assert absent not in card
    assert "# [3, 8]" in card and "'The weather is lovely today.'" in card


def test_framework_versions_name_the_libraries():
    import torch
    import transformers

    versions = collect_framework_versions()
    assert versions["PyTorch"] == torch.__version__
    assert versions["Transformers"] == transformers.__version__
    assert list(versions)[0] == "Python"


def test_multiple_datasets_and_wrapped_losses_are_listed():
    mnrl = LossInfo("MultipleNegativesRankingLoss", citation="@misc{henderson2017efficient}")
    matryoshka = LossInfo("MatryoshkaLoss", citation="@misc{kusupati2022matryoshka}", wrapped=[mnrl])
    datasets = [DatasetInfo(f"set{i}", 10 * i, ["a", "b"], loss=matryoshka) for i in range(1, 5)]
    card = render_model_card(RunInfo(train_datasets=datasets, output_dimension=8))
    assert "- dataset_size:100\n- loss:MatryoshkaLoss\n- loss:MultipleNegativesRankingLoss\n" in card
    assert "### Training Datasets\n<details><summary>set1</summary>\n\n#### set1\n\n* Dataset: set1\n" in card
    assert "on the set1, set2, set3 and set4 datasets." in card
    assert "#### MatryoshkaLoss\n```bibtex\n@misc{kusupati2022matryoshka}\n```" in card
    assert "#### MultipleNegativesRankingLoss\n```bibtex\n@misc{henderson2017efficient}\n```" in card


def test_a_diverged_training_loss_is_explained():
    logs = [LogRow(0.5, 1, training_loss=0.7), LogRow(1.0, 2, training_loss=NAN)]
    card = render_model_card(RunInfo(training_logs=logs, output_dimension=8))
    assert "| 1.0   | 2    | n/a           |" in card
    assert "* `Training Loss` is n/a at step 2: the loss was NaN: training diverged. Lower the learning rate" in card


def test_card_data_takes_the_arguments_of_sentence_transformers():
    import inspect
    import warnings

    from sentence_transformers import SentenceTransformerModelCardData as Reference

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = list(inspect.signature(Reference).parameters)
    assert list(inspect.signature(SentenceTransformerModelCardData).parameters) == expected
    data = SentenceTransformerModelCardData(language="en", tags=["legal"], train_datasets=[{"id": "org/set"}])
    assert data.language == ["en"]
    assert data.tags == ["sentence-transformers", "sentence-similarity", "feature-extraction", "dense", "legal"]
    assert data.train_datasets == [{"id": "org/set", "name": "org/set"}]


def test_evaluators_report_to_the_card_data_as_in_sentence_transformers():
    class FakeEvaluator:
        name, description, primary_metric = "dev", "Semantic Similarity", "dev_spearman_cosine"

    import numpy as np

    data = SentenceTransformerModelCardData()
    data.set_evaluation_metrics(FakeEvaluator(), {"dev_spearman_cosine": 0.1})
    data.set_evaluation_metrics(FakeEvaluator(), {"dev_spearman_cosine": np.float64(0.8)}, epoch=1, step=10)
    [result] = data.evaluator_results
    assert result.metrics == {"dev_spearman_cosine": 0.8} and result.name == "dev"
    assert result.class_name.endswith("FakeEvaluator")
    card = render_model_card(RunInfo(card_data=data, evaluator_results=data.evaluator_results))
    assert "| **spearman_cosine** | **0.8** |" in card
    evaluated_with = next(line for line in card.splitlines() if line.startswith("* Evaluated with"))
    assert evaluated_with.startswith("* Evaluated with <code>")  # a class from outside the library: no doc link
    assert evaluated_with.endswith(".FakeEvaluator</code>")
