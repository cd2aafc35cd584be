"""What the model card and drop-in users see of the losses: config dicts, citations, display
names, constructor signatures and import paths; checked against the seeds' model cards and
sentence-transformers."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from sentence_transformers.sentence_transformer import losses as st_losses
from test_losses_fakes import mean_model
from torch import nn

import sentforge.losses
from sentforge import losses

pytestmark = pytest.mark.filterwarnings("ignore:The (Cached)?MultipleNegativesSymmetricRankingLoss is deprecated")

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"

BUILDERS = {
    "MultipleNegativesRankingLoss": lambda m, L: L.MultipleNegativesRankingLoss(m),
    "CachedMultipleNegativesRankingLoss": lambda m, L: L.CachedMultipleNegativesRankingLoss(m),
    "MultipleNegativesSymmetricRankingLoss": lambda m, L: L.MultipleNegativesSymmetricRankingLoss(m),
    "CachedMultipleNegativesSymmetricRankingLoss": lambda m, L: L.CachedMultipleNegativesSymmetricRankingLoss(m, 10.0),
    "CosineSimilarityLoss": lambda m, L: L.CosineSimilarityLoss(m),
    "MSELoss": lambda m, L: L.MSELoss(m),
    "CoSENTLoss": lambda m, L: L.CoSENTLoss(m),
    "AnglELoss": lambda m, L: L.AnglELoss(m),
    "ContrastiveLoss": lambda m, L: L.ContrastiveLoss(m, L.SiameseDistanceMetric.MANHATTAN, 0.7, False),
    "OnlineContrastiveLoss": lambda m, L: L.OnlineContrastiveLoss(m),
    "TripletLoss": lambda m, L: L.TripletLoss(m, L.TripletDistanceMetric.COSINE, 0.3),
    "MarginMSELoss": lambda m, L: L.MarginMSELoss(m),
    "SoftmaxLoss": lambda m, L: L.SoftmaxLoss(m, 8, 3),
    "BatchHardTripletLoss": lambda m, L: L.BatchHardTripletLoss(m),
    "BatchAllTripletLoss": lambda m, L: L.BatchAllTripletLoss(
        m, L.BatchHardTripletLossDistanceFunction.cosine_distance
    ),
    "MatryoshkaLoss": lambda m, L: L.MatryoshkaLoss(m, L.CoSENTLoss(m), [8, 4], [2, 1], 1),
}


def seed_loss_json(seed_prefix: str, loss_name: str) -> dict:
    """The parameters block a seed model card prints under '* Loss: ...loss_name...'."""
    paths = sorted(SEEDS.glob(f"{seed_prefix}_*.txt"))
    if not paths:
        pytest.skip("seed model cards not available")
    text = paths[0].read_text(encoding="utf-8")
    start = text.index(f"* Loss: [<code>{loss_name}</code>]")
    block = text[text.index("```json", start) + len("```json") : text.index("```", text.index("```json", start) + 7)]
    return json.loads(textwrap.dedent(block))


def test_config_dicts_print_like_the_seed_model_cards():
    model = mean_model()
    mnrl = losses.MultipleNegativesRankingLoss(model).get_config_dict()
    assert json.dumps(mnrl, indent=4) == json.dumps(seed_loss_json("000", "MultipleNegativesRankingLoss"), indent=4)
    cosine = losses.CosineSimilarityLoss(model).get_config_dict()
    assert json.dumps(cosine, indent=4) == json.dumps(seed_loss_json("004", "CosineSimilarityLoss"), indent=4)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_config_dict_agrees_with_sentence_transformers(name):
    model = mean_model()
    ours = BUILDERS[name](model, losses).get_config_dict()
    theirs = BUILDERS[name](model, st_losses).get_config_dict()
    # Newer sentence-transformers keys are shown only when set away from their defaults; every
    # key we print must print the same value.
    assert ours and set(ours) <= set(theirs) or name == "MSELoss"
    for key, value in ours.items():
        assert json.dumps(value) == json.dumps(theirs[key]), key


def test_non_default_ranking_options_are_printed():
    config = losses.MultipleNegativesRankingLoss(
        mean_model(), directions=("query_to_doc", "doc_to_query"), hardness_mode="all_negatives", hardness_strength=3.0
    ).get_config_dict()
    assert config["directions"] == ("query_to_doc", "doc_to_query")
    assert config["hardness_mode"] == "all_negatives" and config["hardness_strength"] == 3.0
    assert losses.MSELoss(mean_model(), projection_dim=4).get_config_dict() == {"projection_dim": 4}


@pytest.mark.parametrize("name", sorted(set(BUILDERS) - {"MultipleNegativesRankingLoss"}))
def test_citation_agrees_with_sentence_transformers(name):
    model = mean_model()
    ours = BUILDERS[name](model, losses).citation
    theirs = getattr(BUILDERS[name](model, st_losses), "citation", None)  # None where it has none
    assert ours == theirs


def test_mnrl_citation_is_the_one_on_the_seed_model_cards():
    paths = sorted(SEEDS.glob("000_*.txt"))
    if not paths:
        pytest.skip("seed model cards not available")
    text = paths[0].read_text(encoding="utf-8")
    start = text.index("```bibtex", text.index("#### MultipleNegativesRankingLoss")) + len("```bibtex")
    expected = text[start : text.index("```", start)].strip()
    assert losses.MultipleNegativesRankingLoss(mean_model()).citation.strip() == expected


METRIC_OWNERS = (
    losses.SiameseDistanceMetric,
    losses.TripletDistanceMetric,
    st_losses.SiameseDistanceMetric,
    st_losses.TripletDistanceMetric,
)


def _default_label(default) -> str:
    """Comparable text for a default: metric functions by their Owner.NAME, other callables by name."""
    if callable(default) and not isinstance(default, (type, nn.Module)):
        for owner in METRIC_OWNERS:
            for name in set(dir(owner)) | set(vars(owner)):  # Enum's dir() hides function attributes
                if not name.startswith("_") and getattr(owner, name) is default:
                    return f"{owner.__name__}.{name}"
        return getattr(default, "__name__", type(default).__name__)
    return repr(default)


def _signature(cls) -> list[tuple[str, str]]:
    """Positional parameter names with comparable defaults."""
    return [
        (p.name, _default_label(p.default))
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self" and p.kind is not p.KEYWORD_ONLY
    ]


@pytest.mark.parametrize("name", sorted(BUILDERS) + ["GISTEmbedLoss"])
def test_constructor_arguments_and_defaults_match_sentence_transformers(name):
    ours, theirs = _signature(getattr(losses, name)), _signature(getattr(st_losses, name))
    names_ours = [n for n, _ in ours]
    assert names_ours == [n for n, _ in theirs]
    if name != "SoftmaxLoss":  # required there, optional here so the old keyword still works
        assert ours == theirs


def _custom_class(name: str, base: type, module: str = "__main__") -> type:
    return type(name, (base,), {"__module__": module})


def test_display_name_of_library_and_custom_losses():
    model = mean_model()
    assert losses.loss_display_name(losses.MSELoss(model)) == "MSELoss"
    custom = _custom_class("SEF1MSE", losses.MSELoss)(model)
    assert losses.loss_display_name(custom) == "SEF1MSE (custom, based on MSELoss)"
    their_subclass = _custom_class("MyMNRL", st_losses.MultipleNegativesRankingLoss, "train_script")(model)
    assert losses.loss_display_name(their_subclass) == "MyMNRL (custom, based on MultipleNegativesRankingLoss)"

    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.loss = losses.MSELoss(model)

    Wrapper.__module__ = "__main__"
    assert losses.loss_display_name(Wrapper()) == "Wrapper (custom, wraps MSELoss)"
    plain = _custom_class("PlainLoss", nn.Module)()
    assert losses.loss_display_name(plain) == "PlainLoss"


def test_contrastive_import_paths():
    from sentforge.losses.ContrastiveLoss import ContrastiveLoss, SiameseDistanceMetric
    from sentforge.losses.TripletLoss import TripletDistanceMetric

    assert SiameseDistanceMetric is losses.SiameseDistanceMetric
    assert TripletDistanceMetric is losses.TripletDistanceMetric
    assert ContrastiveLoss is losses.ContrastiveLoss
    assert isinstance(sentforge.losses.ContrastiveLoss, type)
    assert issubclass(sentforge.losses.ContrastiveLoss, nn.Module)
    assert isinstance(sentforge.losses.TripletLoss, type)


def test_importing_the_submodule_first_still_binds_the_class():
    code = (
        "import sentforge.losses.ContrastiveLoss, sentforge.losses.TripletLoss, sentforge.losses as L\n"
        "from sentforge.losses.ContrastiveLoss import SiameseDistanceMetric\n"
        "assert isinstance(L.ContrastiveLoss, type) and isinstance(L.TripletLoss, type), L.ContrastiveLoss\n"
        "assert SiameseDistanceMetric.COSINE_DISTANCE is L.SiameseDistanceMetric.COSINE_DISTANCE\n"
    )
    src = str(Path(sentforge.losses.__file__).resolve().parents[2])
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": src}, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_distance_metrics_compute_distances():
    x, y = torch.tensor([[3.0, 4.0]]), torch.tensor([[0.0, 0.0]])
    assert losses.SiameseDistanceMetric.EUCLIDEAN(x, y).item() == pytest.approx(5.0)
    assert losses.SiameseDistanceMetric.MANHATTAN(x, y).item() == pytest.approx(7.0)
    assert losses.TripletDistanceMetric.EUCLIDEAN(x, y).item() == pytest.approx(5.0)
    assert losses.SiameseDistanceMetric.COSINE_DISTANCE(x, -x).item() == pytest.approx(2.0)
