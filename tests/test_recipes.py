"""Recipes: YAML schema and checks, recovery from the seed model cards, the example recipes.

Expected values are read from the cards with small regexes written here, independently of the
parser under test, so a parser mistake cannot agree with itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
import yaml

from sentforge.errors import SentforgeError
from sentforge.recipes import (
    DataSpec,
    EvaluatorSpec,
    LossSpec,
    Recipe,
    load_recipe,
    recipe_from_card,
    save_recipe,
    split_source,
    write_recipe_from_card,
)
from sentforge.recipes.build import build_loss
from sentforge.recipes.card_text import parse_card_value
from sentforge.recipes.sources import load_source

REPO = Path(__file__).resolve().parents[1]
SEEDS = sorted((REPO.parent / "shared" / "seeds").glob("*.txt"))
SHARED_DATA = REPO.parent / "shared" / "data"
EXAMPLES = sorted((REPO / "examples").glob("seed*.yaml"))
needs_seeds = pytest.mark.skipif(len(SEEDS) != 5, reason="the five seed cards (../shared/seeds) are not here")
needs_data = pytest.mark.skipif(not (SHARED_DATA / "nli").is_dir(), reason="../shared/data is not here")


# --- what a card says, read with plain regexes -------------------------------------------------


def card_base_model(text: str) -> str | None:
    front = text.split("\n---\n", 1)[0]
    match = re.search(r"^base_model:\s*(\S+)\s*$", front, flags=re.M)
    return match[1] if match else None


def card_loss(text: str) -> tuple[str, dict]:
    name = re.search(r"^\* Loss: \[?<code>([^<]+)</code>", text, flags=re.M)[1]
    block = re.search(r"^\* Loss:[^\n]*\n\s*```json\n(.*?)\n\s*```", text, flags=re.M | re.S)
    return name, json.loads(block[1]) if block else {}


def card_hyperparameters(text: str) -> dict:
    block = text.split("#### Non-Default Hyperparameters", 1)[1].split("####", 1)[0]
    found = {}
    for key, raw in re.findall(r"^- `(\w+)`: ?(.*)$", block, flags=re.M):
        found[key] = None if raw.strip() == "None" else yaml.safe_load(raw)
    return found


def card_max_seq_length(text: str) -> int:
    return int(re.search(r"\*\*Maximum Sequence Length:\*\* (\d+) tokens", text)[1])


def card_has_normalize(text: str) -> bool:
    return re.search(r"^\s*\(\d+\): Normalize\(\)", text, flags=re.M) is not None


def card_evaluator(text: str) -> tuple[str, str] | None:
    kind = re.search(r"Evaluated with \[<code>(\w+)</code>\]", text)
    name = re.search(r"^\* Dataset: `([^`]+)`", text, flags=re.M)
    return (kind[1], name[1] if name else "") if kind else None


def card_step_evaluations(text: str) -> list[int]:
    """Steps of logged evaluations that are not at an epoch end."""
    logs = text.split("### Training Logs", 1)[1].split("###", 1)[0]
    header = [c.strip() for c in logs.strip().splitlines()[0].strip("|").split("|")]
    metric_columns = [i for i, c in enumerate(header) if c not in ("Epoch", "Step", "Training Loss")]
    steps = []
    for line in logs.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == len(header) and not float(cells[0]).is_integer():
            if any(cells[i] not in ("-", "") for i in metric_columns):
                steps.append(int(cells[1]))
    return steps


def seed_card(number: str) -> Path:
    return next(path for path in SEEDS if path.name.startswith(number + "_"))


# --- recipe_from_card on the five seeds --------------------------------------------------------


@needs_seeds
@pytest.mark.parametrize("card", SEEDS, ids=lambda p: p.name[:3])
def test_from_card_matches_what_the_card_says(card: Path) -> None:
    text = card.read_text(encoding="utf-8")
    recipe = recipe_from_card(card)
    assert recipe.base_model == card_base_model(text)
    assert recipe.max_seq_length == card_max_seq_length(text)
    assert recipe.normalize == card_has_normalize(text)
    name, params = card_loss(text)
    assert (recipe.loss.name, recipe.loss.params) == (name, params)
    expected_args = card_hyperparameters(text)
    assert {key: recipe.args[key] for key in expected_args} == expected_args
    assert all(type(recipe.args[key]) is type(value) for key, value in expected_args.items())
    extra = set(recipe.args) - set(expected_args)
    assert extra <= {"eval_steps"}
    if expected_args.get("eval_strategy") == "steps":
        assert recipe.args["eval_steps"] == min(card_step_evaluations(text))
    evaluator = card_evaluator(text)
    if evaluator is None:
        assert recipe.evaluator is None
    else:
        assert (recipe.evaluator.type, recipe.evaluator.name) == evaluator


@needs_seeds
def test_from_card_flags_what_needs_a_human() -> None:
    custom = recipe_from_card(seed_card("001"))
    assert custom.loss.is_custom and custom.base_model is None
    assert set(custom.missing()) == {"base_model", "data.train"}
    assert any("__main__.SEF1MSE" in note and "custom" in note for note in custom.notes)
    assert any("all-mpnet-base-v2" in note for note in custom.notes)  # the architecture hint
    assert any("MSELoss" in note for note in custom.notes)  # named in the tags only
    assert any("NaN" in note for note in recipe_from_card(seed_card("000")).notes)
    inverted = recipe_from_card(seed_card("003")).notes
    assert any("inverted" in note for note in inverted) and any("several runs" in note for note in inverted)
    assert any("no evaluation" in note for note in recipe_from_card(seed_card("002")).notes)
    assert any("epoch 4 of 5" in note for note in recipe_from_card(seed_card("004")).notes)


@needs_seeds
def test_from_card_accepts_text_a_folder_and_version_drift(tmp_path: Path) -> None:
    text = seed_card("004").read_text(encoding="utf-8")
    drifted = text.replace("- `eval_strategy`: steps\n", "- `evaluation_strategy`: steps\n- `use_ipex`: False\n", 1)
    hub_link = "* Dataset: [stsb](https://huggingface.co/datasets/sentence-transformers/stsb)"
    drifted = drifted.replace("#### Unnamed Dataset", f"#### stsb\n\n{hub_link}", 1)
    recipe = recipe_from_card(drifted)
    assert recipe.args["eval_strategy"] == "steps" and "use_ipex" not in recipe.args
    assert any("use_ipex" in note for note in recipe.notes)
    assert recipe.data.train == "sentence-transformers/stsb"
    (tmp_path / "README.md").write_text(text, encoding="utf-8")
    from_folder, from_file = recipe_from_card(tmp_path), recipe_from_card(seed_card("004"))
    assert (from_folder.loss, from_folder.args) == (from_file.loss, from_file.args)
    with pytest.raises(SentforgeError, match="not found"):
        recipe_from_card(tmp_path / "missing.md")
    with pytest.raises(SentforgeError, match="does not look like a sentence-transformers model card"):
        recipe_from_card("# My notes\n\nNothing about training here.\n")


@pytest.fixture(scope="module")
def reference_card(tmp_path_factory, tiny_bert_dir: str) -> tuple[Path, object]:
    """A model card written by sentence-transformers itself after a 4-step run, and the loss it used."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.evaluation import EmbeddingSimilarityEvaluator
    from sentence_transformers.sentence_transformer.losses import CoSENTLoss
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from sentence_transformers.sentence_transformer.trainer import SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer.training_args import SentenceTransformerTrainingArguments

    folder = tmp_path_factory.mktemp("reference_card")
    modules = [Transformer(tiny_bert_dir, max_seq_length=32), Pooling(32, "mean"), Normalize()]
    model = SentenceTransformer(modules=modules, device="cpu")
    rows = {"s1": ["the cat sat", "a dog ran"] * 4, "s2": ["the dog sat", "a cat ran"] * 4, "score": [0.9, 0.1] * 4}
    evaluator = EmbeddingSimilarityEvaluator(
        ["the cat", "a dog", "gold"], ["the dog", "a car", "fish"], [0.9, 0.5, 0.1], name="dev"
    )
    args = SentenceTransformerTrainingArguments(
        output_dir=str(folder / "checkpoints"), num_train_epochs=1, per_device_train_batch_size=2,
        learning_rate=3e-5, lr_scheduler_type="cosine", seed=7, eval_strategy="steps", eval_steps=3,
        report_to="none", use_cpu=True, save_strategy="no", disable_tqdm=True,
    )
    loss = CoSENTLoss(model, scale=15.0)
    SentenceTransformerTrainer(
        model=model, args=args, train_dataset=Dataset.from_dict(rows), loss=loss, evaluator=evaluator
    ).train()
    model.save(str(folder / "model"))
    return folder / "model", loss


