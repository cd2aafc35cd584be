"""Card pieces against the reference implementations: sentence-transformers' model card data,
transformers' markdown tables, and huggingface_hub's reading of the metadata."""

from __future__ import annotations

import random
import warnings

import huggingface_hub
import pytest
import yaml
from huggingface_hub.repocard_data import EvalResult, eval_results_to_model_index, model_index_to_eval_results
from sentence_transformers import SentenceTransformerModelCardData as ReferenceCardData
from sentence_transformers.sentence_transformer.evaluation import EmbeddingSimilarityEvaluator
from transformers.modelcard import make_markdown_table

from sentforge.card import DatasetInfo, EvaluatorResult, LogRow, RunInfo, SentenceTransformerModelCardData, render_model_card
from sentforge.card.metadata import front_matter
from sentforge.card.evaluation import evaluation_blocks
from sentforge.card.sections import training_log_table
from sentforge.card.tables import markdown_table
from sentforge.card.widget import widget_examples


def reference_card_data() -> ReferenceCardData:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ReferenceCardData(local_files_only=True, model_name="My Model")


def test_markdown_table_matches_transformers():
    rng = random.Random(3)
    rows = [
        {"Epoch": rng.random() * 3, "Step": rng.randint(1, 9999), "Training Loss": round(rng.random(), 4),
         "name": rng.choice(["a", "much longer text", "**0.5**", "-"]), "x": rng.choice([1.0, 0.25, 2e-05, 3.98300584])}
        for _ in range(12)
    ]
    assert markdown_table(rows, centered=True) == make_markdown_table(rows)
    assert markdown_table(rows) == make_markdown_table(rows).replace("-:|", "--|")


def test_training_log_table_matches_sentence_transformers_bold_row_included():
    rng = random.Random(0)
    logs = []
    for step in range(1, 15):
        row = LogRow(epoch=step / 7, step=step, training_loss=rng.random() if step % 2 else None)
        if step % 3 == 0:
            row.validation_loss = rng.random()
            row.metrics = {"valid_spearman_cosine": rng.random(), "test_spearman_cosine": rng.random()}
        logs.append(row)
    reference = reference_card_data()
    for row in logs:
        entry = {"Epoch": row.epoch, "Step": row.step}
        if row.training_loss is not None:
            entry["Training Loss"] = row.training_loss
        if row.validation_loss is not None:
            entry["Validation Loss"] = row.validation_loss
        reference.training_logs.append({**entry, **row.metrics})
    reference.set_best_model_step(9)
    expected = reference.format_training_logs()["eval_lines"]
    assert "**" in expected
    assert training_log_table(RunInfo(training_logs=logs, best_step=9)) + "\n" == expected


def evaluator(name: str) -> EmbeddingSimilarityEvaluator:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        instance = EmbeddingSimilarityEvaluator(["a"], ["b"], [1.0], name=name)
    instance.primary_metric = f"{name}_spearman_cosine"
    return instance


def test_evaluation_tables_and_model_index_match_sentence_transformers():
    metrics = {
        "valid": {"valid_pearson_cosine": 0.81234567, "valid_spearman_cosine": 0.7000000001},
        "test": {"test_pearson_cosine": -0.5, "test_spearman_cosine": 0.61119},
    }
    reference = reference_card_data()
    reference.eval_results_dict = {evaluator(name): values for name, values in metrics.items()}
    expected = reference.format_eval_metrics()
    results = [
        EvaluatorResult("EmbeddingSimilarityEvaluator", name, "Semantic Similarity", values, f"{name}_spearman_cosine")
        for name, values in metrics.items()
    ]
    info = RunInfo(card_data=SentenceTransformerModelCardData(model_name="My Model"), evaluator_results=results)
    blocks = evaluation_blocks(info)
    assert [block["table"] + "\n" for block in blocks] == [block["table"] for block in expected["eval_metrics"]]
    assert blocks[0]["dataset_line"] == "* Datasets: `valid` and `test`"
    metadata = yaml.safe_load(front_matter(info))
    assert metadata["metrics"] == expected["metrics"]
    assert metadata["model-index"] == expected["model-index"]


