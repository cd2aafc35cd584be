"""The losses added to match sentence-transformers 6, each against sentence-transformers' own class.

Both libraries load the same tiny random BERT folder (eval mode, so no dropout); the loss value
must agree to 1e-5 and every parameter gradient to 1e-4, after the same seeds. Config dicts and
citations must agree too.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from types import SimpleNamespace

import pytest
import sentence_transformers as st
import torch
from sentence_transformers.sentence_transformer import losses as st_losses
from test_losses_fakes import copy_features, mean_model
from tiny_models import build_tiny_bert
from torch import nn

import sentforge
from sentforge import losses
from sentforge.errors import SentforgeError

VALUE_TOL, GRAD_TOL = 1e-5, 1e-4

ANCHORS = ["the cat sat on the mat", "a dog ran in the park", "the red car", "a big tree", "blue house by the river",
           "small rug"]
POSITIVES = ["a cat on a mat", "the dog in a park", "a red car", "the big tree", "a blue house", "the small rug"]
NEGATIVES = ["a dog under a tree", "the cat on a car", "a blue tree", "the red house", "small car", "big dog"]
MIXED = [ANCHORS[0], POSITIVES[1], ANCHORS[2], NEGATIVES[3], ANCHORS[4], POSITIVES[5]]  # some rows identical
DAMAGED = ["cat sat mat", "dog ran park", "red car", "big tree", "blue house river", "small rug"]

CLASS_LABELS = torch.tensor([0, 1, 0, 1, 2, 2])
SCORE_LABELS = torch.tensor([0.1, 0.9, 0.4, 0.3, 0.8, 0.5])
TEACHER_SCORES = torch.randn(6, 2, generator=torch.Generator().manual_seed(3))
TEACHER_EMBEDDINGS = torch.randn(6, 32, generator=torch.Generator().manual_seed(4))
TEACHER_PER_COLUMN = torch.randn(6, 2, 16, generator=torch.Generator().manual_seed(5))

OURS = SimpleNamespace(name="ours", losses=losses, Model=sentforge.SentenceTransformer)
THEIRS = SimpleNamespace(name="theirs", losses=st_losses, Model=st.SentenceTransformer)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest on one thread, and the CPUs here are shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def guide_dir(tmp_path_factory) -> str:
    return build_tiny_bert(str(tmp_path_factory.mktemp("tiny_guide")), seed=1)


def load(lib, folder: str):
    return lib.Model(folder, device="cpu").eval()


def encoder(lib, model) -> nn.Module:
    """The transformers model inside a SentenceTransformer of either library."""
    return model[0].auto_model if lib is OURS else model.transformers_model


def features(lib, model, columns: list[list[str]]) -> list[dict]:
    return [model.tokenize(c) if lib is OURS else model.preprocess(c) for c in columns]


def step(lib, model, loss, columns, labels, extra: Callable):
    """Loss value(s) and parameter gradients of one training step, with fixed seeds."""
    modules = {"encoder": encoder(lib, model), **extra(lib, loss)}
    for module in modules.values():
        module.zero_grad()
    random.seed(0)
    torch.manual_seed(0)
    value = loss(features(lib, model, columns), labels)
    total = sum(value.values()) if isinstance(value, dict) else value
    total.backward()
    grads = {
        f"{key}.{name}": p.grad.clone()
        for key, module in modules.items()
        for name, p in module.named_parameters()
        if p.grad is not None
    }
    values = {k: v.item() for k, v in value.items()} if isinstance(value, dict) else {"loss": value.item()}
    return values, grads


def no_extra(lib, loss) -> dict:
    return {}


def case(build: Callable, columns: list, labels=None, extra: Callable = no_extra):
    return build, columns, labels, extra


def copy_encoder(lib, loss) -> dict:
    return {"model1": encoder(lib, loss.model1)}


CASES = {
    "batch_semi_hard": case(lambda L, m, g: L.BatchSemiHardTripletLoss(m, margin=0.5), [ANCHORS], CLASS_LABELS),
    "batch_semi_hard_cosine": case(
        lambda L, m, g: L.BatchSemiHardTripletLoss(m, L.BatchHardTripletLossDistanceFunction.cosine_distance, 0.2),
        [ANCHORS],
        CLASS_LABELS,
    ),
    "batch_hard_soft_margin": case(lambda L, m, g: L.BatchHardSoftMarginTripletLoss(m), [ANCHORS], CLASS_LABELS),
    "mega_batch_margin": case(lambda L, m, g: L.MegaBatchMarginLoss(m, mini_batch_size=4), [ANCHORS, POSITIVES]),
    "mega_batch_margin_plain": case(
        lambda L, m, g: L.MegaBatchMarginLoss(m, 0.6, 0.2, use_mini_batched_version=False), [ANCHORS, POSITIVES]
    ),
    "distill_kl_div": case(
        lambda L, m, g: L.DistillKLDivLoss(m, temperature=2.0, teacher_temperature=0.5),
        [ANCHORS, POSITIVES, NEGATIVES],
        TEACHER_SCORES,
    ),
    **{
        f"embed_distill_{metric}": case(
            lambda L, m, g, metric=metric: L.EmbedDistillLoss(m, distance_metric=metric),
            [ANCHORS, POSITIVES],
            TEACHER_EMBEDDINGS,
        )
        for metric in ("cosine", "l2", "mse")
    },
    "embed_distill_projection": case(
        lambda L, m, g: L.EmbedDistillLoss(m, projection_dim=16),
        [ANCHORS, POSITIVES],
        TEACHER_PER_COLUMN,
        extra=lambda lib, loss: {"projection": loss.projection},
    ),
    "global_orthogonal_regularization": case(
        lambda L, m, g: L.GlobalOrthogonalRegularizationLoss(m), [ANCHORS, POSITIVES]
    ),
    "global_orthogonal_regularization_sum": case(
        lambda L, m, g: L.GlobalOrthogonalRegularizationLoss(m, mean_weight=0.5, aggregation="sum"), [ANCHORS]
    ),
    "contrastive_tension": case(lambda L, m, g: L.ContrastiveTensionLoss(m), [ANCHORS, MIXED], extra=copy_encoder),
    "contrastive_tension_labels": case(
        lambda L, m, g: L.ContrastiveTensionLoss(m), [ANCHORS, MIXED], torch.tensor([1, 0, 1, 0, 1, 1]),
        extra=copy_encoder,
    ),
    "contrastive_tension_in_batch": case(
        lambda L, m, g: L.ContrastiveTensionLossInBatchNegatives(m, scale=10.0),
        [ANCHORS],
        extra=lambda lib, loss: {**copy_encoder(lib, loss), "scale": nn.ParameterList([loss.logit_scale])},
    ),
    "cached_gist": case(
        lambda L, m, g: L.CachedGISTEmbedLoss(m, g, temperature=0.05, mini_batch_size=4),
        [ANCHORS, POSITIVES, NEGATIVES],
    ),
    "cached_gist_relative": case(
        lambda L, m, g: L.CachedGISTEmbedLoss(
            m, g, temperature=0.05, mini_batch_size=2, margin_strategy="relative", margin=0.1, contrast_anchors=False
        ),
        [ANCHORS, POSITIVES],
    ),
    "matryoshka_cached_gist": case(
        lambda L, m, g: L.MatryoshkaLoss(m, L.CachedGISTEmbedLoss(m, g, mini_batch_size=3), [32, 16], [1, 0.5]),
        [ANCHORS, POSITIVES, NEGATIVES],
    ),
    "matryoshka_mega_batch_margin": case(
        lambda L, m, g: L.MatryoshkaLoss(m, L.MegaBatchMarginLoss(m, mini_batch_size=4), [32, 8]),
        [ANCHORS, POSITIVES],
    ),
    "adaptive_layer_all_layers": case(
        lambda L, m, g: L.AdaptiveLayerLoss(m, L.MultipleNegativesRankingLoss(m), n_layers_per_step=-1),
        [ANCHORS, POSITIVES, NEGATIVES],
    ),
    "adaptive_layer_sampled": case(
        lambda L, m, g: L.AdaptiveLayerLoss(m, L.CoSENTLoss(m), layer_weighting="log", kl_temperature=0.5),
        [ANCHORS, POSITIVES],
        SCORE_LABELS,
    ),
    "adaptive_layer_gist": case(
        lambda L, m, g: L.AdaptiveLayerLoss(m, L.GISTEmbedLoss(m, g), n_layers_per_step=-1, kl_temperature=0),
        [ANCHORS, POSITIVES],
    ),
    "matryoshka_2d": case(
        lambda L, m, g: L.Matryoshka2dLoss(m, L.MultipleNegativesRankingLoss(m), [32, 16, 8]), [ANCHORS, POSITIVES]
    ),
    "matryoshka_2d_everything": case(
        lambda L, m, g: L.Matryoshka2dLoss(
            m, L.MultipleNegativesRankingLoss(m), [32, 16, 8], [1, 0.5, 0.25], n_layers_per_step=-1,
            n_dims_per_step=-1, layer_weighting="linear",
        ),
        [ANCHORS, POSITIVES],
    ),
    "denoising_auto_encoder": case(
        lambda L, m, g: L.DenoisingAutoEncoderLoss(m),
        [DAMAGED, ANCHORS],
        extra=lambda lib, loss: {"decoder": loss.decoder},
    ),
}


def comparable_config(config: dict) -> dict:
    """The config dict with model objects (a guide) replaced by their class name."""
    return {k: type(v).__name__ if isinstance(v, nn.Module) else v for k, v in config.items()}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("case_name", sorted(CASES))
def test_loss_value_and_gradients_equal_sentence_transformers(case_name, tiny_bert_dir, guide_dir):
    build, columns, labels, extra = CASES[case_name]
    results = {}
    for lib in (OURS, THEIRS):
        model, guide = load(lib, tiny_bert_dir), load(lib, guide_dir)
        torch.manual_seed(0)  # the same random init of projections, decoder heads...
        loss = build(lib.losses, model, guide)
        results[lib.name] = (*step(lib, model, loss, columns, labels, extra), loss)
    (ours, ours_grads, ours_loss), (theirs, theirs_grads, theirs_loss) = results["ours"], results["theirs"]
    assert ours.keys() == theirs.keys()
    for key in theirs:
        assert ours[key] == pytest.approx(theirs[key], abs=VALUE_TOL), key
    assert any(value != 0 for value in ours.values())
    assert ours_grads.keys() == theirs_grads.keys() and ours_grads
    for name in theirs_grads:
        torch.testing.assert_close(ours_grads[name], theirs_grads[name], atol=GRAD_TOL, rtol=0, msg=name)
    assert comparable_config(ours_loss.get_config_dict()) == comparable_config(theirs_loss.get_config_dict())
    assert getattr(ours_loss, "citation", None) == getattr(theirs_loss, "citation", None)


# ---------------------------------------------------------------- further behaviour


WORDS = "the a cat dog sat ran on under mat rug big small red blue house car tree park".split()
FAKE_TEXTS = [
    ["the cat sat on the mat", "a dog ran in the park", "the red car", "a big tree", "blue house", "small rug"],
    ["a cat on a mat", "the dog in a park", "a red car", "the big tree", "a blue house", "the small rug"],
]


def word_tokenizer(words: list[str]):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[PAD]": 0, "[UNK]": 1, **{w: i + 2 for i, w in enumerate(words)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]")


def test_cached_gist_retokenizes_for_a_guide_with_another_vocabulary():
    def run(lib_losses):
        model = mean_model(seed=0, vocab_size=len(WORDS) + 2, tokenizer=word_tokenizer(WORDS)).double()
        guide = mean_model(seed=1, vocab_size=len(WORDS) + 2, tokenizer=word_tokenizer(WORDS[::-1])).double()
        loss = lib_losses.CachedGISTEmbedLoss(model, guide, temperature=0.05, mini_batch_size=4)
        assert loss.must_retokenize
        value = loss(copy_features([model.tokenize(t) for t in FAKE_TEXTS]), None)
        value.backward()
        return value.item(), {n: p.grad for n, p in model.named_parameters()}

    ours, theirs = run(losses), run(st_losses)
    assert ours[0] == pytest.approx(theirs[0], abs=1e-9)
    for name in theirs[1]:
        torch.testing.assert_close(ours[1][name], theirs[1][name], atol=1e-9, rtol=0)


def test_cached_gist_without_grad_gives_the_uncached_value():
    model = mean_model(seed=0, vocab_size=len(WORDS) + 2, tokenizer=word_tokenizer(WORDS)).double()
    guide = mean_model(seed=1, vocab_size=len(WORDS) + 2, tokenizer=word_tokenizer(WORDS)).double()
    feats = [model.tokenize(t) for t in FAKE_TEXTS]
    with torch.no_grad():
        cached = losses.CachedGISTEmbedLoss(model, guide, mini_batch_size=2)(copy_features(feats), None)
        plain = losses.GISTEmbedLoss(model, guide)(copy_features(feats), None)
    assert cached.item() == pytest.approx(plain.item(), abs=1e-9)


def test_contrastive_tension_data_loader_makes_the_same_batches():
    sentences = [f"sentence number {i}" for i in range(40)]
    batches = {}
    for name, lib in (("ours", losses), ("theirs", st_losses)):
        random.seed(3)
        loader = lib.ContrastiveTensionDataLoader(list(sentences), batch_size=8, pos_neg_ratio=4)
        batches[name] = [[(e.texts, e.label) for e in batch] for batch in loader]
        assert len(loader) == 2  # 40 sentences, 14 per batch
    assert batches["ours"] == batches["theirs"]
    assert batches["ours"][0][0][0][0] == batches["ours"][0][0][0][1]  # every 4th pair: a sentence with itself
    with pytest.raises(ValueError, match="divisible"):
        losses.ContrastiveTensionDataLoader(sentences, batch_size=6, pos_neg_ratio=4)


def test_adaptive_layer_loss_restores_the_model_and_needs_a_transformer(tiny_bert_dir):
    model = load(OURS, tiny_bert_dir)
    loss = losses.AdaptiveLayerLoss(model, losses.MultipleNegativesRankingLoss(model))
    loss(features(OURS, model, [ANCHORS, POSITIVES]), None).backward()
    assert "forward" not in vars(model) and "forward" not in vars(model[0])
    with pytest.raises(SentforgeError, match="Transformer"):
        losses.AdaptiveLayerLoss(mean_model(), losses.MultipleNegativesRankingLoss(mean_model()))
    with pytest.warns(UserWarning, match="not compatible"):
        losses.AdaptiveLayerLoss(model, losses.CachedMultipleNegativesRankingLoss(model))


def test_wrappers_declare_the_data_of_their_inner_loss(tiny_bert_dir):
    model = load(OURS, tiny_bert_dir)
    wrapped = losses.Matryoshka2dLoss(model, losses.CoSENTLoss(model), [32, 16])
    assert wrapped.requires_labels(2)
    assert wrapped.label_kind == losses.CoSENTLoss.label_kind
    assert not losses.ContrastiveTensionLoss(model).requires_labels(2)


def test_mega_batch_margin_rejects_a_third_column(tiny_bert_dir):
    model = load(OURS, tiny_bert_dir)
    with pytest.raises(ValueError, match="exactly 2 input columns"):
        losses.MegaBatchMarginLoss(model)(features(OURS, model, [ANCHORS, POSITIVES, NEGATIVES]), None)
    with pytest.raises(ValueError, match="mini_batch_num_tokens"):
        losses.MegaBatchMarginLoss(model, mini_batch_num_tokens=0)


def test_embed_distill_projection_round_trips(tiny_bert_dir, tmp_path):
    model = load(OURS, tiny_bert_dir)
    loss = losses.EmbedDistillLoss(model, projection_dim=8)
    loss.save_projection(tmp_path / "projection.safetensors")
    other = losses.EmbedDistillLoss(model)
    other.load_projection(tmp_path / "projection.safetensors")
    assert other.projection_dim == 8
    torch.testing.assert_close(other.projection.weight, loss.projection.weight)
    with pytest.raises(ValueError, match="No projection layer"):
        losses.EmbedDistillLoss(model).save_projection(tmp_path / "none.safetensors")


def test_distill_kl_div_checks_its_inputs(tiny_bert_dir):
    model = load(OURS, tiny_bert_dir)
    with pytest.raises(ValueError, match="positive finite"):
        losses.DistillKLDivLoss(model, temperature=0)
    loss = losses.DistillKLDivLoss(model)
    with pytest.raises(ValueError, match="at least 3 columns"):
        loss(features(OURS, model, [ANCHORS, POSITIVES]), TEACHER_SCORES[:, :1])
    with pytest.raises(ValueError, match="NaN"):
        loss(features(OURS, model, [ANCHORS, POSITIVES, NEGATIVES]), torch.full((6, 2), float("nan")))


NEW_LOSSES = [
    "AdaptiveLayerLoss", "BatchHardSoftMarginTripletLoss", "BatchSemiHardTripletLoss", "CachedGISTEmbedLoss",
    "ContrastiveTensionDataLoader", "ContrastiveTensionLoss", "ContrastiveTensionLossInBatchNegatives",
    "DenoisingAutoEncoderLoss", "DistillKLDivLoss", "EmbedDistillLoss", "GlobalOrthogonalRegularizationLoss",
    "Matryoshka2dLoss", "MegaBatchMarginLoss",
]


def test_constructor_signatures_equal_sentence_transformers():
    import inspect

    for name in NEW_LOSSES:
        ours = inspect.signature(getattr(losses, name).__init__).parameters
        theirs = inspect.signature(getattr(st_losses, name).__init__).parameters
        assert list(ours) == list(theirs), name
        for param in theirs:
            default = theirs[param].default
            if isinstance(default, (int, float, str, bool, tuple, type(None))):
                assert ours[param].default == default, (name, param)
            elif callable(default):  # e.g. cos_sim or euclidean_distance: the same function by name
                assert ours[param].default.__name__ == default.__name__, (name, param)


def st_module_paths() -> dict[str, set[str]]:
    """Loss module paths of sentence-transformers (its old class-named ones and its 6.x ones), each with
    the public classes it defines."""
    import pkgutil

    from sentence_transformers.util.deprecated_import import DEPRECATED_MODULE_PATHS

    defined: dict[str, set[str]] = {}
    for name in st_losses.__all__:
        defined.setdefault(getattr(st_losses, name).__module__.rsplit(".", 1)[1], set()).add(name)
    paths = {m.name: defined.get(m.name, set()) for m in pkgutil.iter_modules(st_losses.__path__)}
    for old, new in DEPRECATED_MODULE_PATHS.items():
        if old.startswith("sentence_transformers.losses."):
            paths[old.rsplit(".", 1)[1]] = defined[new.rsplit(".", 1)[1]]
    return paths


ST_MODULE_PATHS = st_module_paths()


@pytest.mark.parametrize("name", sorted(ST_MODULE_PATHS))
def test_module_import_paths_exist(name):
    import importlib

    module = importlib.import_module(f"sentforge.losses.{name}")
    assert ST_MODULE_PATHS[name]
    for class_name in ST_MODULE_PATHS[name]:
        assert getattr(module, class_name) is getattr(losses, class_name)
    if name[0].isupper():
        assert isinstance(getattr(sentforge.losses, name), type)  # the package attribute stays the class


def test_legacy_import_paths_in_a_fresh_interpreter():
    import subprocess
    import sys

    code = (
        "from sentforge.losses.BatchHardTripletLoss import BatchHardTripletLossDistanceFunction\n"
        "from sentforge.losses.ContrastiveTensionLoss import ContrastiveTensionDataLoader\n"
        "import sentforge.losses.MSELoss, sentforge.losses as L\n"
        "assert isinstance(L.MSELoss, type) and L.ContrastiveTensionDataLoader is ContrastiveTensionDataLoader\n"
    )
    src = os.path.dirname(os.path.dirname(sentforge.__file__))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": src}, timeout=120)
    assert result.returncode == 0, result.stderr
