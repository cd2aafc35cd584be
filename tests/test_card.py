"""The rendered card against the seed cards: same headings, YAML keys, tables, and (for seeds
004 and 000) the same text line for line, apart from a few listed differences."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from sentforge.card import (
    ColumnStatistics,
    DatasetInfo,
    EvaluatorResult,
    LogRow,
    LossInfo,
    RunInfo,
    render_model_card,
)

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
ADDED_HEADINGS = {"### Baseline vs Fine-tuned", "### Data Doctor Findings"}
MPNET = "sentence-transformers/all-mpnet-base-v2"
COSINE_LOSS = "sentence_transformers.losses.CosineSimilarityLoss.CosineSimilarityLoss"
MNRL = "sentence_transformers.losses.MultipleNegativesRankingLoss.MultipleNegativesRankingLoss"


def seed(prefix: str) -> str:
    paths = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not paths:
        pytest.skip(f"seed cards not found in {SEEDS}")
    return paths[0].read_text(encoding="utf-8").replace("ðŸ¤—", "🤗")  # the seeds' emoji is mis-decoded


def headings(card: str) -> list[str]:
    """Lines starting with '#' outside fenced code (commented placeholder headings included)."""
    found, in_code = [], False
    for line in card.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            found.append(line)
    return found


def front_matter(card: str) -> dict:
    return yaml.safe_load(card.split("---\n")[1])


def table_headers(card: str) -> list[str]:
    lines = card.splitlines()
    return [
        re.sub(r"\s+", " ", lines[i].strip())
        for i in range(len(lines) - 1)
        if lines[i].lstrip().startswith("|") and lines[i + 1].lstrip().startswith("|:")
    ]


def section(card: str, start: str, end: str) -> str:
    return card.split(start, 1)[1].split(end, 1)[0]


def hyperparameters(card: str, heading: str) -> dict[str, str]:
    values = {}
    for line in section(card, heading + "\n", "\n#").splitlines():
        if match := re.match(r"- `([^`]+)`: ?(.*)$", line):
            values[match[1]] = match[2]
    return values


def versions(card: str) -> dict[str, str]:
    lines = section(card, "### Framework Versions\n", "\n\n").splitlines()
    return dict(line[2:].split(": ", 1) for line in lines)


def printout(card: str) -> str:
    """The similarity matrix the seed's snippet prints, without the comment marks."""
    return re.sub(r"^# ", "", section(card, "print(similarities)\n", "\n```"), flags=re.M)


def seed_record(card: str, **fields) -> RunInfo:
    """The parts every seed-shaped record takes verbatim from its seed."""
    widget = front_matter(card).get("widget", [])
    return RunInfo(
        architecture=section(card, "### Full Model Architecture\n\n```\n", "\n```"),
        all_hyperparameters=hyperparameters(card, "#### All Hyperparameters"),
        non_default_hyperparameters=hyperparameters(card, "#### Non-Default Hyperparameters"),
        framework_versions=versions(card),
        widget=widget,
        usage_sentences=ast.literal_eval("[" + section(card, "sentences = [\n", "]") + "]"),
        **fields,
    )


def seed004_record() -> RunInfo:
    """Seed 004: mpnet, 30,113 pairs, CosineSimilarityLoss, evaluator `valid` every 1000 steps."""
    card = seed("004")
    logs = []
    for line in section(card, "### Training Logs\n", "\n\n").splitlines()[2:]:
        _, step, loss, metric = (cell.strip() for cell in line.strip("|").split("|"))
        logs.append(
            LogRow(
                epoch=int(step) / 1883,  # the raw epoch, printed with 4 decimals
                step=int(step),
                training_loss=None if loss == "-" else float(loss + "1"),  # raw values carry more digits
                metrics={} if metric == "-" else {"valid_spearman_cosine": float(metric + "1")},
            )
        )
    samples = [
        ("Skills: budget, business strategy, consultation, Customer Relationship Management, delivery, direct mail, "
         "directing, Driving, email, senior management, Forecasting, graphic design, graphic, image, inside sales, "
         "inventory, Marketing Strategy, marketing, market, Marketing & Sales, mentor, New Business Development, "
         "Optimization, policies, presentations, Sales, strategy",
         "Related skills: ['sales', 'marketing', 'consultation', 'inventory'], ['marketing', 'strategy', 'sales', "
         "'presentation'], ['sales', 'graphic design', 'management']", 0.0),
        ("Positions: Customer Service Representative, Academic Resource Advisor",
         "Job title: Project Coordinator (Civil)", 0.0769),
        ("Degrees: Masters of Business Administration, Bachelor of Science",
         "Education requirement: Bachelor of Science (BSc) in Computer Science & Engineering", 0.0),
    ]
    train = DatasetInfo(
        name=None,
        size=30113,
        columns=["sentence_0", "sentence_1", "label"],
        samples=[dict(zip(["sentence_0", "sentence_1", "label"], row)) for row in samples],
        statistics={
            "sentence_0": ColumnStatistics("string", {"min": "4 tokens", "mean": "31.46 tokens", "max": "384 tokens"}),
            "sentence_1": ColumnStatistics("string", {"min": "5 tokens", "mean": "21.98 tokens", "max": "224 tokens"}),
            "label": ColumnStatistics("float", {"min": "0.0", "mean": "0.34", "max": "1.0"}),
        },
        stats_rows=1000,
        loss=LossInfo("CosineSimilarityLoss", COSINE_LOSS, {"loss_fct": "torch.nn.modules.loss.MSELoss"}),
    )
    valid = EvaluatorResult(
        "EmbeddingSimilarityEvaluator",
        "valid",
        "Semantic Similarity",
        {"valid_pearson_cosine": 0.8311029454627306, "valid_spearman_cosine": 0.804897332680244},
        primary_metric="valid_spearman_cosine",
    )
    return seed_record(
        card, max_seq_length=384, output_dimension=768, has_normalize=True, base_model=MPNET,
        base_model_revision="12e86a3c702fc3c50205a8db88f0ec7c0b6b94a0", train_datasets=[train],
        evaluator_results=[valid], training_logs=logs,
    )


