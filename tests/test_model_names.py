"""sentence-transformers 6's SentenceTransformer names in sentforge, each checked against the real library
on the same tiny random BERT checkpoint (Transformer + mean Pooling): constants, read-outs, preprocess,
is_singular_input, pooling/prompt and truncation switches, deprecated names, and the base module classes.

Embeddings are compared with atol=1e-5 (float32, the same weights, different kernels)."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch

import sentforge
from sentforge import SentenceTransformer, SentforgeError, models

st = pytest.importorskip("sentence_transformers")
st_models = pytest.importorskip("sentence_transformers.sentence_transformer.modules")

TEXTS = ["the cat sat on the mat", "a dog ran in the park", "gold", "he drove to the stadium today"]
ATOL = 1e-5


@pytest.fixture(scope="module")
def pair(tiny_bert_dir):
    """(ours, theirs) loaded from the same plain checkpoint on CPU."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = st.SentenceTransformer(tiny_bert_dir, device="cpu")
    return SentenceTransformer(tiny_bert_dir, device="cpu"), theirs


def _same_features(mine: dict, theirs: dict) -> None:
    assert set(mine) == set(theirs)
    for key, value in theirs.items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(mine[key], value), key
        else:
            assert mine[key] == value, key


# -- constants and read-outs ---------------------------------------------------------------------------
def test_class_constants_match():
    for name in ("SUPPORTED_SIMILARITY_FN_NAMES", "model_type", "default_huggingface_organization"):
        assert getattr(SentenceTransformer, name) == getattr(st.SentenceTransformer, name), name
    assert SentenceTransformer.model_card_data_class.__name__ == st.SentenceTransformer.model_card_data_class.__name__


def test_model_card_data_is_an_instance_of_model_card_data_class(pair):
    mine, _ = pair
    assert isinstance(mine.model_card_data, mine.model_card_data_class)


def test_backend_device_name_dtype_and_model_kwargs_match(pair):
    mine, theirs = pair
    assert mine.get_backend() == theirs.get_backend() == "torch"
    assert mine.get_device_name() == theirs.get_device_name()
    assert mine.dtype == theirs.dtype == torch.float32
    assert mine.get_model_kwargs() == theirs.get_model_kwargs()


def test_default_device_is_the_device_name(tiny_bert_dir):
    model = SentenceTransformer(tiny_bert_dir)
    assert model.device == torch.device(model.get_device_name())