def test_widget_matches_sentence_transformers_under_the_same_seed():
    from datasets import Dataset

    rng = random.Random(1)
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda".split()
    rows = [
        {"anchor": " ".join(rng.choices(words, k=rng.randint(1, 9))),
         "positive": " ".join(rng.choices(words, k=rng.randint(1, 9))), "score": rng.random()}
        for _ in range(60)
    ]
    rows[4]["positive"] = ""  # rows with an empty text are never used
    reference = reference_card_data()
    random.seed(11)
    reference.set_widget_examples(Dataset.from_list(rows))
    widget, usage = widget_examples(rows, seed=11)
    assert len(widget) == 5
    assert widget == reference.widget
    assert usage == reference.usage_examples[:3]


def test_widget_needs_four_texts_per_example():
    rows = [{"a": f"question {i}", "b": f"answer {i}"} for i in range(4)]
    assert widget_examples(rows) == ([], None)  # as seed 001: four pairs give no widget


def test_metadata_reads_back_with_huggingface_hub(tmp_path):
    results = [
        EvaluatorResult("EmbeddingSimilarityEvaluator", "sts-dev", "Semantic Similarity",
                        {"sts-dev_pearson_cosine": 0.8, "sts-dev_spearman_cosine": float("nan")},
                        "sts-dev_spearman_cosine"),
        EvaluatorResult("InformationRetrievalEvaluator", "scifact", "Information Retrieval",
                        {"scifact_cosine_ndcg@10": 0.64, "scifact_cosine_mrr@10": 0.6}, "scifact_cosine_ndcg@10"),
    ]
    card_data = SentenceTransformerModelCardData(
        language="en", license="apache-2.0", train_datasets=[{"name": "STSB", "id": "sentence-transformers/stsb"}]
    )
    stsb = DatasetInfo("STSB", 5749, ["sentence1", "sentence2", "score"], hub_id="sentence-transformers/stsb")
    info = RunInfo(card_data=card_data, base_model="sentence-transformers/all-MiniLM-L6-v2",
                   output_dimension=384, evaluator_results=results, train_datasets=[stsb])
    text = render_model_card(info)
    card = huggingface_hub.ModelCard(text)
    assert card.data.language == ["en"] and card.data.license == "apache-2.0"
    assert card.data.datasets == ["sentence-transformers/stsb"]
    expected_results = [
        EvalResult(task_type="semantic-similarity", task_name="Semantic Similarity", dataset_type="sts-dev",
                   dataset_name="sts dev", metric_type="pearson_cosine", metric_value=0.8, metric_name="Pearson Cosine"),
        EvalResult(task_type="information-retrieval", task_name="Information Retrieval", dataset_type="scifact",
                   dataset_name="scifact", metric_type="cosine_ndcg@10", metric_value=0.64, metric_name="Cosine Ndcg@10"),
        EvalResult(task_type="information-retrieval", task_name="Information Retrieval", dataset_type="scifact",
                   dataset_name="scifact", metric_type="cosine_mrr@10", metric_value=0.6, metric_name="Cosine Mrr@10"),
    ]
    name = "SentenceTransformer based on sentence-transformers/all-MiniLM-L6-v2"
    assert card.data.eval_results == expected_results
    metadata = yaml.safe_load(text.split("---\n")[1])
    assert metadata["model-index"] == eval_results_to_model_index(name, expected_results)
    assert model_index_to_eval_results(metadata["model-index"])[1] == expected_results
    path = tmp_path / "README.md"
    path.write_text(text, encoding="utf-8")
    assert list(huggingface_hub.metadata_load(path)) == [
        "language", "license", "tags", "base_model", "datasets", "pipeline_tag", "library_name", "metrics", "model-index",
    ]
    stsb_link = "[STSB](https://huggingface.co/datasets/sentence-transformers/stsb)"
    for line in [
        f"finetuned from [sentence-transformers/all-MiniLM-L6-v2](https://huggingface.co/sentence-transformers/"
        f"all-MiniLM-L6-v2) on the {stsb_link} dataset. It maps sentences & paragraphs to a 384-dimensional",
        f"- **Training Dataset:**\n    - {stsb_link}\n- **Language:** en\n- **License:** apache-2.0\n",
        f"#### STSB\n\n* Dataset: {stsb_link}\n* Size: 5,749 training samples\n",
        "* `spearman_cosine` is n/a: ",
    ]:
        assert line in text


@pytest.mark.parametrize("model_id", ["alice/my-model", "not-a-user-slash-name"])
def test_model_id_in_usage_snippet(model_id):
    info = RunInfo(card_data=SentenceTransformerModelCardData(model_id=model_id), output_dimension=8)
    shown = model_id if "/" in model_id else "sentence_transformers_model_id"
    assert f'model = SentenceTransformer("{shown}")' in render_model_card(info)