def seed000_record(pearson: float, spearman: float) -> RunInfo:
    """Seed 000: mpnet, 71 Q&A pairs, MNRL, evaluator `mining-laws-eval` every 2 steps."""
    card = seed("000")
    train = DatasetInfo(
        name=None,
        size=71,
        columns=["sentence_0", "sentence_1"],
        samples=[
            {"sentence_0": "What are the health and safety provisions for mine workers?",
             "sentence_1": "Provisions include adequate ventilation, lighting, sanitation facilities, medical "
                           "facilities, protective equipment, and regular health examinations."},
            {"sentence_0": "What are the provisions for rest shelters?",
             "sentence_1": "Adequate rest shelters with seating and drinking water must be provided near working areas."},
            {"sentence_0": "What are the reporting requirements for mine accidents?",
             "sentence_1": "All serious accidents, deaths, and dangerous occurrences must be immediately reported "
                           "to the inspector and investigated."},
        ],
        statistics={
            "sentence_0": ColumnStatistics("string", {"min": "7 tokens", "mean": "10.85 tokens", "max": "16 tokens"}),
            "sentence_1": ColumnStatistics("string", {"min": "17 tokens", "mean": "22.31 tokens", "max": "31 tokens"}),
        },
        stats_rows=71,
        loss=LossInfo(
            "MultipleNegativesRankingLoss", MNRL,
            {"scale": 20.0, "similarity_fct": "cos_sim", "gather_across_devices": False},
            citation=section(card, "#### MultipleNegativesRankingLoss\n```bibtex\n", "\n```"),
        ),
    )
    name = "mining-laws-eval"
    evaluator = EvaluatorResult(
        "EmbeddingSimilarityEvaluator", name, "Semantic Similarity",
        {f"{name}_pearson_cosine": pearson, f"{name}_spearman_cosine": spearman},
        primary_metric=f"{name}_spearman_cosine",
    )
    return seed_record(
        card, max_seq_length=384, output_dimension=768, has_normalize=True, base_model=MPNET,
        base_model_revision="e8c3b32edf5434bc2275fc9bab85f82640a19130", train_datasets=[train],
        evaluator_results=[evaluator], training_logs=[LogRow(0.4, 2, metrics={f"{name}_spearman_cosine": spearman})],
        usage_similarities=printout(card),
    )


def test_seed004_shape_matches_the_seed_line_for_line():
    expected = seed("004")
    # Differences by design: sentence-transformers >= 5 tags "dense" and moved to the huggingface org.
    expected = expected.replace("- feature-extraction\n", "- feature-extraction\n- dense\n")
    expected = expected.replace("UKPLab/sentence-transformers", "huggingface/sentence-transformers")
    assert render_model_card(seed004_record()).splitlines() == expected.splitlines()


def test_seed004_shape_headings_yaml_keys_and_tables():
    card, reference = render_model_card(seed004_record()), seed("004")
    assert headings(card) == headings(reference)
    assert list(front_matter(card)) == list(front_matter(reference))
    assert front_matter(card)["model-index"] == front_matter(reference)["model-index"]
    assert table_headers(card) == table_headers(reference)