def test_from_card_reads_a_card_written_by_sentence_transformers(reference_card) -> None:
    folder, loss = reference_card
    recipe = recipe_from_card(folder)
    assert (recipe.loss.name, recipe.loss.params) == (type(loss).__name__, loss.get_config_dict())
    passed = {"num_train_epochs": 1, "per_device_train_batch_size": 2, "learning_rate": 3e-5,
              "lr_scheduler_type": "cosine", "seed": 7, "eval_strategy": "steps", "eval_steps": 3}
    assert {key: recipe.args.get(key) for key in passed} == passed
    assert (recipe.evaluator.type, recipe.evaluator.name) == ("EmbeddingSimilarityEvaluator", "dev")
    assert (recipe.max_seq_length, recipe.normalize, recipe.data.columns) == (32, True, ["s1", "s2", "score"])
    assert Recipe.from_dict(recipe.to_dict(), complete=False) == recipe


def test_loss_parameters_are_read_with_or_without_indentation() -> None:
    card = (
        "### Full Model Architecture\n\n```\nSentenceTransformer(\n  (1): Normalize()\n)\n```\n"
        "### Training Dataset\n\n#### pairs\n\n* Loss: [<code>CoSENTLoss</code>](x) with these parameters:\n"
        '```json\n{\n    "scale": 15.0\n}\n```\n\n### Training Hyperparameters\n'
    )
    recipe = recipe_from_card(card)
    assert (recipe.loss.name, recipe.loss.params, recipe.normalize) == ("CoSENTLoss", {"scale": 15.0}, True)
    indented = card.replace("```json\n{\n    \"scale\": 15.0\n}\n```", '  ```json\n  {"scale": 15.0}\n  ```')
    assert recipe_from_card(indented).loss.params == {"scale": 15.0}