def test_dtype_follows_a_cast(tiny_bert_dir):
    mine = SentenceTransformer(tiny_bert_dir, device="cpu").to(torch.bfloat16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = st.SentenceTransformer(tiny_bert_dir, device="cpu").to(torch.bfloat16)
    assert mine.dtype == theirs.dtype == torch.bfloat16


def test_transformers_model_holds_the_same_weights(pair):
    mine, theirs = pair
    assert type(mine.transformers_model) is type(theirs.transformers_model)
    their_weights = theirs.transformers_model.state_dict()
    my_weights = mine.transformers_model.state_dict()
    assert set(my_weights) == set(their_weights)
    for key, value in their_weights.items():
        assert torch.equal(my_weights[key], value), key


def test_config_is_the_transformers_config(pair):
    mine, theirs = pair
    assert type(mine.config) is type(theirs.config)
    for field in ("model_type", "hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size"):
        assert getattr(mine.config, field) == getattr(theirs.config, field), field
    assert mine.config is mine.transformers_model.config


def test_config_setter_replaces_the_transformers_config(tiny_bert_dir):
    mine = SentenceTransformer(tiny_bert_dir, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = st.SentenceTransformer(tiny_bert_dir, device="cpu")
    for model in (mine, theirs):
        new = copy.deepcopy(model.config)
        new.marker = "replaced"
        model.config = new
        assert model.transformers_model.config is new and model.config.marker == "replaced"


def test_a_model_without_transformer_has_no_transformers_model_config_or_dtype():
    mine = SentenceTransformer(modules=[models.Normalize()], device="cpu")
    theirs = st.SentenceTransformer(modules=[st_models.Normalize()], device="cpu")
    for model in (mine, theirs):
        assert model.transformers_model is None and model.config is None and model.dtype is None


# -- inputs ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "inputs, kwargs",
    [
        (TEXTS, {}),
        (["  Hello there ", "the cat sat"], {"prompt": "query: "}),
        ([("a cat sat", "the dog ran in the park"), ("gold", "coal")], {}),
        (TEXTS[:2], {"task": "query"}),
        ([], {}),
    ],
)
def test_preprocess_equals_sentence_transformers(pair, inputs, kwargs):
    mine, theirs = pair
    _same_features(mine.preprocess(inputs, **kwargs), theirs.preprocess(inputs, **kwargs))


def test_preprocess_features_encode_like_encode(pair):
    mine, _ = pair
    features = mine.preprocess(TEXTS)
    with torch.no_grad():
        out = mine(features)["sentence_embedding"].numpy()
    assert np.allclose(out, mine.encode(TEXTS), atol=ATOL)


def test_preprocess_refuses_non_text_inputs_like_sentence_transformers(pair):
    mine, theirs = pair
    with pytest.raises(ValueError):
        theirs.preprocess([1, 2])
    with pytest.raises(SentforgeError, match="input 0 is int"):
        mine.preprocess([1, 2])


def test_preprocess_names_unknown_keywords_and_a_bare_string(pair):
    """sentence-transformers ignores unknown keywords and splits a bare string into characters;
    sentforge says what is wrong instead."""
    mine, _ = pair
    with pytest.raises(TypeError, match="max_lenght"):
        mine.preprocess(TEXTS, max_lenght=8)
    with pytest.raises(SentforgeError, match="wrap a single text"):
        mine.preprocess("the cat")


@pytest.mark.parametrize(
    "value",
    ["the cat", ["the cat"], ("the cat", "a dog"), [], np.array(["a", "b"]), np.array("a"), np.array([1.0, 2.0]),
     [{"role": "user", "content": "hi"}], [[{"role": "user", "content": "hi"}]], 7, None],
    ids=repr,
)
def test_is_singular_input_matches(pair, value):
    mine, theirs = pair
    assert mine.is_singular_input(value) == theirs.is_singular_input(value)


def test_get_sentence_features_is_deprecated_and_missing_on_transformer_modules(pair):
    mine, theirs = pair
    for model in (mine, theirs):
        with pytest.warns(DeprecationWarning, match="get_sentence_features"), pytest.raises(AttributeError):
            model.get_sentence_features({"input_ids": torch.tensor([[1]])})


# -- prompt pooling and truncation ---------------------------------------------------------------------
def test_set_pooling_include_prompt_changes_encode_as_in_sentence_transformers(tiny_bert_dir):
    mine = SentenceTransformer(tiny_bert_dir, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = st.SentenceTransformer(tiny_bert_dir, device="cpu")
    with_prompt = mine.encode(TEXTS, prompt="query: ")
    for model in (mine, theirs):
        model.set_pooling_include_prompt(False)
        assert model[1].include_prompt is False
    without_prompt = mine.encode(TEXTS, prompt="query: ")
    assert np.allclose(without_prompt, theirs.encode(TEXTS, prompt="query: "), atol=ATOL)
    assert not np.allclose(without_prompt, with_prompt, atol=1e-3)


def test_set_pooling_include_prompt_without_pooling_is_a_no_op():
    SentenceTransformer(modules=[models.Normalize()], device="cpu").set_pooling_include_prompt(False)


def test_truncate_embeddings_cuts_encode_inside_the_block_only(pair):
    mine, theirs = pair
    full = mine.encode(TEXTS)
    for model in (mine, theirs):
        with model.truncate_embeddings(8):
            assert model.get_embedding_dimension() == 8
            assert model.encode(TEXTS).shape == (len(TEXTS), 8)
            with model.truncate_embeddings(None):
                assert model.encode(TEXTS).shape == full.shape
            assert model.truncate_dim == 8
        assert model.truncate_dim is None and model.encode(TEXTS).shape == full.shape
    with mine.truncate_embeddings(8), theirs.truncate_embeddings(8):
        assert np.allclose(mine.encode(TEXTS), theirs.encode(TEXTS), atol=ATOL)
        assert np.allclose(mine.encode(TEXTS), full[:, :8], atol=ATOL)


def test_truncate_embeddings_restores_after_an_error(pair):
    mine, _ = pair
    mine.truncate_dim = 16
    try:
        with pytest.raises(RuntimeError), mine.truncate_embeddings(4):
            raise RuntimeError("inside")
        assert mine.truncate_dim == 16
    finally:
        mine.truncate_dim = None


def test_truncate_sentence_embeddings_is_the_deprecated_name(pair):
    mine, theirs = pair
    for model in (mine, theirs):
        with pytest.warns(FutureWarning, match="truncate_embeddings"), model.truncate_sentence_embeddings(6):
            assert model.encode(TEXTS).shape == (len(TEXTS), 6)
        assert model.truncate_dim is None


def test_load_is_deprecated_and_loads_the_same_model(tiny_bert_dir):
    with pytest.warns(DeprecationWarning, match="SentenceTransformer.load"):
        mine = SentenceTransformer.load(tiny_bert_dir)
    with pytest.warns(DeprecationWarning, match="SentenceTransformer.load"):
        theirs = st.SentenceTransformer.load(tiny_bert_dir)
    assert isinstance(mine, SentenceTransformer)
    assert np.allclose(mine.encode(TEXTS), theirs.encode(TEXTS), atol=ATOL)


# -- base module classes and the models.pooling path ---------------------------------------------------
def test_builtin_modules_are_registered_like_sentence_transformers(pair):
    mine, theirs = pair
    for my_module, their_module in zip(mine, theirs):
        assert isinstance(my_module, models.Module) == isinstance(their_module, st_models.Module)
        assert isinstance(my_module, models.InputModule) == isinstance(their_module, st_models.InputModule)
    assert isinstance(models.Dense(4, 2), models.Module) and isinstance(models.Normalize(), models.Module)


def _doubling_module(base):
    class Doubling(base):
        def forward(self, features, **kwargs):
            features["sentence_embedding"] = features["sentence_embedding"] * 2
            return features

        def save(self, output_path, *args, safe_serialization=True, **kwargs):
            self.save_config(output_path)

    return Doubling()


def test_a_custom_module_runs_in_encode_as_in_sentence_transformers(tiny_bert_dir, tmp_path):
    mine = SentenceTransformer(modules=[models.Transformer(tiny_bert_dir), models.Pooling(32, "mean"),
                                        _doubling_module(models.Module)], device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = st.SentenceTransformer(modules=[st_models.Transformer(tiny_bert_dir), st_models.Pooling(32, "mean"),
                                                 _doubling_module(st_models.Module)], device="cpu")
    assert np.allclose(mine.encode(TEXTS), theirs.encode(TEXTS), atol=ATOL)
    assert repr(mine[2]) == repr(theirs[2]) == "Doubling({})"
    mine[2].save(str(tmp_path))
    assert (tmp_path / "config.json").read_text() == "{}"


def test_module_subclass_must_implement_forward_and_save():
    with pytest.raises(TypeError):
        models.Module()


def test_input_module_defaults_match(pair):
    class Reader(models.InputModule):
        def forward(self, features, **kwargs):
            return features

        def save(self, output_path, *args, **kwargs):
            pass

    assert Reader.save_in_root is st_models.InputModule.save_in_root is True
    assert Reader().modalities == ["text"]
    with pytest.raises(NotImplementedError):
        Reader().preprocess(["x"])


def test_models_pooling_import_path():
    from sentforge.models.pooling import Pooling

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sentence_transformers.models.pooling import Pooling as TheirPooling

    assert Pooling is sentforge.models.Pooling and Pooling.__name__ == TheirPooling.__name__