def test_seed000_shape_with_finite_metrics_and_added_sections():
    info = seed000_record(0.41, 0.37)
    info.baseline_metrics = {"mining-laws-eval_pearson_cosine": 0.2, "mining-laws-eval_spearman_cosine": 0.25}
    info.data_doctor_findings = "* `sentence_0`: 3 duplicate rows."
    info.training_curve = "training_curve.png"
    card, reference = render_model_card(info), seed("000")
    assert [h for h in headings(card) if h not in ADDED_HEADINGS] == headings(reference)
    assert ADDED_HEADINGS <= set(headings(card))
    assert list(front_matter(card)) == list(front_matter(reference))
    baseline_header = "| Metric | Baseline | Fine-tuned | Difference |"
    assert [h for h in table_headers(card) if h != baseline_header] == table_headers(reference)
    assert "| mining-laws-eval_spearman_cosine | 0.25     | 0.37       | +0.1200    |" in card
    assert "\n\n![Training curve](training_curve.png)\n\nFiles of this run beside the model:" in card
    assert "writes the card again from it).\n\n### Framework Versions" in card


def test_seed000_nan_metrics_are_explained_and_kept_out_of_model_index():
    nan = float("nan")
    info = seed000_record(nan, nan)
    info.nan_reasons = {"spearman_cosine": "all gold scores are equal; add pairs with other scores"}
    card = render_model_card(info)
    expected = seed("000")
    model_index = expected[expected.index("model-index:\n") : expected.index("---\n\n# ")]
    expected = expected.replace(model_index, "")
    expected = expected.replace(
        "| pearson_cosine      | nan     |\n| **spearman_cosine** | **nan** |\n",
        "| pearson_cosine      | n/a     |\n| **spearman_cosine** | **n/a** |\n\n"
        "* `pearson_cosine` is n/a: the evaluator returned NaN, so this metric is undefined on this evaluation "
        "data (a correlation is undefined when all gold scores are equal). Use evaluation data whose labels vary, "
        "and evaluate again.\n"
        "* `spearman_cosine` is n/a: all gold scores are equal; add pairs with other scores.\n",
    )
    expected = expected.replace(
        "| 0.4   | 2    | nan                              |\n",
        "| 0.4   | 2    | n/a                              |\n\n"
        "* `mining-laws-eval_spearman_cosine` is n/a at step 2: all gold scores are equal; add pairs with other scores.",
    )
    assert card.splitlines() == expected.splitlines()
    assert not re.search(r"\bnan\b", card)  # no number printed as Python or YAML NaN
    assert headings(card) == headings(seed("000"))


def test_seed001_shape_custom_loss_no_evaluator_int_labels():
    reference = seed("001")
    inner = LossInfo("MSELoss", "sentence_transformers.losses.MSELoss.MSELoss")
    train = DatasetInfo(
        None, 4, ["paragraphs1", "paragraphs2", "label"], samples=[],
        statistics={"label": ColumnStatistics("int", {"0": "~50.00%", "1": "~50.00%"})}, stats_rows=4,
        loss=LossInfo("SEF1MSE", "__main__.SEF1MSE", None, wrapped=[inner]),
    )
    info = seed_record(
        reference, max_seq_length=384, output_dimension=768, train_datasets=[train],
        training_logs=[LogRow(1.0, 1, training_loss=0.0602)],
        usage_similarities=printout(reference),
    )
    card = render_model_card(info)
    assert headings(card) == headings(reference)
    assert front_matter(card) == front_matter(reference)
    assert "\n* Loss: <code>__main__.SEF1MSE</code>\n\n### Training Hyperparameters" in card
    for expected_part in [
        "# SentenceTransformer\n\nThis is a [sentence-transformers](https://www.SBERT.net) model trained. It maps",
        "<!-- - **Base model:** [Unknown](https://huggingface.co/unknown) -->\n",
        section(reference, "### Training Hyperparameters", "### Training Logs"),
        section(reference, "```python\n", "```"),
        section(reference, "### Training Logs\n", "### Framework"),
    ]:
        assert expected_part in card


def test_seed003_shape_three_unnamed_evaluators():
    reference = seed("003")
    values = [(-0.5723669257503199, -0.5645549970796401), (-0.3582399012823856, -0.36837783689222675),
              (-0.2833046437450565, -0.29191121968424577)]
    results = [
        EvaluatorResult("EmbeddingSimilarityEvaluator", "", "Semantic Similarity",
                        {"pearson_cosine": p, "spearman_cosine": s}, primary_metric="spearman_cosine")
        for p, s in values
    ]
    info = RunInfo(base_model="sentence-transformers/all-MiniLM-L6-v2", evaluator_results=results)
    card = render_model_card(info)
    assert front_matter(card)["model-index"] == front_matter(reference)["model-index"]
    evaluation = "## Evaluation\n" + section(reference, "## Evaluation\n", "<!--")
    assert evaluation in card
    assert headings(card)[:12] == headings(reference)[:12]