def test_card_values_come_back_as_python_values() -> None:
    cases = {
        "True": True, "False": False, "None": None, "5e-05": 5e-05, "16": 16, "2.0": 2.0, "[]": [],
        "{'min_num_params': 0, 'xla': False}": {"min_num_params": 0, "xla": False}, "steps": "steps",
        "": "", "BatchSamplers.NO_DUPLICATES": "no_duplicates", "adamw_torch_fused": "adamw_torch_fused",
    }
    for text, expected in cases.items():
        value = parse_card_value(text)
        assert value == expected and type(value) is type(expected), text


# --- YAML round trip and validation ------------------------------------------------------------


def make_recipe() -> Recipe:
    return Recipe(
        base_model="sentence-transformers/all-MiniLM-L6-v2",
        max_seq_length=128,
        normalize=True,
        data=DataSpec(train="train.csv", eval="stsb:validation", columns=["a", "b", "score"]),
        loss=LossSpec(name="CoSENTLoss", params={"scale": 20.0, "similarity_fct": "pairwise_cos_sim"}),
        evaluator=EvaluatorSpec(type="EmbeddingSimilarityEvaluator", name="dev"),
        args={"learning_rate": 2e-05, "num_train_epochs": 2, "eval_strategy": "no", "fp16": False},
        output="output/x",
        notes=["kept: yes"],
    )


def test_yaml_round_trip(tmp_path: Path) -> None:
    recipe = make_recipe()
    path = save_recipe(recipe, tmp_path / "sub" / "r.yaml", header="a comment")
    text = path.read_text()
    assert text.startswith("# a comment\n") and "eval_strategy: 'no'" in text
    assert load_recipe(path) == recipe


@needs_seeds
def test_card_recipe_round_trip_keeps_holes(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    written = write_recipe_from_card(seed_card("001"), path)
    assert load_recipe(path, complete=False) == written
    with pytest.raises(SentforgeError, match=r"`base_model`.*`data.train`"):
        load_recipe(path)


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(body)
    return path


VALID = "base_model: m\ndata: {train: t.csv}\nloss: CosineSimilarityLoss\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (VALID + "epochs: 3\n", r"unknown key `epochs`.*Allowed keys"),
        (VALID.replace("base_model", "base_modle"), r"`base_modle`.*Did you mean `base_model`"),
        ("data: {train: t.csv}\nloss: CosineSimilarityLoss\n", r"missing required `base_model`"),
        (VALID + "max_seq_length: long\n", r"`max_seq_length` must be a whole number"),
        (VALID + "normalize: 1\n", r"`normalize` must be true or false"),
        (VALID + "args: {num_epochs: 3}\n", r"`args.num_epochs`.*Did you mean `num_train_epochs`"),
        (VALID + "args: {fp16: 'yes'}\n", r"`args.fp16` must be bool"),
        (VALID + "args: {eval_strategy: no}\n", r"`args.eval_strategy`.*in quotes"),
        (VALID + "args: {per_device_train_batch_size: 2.5}\n", r"`args.per_device_train_batch_size` must be"),
        (VALID + "args: {output_dir: x}\n", r"top-level `output:`"),
        (VALID + "args: {evaluation_strategy: steps}\n", r"now called `eval_strategy`"),
        (VALID.replace("CosineSimilarityLoss", "CosineSimilarityLos"), r"Did you mean `CosineSimilarityLoss`"),
        (VALID.replace("CosineSimilarityLoss", "'my loss'"), r"not a class name"),
        (VALID + "loss: {name: CoSENTLoss, params: [1]}\n", r"`loss.params` must be a mapping"),
        (VALID + "evaluator: {type: SimilarityEvaluator}\n", r"not a sentforge evaluator"),
        (VALID + "evaluator: {name: dev}\n", r"`evaluator.type` is missing"),
        (VALID.replace("{train: t.csv}", "{train: t.csv, columns: a}"), r"`data.columns` must be a list"),
        (VALID.replace("{train: t.csv}", "{train: t.csv, colums: [a]}"), r"`data.colums`.*Did you mean `columns`"),
        ("- base_model: m\n", r"must be a mapping"),
        ("base_model: [m\n", r"not valid YAML"),
    ],
)
def test_validation_errors_name_the_key_and_the_fix(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(SentforgeError, match=message):
        load_recipe(write(tmp_path, body))


def test_numbers_written_as_yaml_text_are_accepted(tmp_path: Path) -> None:
    # YAML 1.1 reads 5e-05 (no dot) as a string; a recipe should not fail on that.
    recipe = load_recipe(write(tmp_path, VALID + "args: {learning_rate: 5e-05, eval_steps: 100}\n"))
    assert recipe.args == {"learning_rate": 5e-05, "eval_steps": 100}
    with pytest.raises(SentforgeError, match="not found"):
        load_recipe(tmp_path / "nope.yaml")


def test_split_source() -> None:
    assert split_source("stsb:train") == ("stsb", "train")
    assert split_source("sentence-transformers/stsb:validation") == ("sentence-transformers/stsb", "validation")
    assert split_source("data/pairs.csv") == ("data/pairs.csv", None)
    assert split_source("C:\\data\\pairs.csv") == ("C:\\data\\pairs.csv", None)


# --- the example recipes -----------------------------------------------------------------------


def test_there_is_one_example_per_seed() -> None:
    assert [path.name[:7] for path in EXAMPLES] == [f"seed00{i}" for i in range(5)]


@needs_seeds
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_agrees_with_its_card(example: Path) -> None:
    recipe = load_recipe(example)
    from_card = recipe_from_card(seed_card(example.name[4:7]))
    if from_card.base_model is None:  # seed 001 names none; the example uses the architecture's match
        assert any(recipe.base_model in note for note in from_card.notes)
    else:
        assert recipe.base_model == from_card.base_model
    assert (recipe.max_seq_length, recipe.normalize) == (from_card.max_seq_length, from_card.normalize)
    assert recipe.loss == from_card.loss
    assert recipe.args == from_card.args
    assert (recipe.evaluator is None) == (from_card.evaluator is None)
    if recipe.evaluator:
        assert recipe.evaluator.type == from_card.evaluator.type
    assert recipe.data.train and recipe.output


@needs_data
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_data_loads_with_the_named_columns(example: Path, monkeypatch) -> None:
    monkeypatch.chdir(REPO)  # relative paths and ../shared/data are found from the repository root
    recipe = load_recipe(example)
    train = load_source(recipe.data.train, recipe.data.columns)
    assert train.column_names == recipe.data.columns and len(train) > 0
    if recipe.data.eval:
        columns = recipe.data.eval_columns or recipe.data.columns
        assert load_source(recipe.data.eval, columns, what="data.eval").column_names == columns


@needs_data
def test_nli_pair_class_holds_the_triplets_as_class_labelled_pairs() -> None:
    triplets = [json.loads(line) for line in (SHARED_DATA / "nli" / "triplets.jsonl").open(encoding="utf-8")]
    pairs = load_source("nli:pair-class")
    assert len(pairs) == 2 * len(triplets)
    first, last = pairs[0], pairs[len(pairs) - 1]
    assert list(first.values()) == [triplets[0]["anchor"], triplets[0]["positive"], 0]
    assert list(last.values()) == [triplets[-1]["anchor"], triplets[-1]["negative"], 2]
    with pytest.raises(SentforgeError, match="has no column 'score'.*premise, hypothesis, label"):
        load_source("nli:pair-class", ["premise", "score"])


# --- building the loss a recipe names ----------------------------------------------------------


class ToyLoss(torch.nn.Module):
    def __init__(self, model, weight: float = 1.0) -> None:
        super().__init__()
        self.model, self.weight = model, weight


@needs_seeds
@pytest.mark.parametrize("number", ["000", "002", "003", "004"])
def test_built_loss_has_the_cards_parameters(number: str) -> None:
    name, params = card_loss(seed_card(number).read_text(encoding="utf-8"))
    loss = build_loss(recipe_from_card(seed_card(number)).loss, torch.nn.Linear(2, 2))
    assert type(loss).__name__ == name
    assert loss.get_config_dict() == params


def test_build_loss_errors_and_custom_classes() -> None:
    model = torch.nn.Linear(2, 2)
    with pytest.raises(SentforgeError, match="cannot be imported.*my_losses.SEF1MSE"):
        build_loss(LossSpec(name="__main__.SEF1MSE"), model)
    custom = build_loss(LossSpec(name=f"{__name__}.ToyLoss", params={"weight": 0.5}), model)
    assert isinstance(custom, ToyLoss) and custom.weight == 0.5
    with pytest.raises(SentforgeError, match="no parameter `wieght`.*Did you mean `weight`"):
        build_loss(LossSpec(name=f"{__name__}.ToyLoss", params={"wieght": 0.5}), model)
    with pytest.raises(SentforgeError, match="not a torch.nn module"):
        build_loss(LossSpec(name="CosineSimilarityLoss", params={"loss_fct": "os.system"}), model)
    with pytest.raises(SentforgeError, match="Unknown similarity function"):
        build_loss(LossSpec(name="MultipleNegativesRankingLoss", params={"similarity_fct": "cosine"}), model)
