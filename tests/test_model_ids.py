"""Model ids resolve to the hub repositories sentence-transformers asks for, and saved module names are
the ones sentence-transformers writes, checked against the real library without network.

The hub is faked: sentforge's download function (huggingface_hub.snapshot_download) records the repo
ids it is asked for and serves a local tiny checkpoint; sentence-transformers' first hub call (revision
resolution) records its repo id and stops the load."""

from __future__ import annotations

import json
import warnings
from collections import OrderedDict

import huggingface_hub
import numpy as np
import pytest

from sentforge import SentenceTransformer, SentforgeError, hub, models
from sentforge.util.original_models import ORIGINAL_TRANSFORMER_MODELS

st = pytest.importorskip("sentence_transformers")
st_modules = pytest.importorskip("sentence_transformers.sentence_transformer.modules")
st_model_module = pytest.importorskip("sentence_transformers.base.model")
st_misc = pytest.importorskip("sentence_transformers.util.misc")

TEXTS = ["the cat sat on the mat", "a dog ran in the park", "gold"]
NAMES = [
    "bert-base-uncased", "roberta-base", "distilroberta-base", "gpt2", "BERT-Base-Uncased",
    "all-MiniLM-L12-v2", "my-own-model", "google-bert/bert-base-uncased", "sentence-transformers/all-MiniLM-L12-v2",
]


class _Stop(Exception):
    """Raised by the fake hub once the requested repo id is recorded."""


def _their_repo_id(monkeypatch, name: str) -> str:
    asked: list[str] = []

    def resolve(repo_id, revision, **_):
        asked.append(repo_id)
        raise _Stop

    monkeypatch.setattr(st_model_module, "_resolve_model_revision", resolve)
    with warnings.catch_warnings(), pytest.raises(_Stop):
        warnings.simplefilter("ignore")
        st.SentenceTransformer(name, device="cpu")
    return asked[0]


def _fake_hub(monkeypatch, serve: dict[str, str]) -> list[tuple[str, bool]]:
    """snapshot_download that records (repo_id, local_files_only) and serves the folders in ``serve``."""
    calls: list[tuple[str, bool]] = []

    def snapshot_download(repo_id, local_files_only=False, **_):
        calls.append((repo_id, local_files_only))
        if repo_id in serve:
            return serve[repo_id]
        raise huggingface_hub.errors.LocalEntryNotFoundError(f"{repo_id} is not here")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    return calls


def test_the_original_transformers_list_is_sentence_transformers_list():
    assert list(ORIGINAL_TRANSFORMER_MODELS) == list(st_misc.ORIGINAL_TRANSFORMER_MODELS)


@pytest.mark.parametrize("name", NAMES)
def test_a_name_asks_the_hub_for_the_repo_sentence_transformers_asks_for(monkeypatch, name):
    expected = _their_repo_id(monkeypatch, name)
    calls = _fake_hub(monkeypatch, {})
    with pytest.raises(SentforgeError, match="Could not find the model"):
        SentenceTransformer(name, device="cpu")
    assert calls and {repo_id for repo_id, _ in calls} == {expected}
    assert hub.hub_repo_id(name) == expected


@pytest.mark.parametrize("name", ["bert-base-uncased", "distilroberta-base"])
def test_a_plain_checkpoint_id_loads_as_given_with_mean_pooling(monkeypatch, tiny_bert_dir, name):
    calls = _fake_hub(monkeypatch, {name: tiny_bert_dir})
    model = SentenceTransformer(name, device="cpu")
    assert calls == [(name, True)]
    assert [type(m).__name__ for m in model] == ["Transformer", "Pooling"]
    assert model[1].pooling_mode == "mean"
    assert model.base_model_id == name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = st.SentenceTransformer(tiny_bert_dir, device="cpu")
    assert [type(m).__name__ for m in theirs] == ["Transformer", "Pooling"]
    assert np.allclose(model.encode(TEXTS), theirs.encode(TEXTS), atol=1e-5)


def test_online_the_cache_is_tried_before_a_download_of_the_same_id(monkeypatch, tiny_bert_dir):
    monkeypatch.setattr(hub, "_offline", lambda: False)
    calls: list[tuple[str, bool]] = []

    def snapshot_download(repo_id, local_files_only=False, **_):
        calls.append((repo_id, local_files_only))
        if local_files_only:
            raise huggingface_hub.errors.LocalEntryNotFoundError("not cached")
        return tiny_bert_dir

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    SentenceTransformer("roberta-base", device="cpu")
    assert calls == [("roberta-base", True), ("roberta-base", False)]


def test_a_missing_model_error_names_the_id_that_was_tried(monkeypatch):
    _fake_hub(monkeypatch, {})
    with pytest.raises(SentforgeError) as err:
        SentenceTransformer("roberta-base", device="cpu")
    assert "'roberta-base'" in str(err.value) and "sentence-transformers/roberta-base" not in str(err.value)


# -- saved module names ----------------------------------------------------------------------------
def _named_models(tiny_bert_dir):
    mine = SentenceTransformer(
        modules=OrderedDict([
            ("encoder", models.Transformer(tiny_bert_dir)),
            ("pooling", models.Pooling(32, "mean")),
            ("reduced_dim", models.Dense(32, 8)),
            ("norm", models.Normalize()),
        ]),
        device="cpu",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = st.SentenceTransformer(
            modules=OrderedDict([
                ("encoder", st_modules.Transformer(tiny_bert_dir)),
                ("pooling", st_modules.Pooling(32, "mean")),
                ("reduced_dim", st_modules.Dense(32, 8)),
                ("norm", st_modules.Normalize()),
            ]),
            device="cpu",
        )
    return mine, theirs


def _entries(folder) -> list[dict]:
    return [{k: e[k] for k in ("idx", "name", "path")} for e in json.loads((folder / "modules.json").read_text())]


def test_saved_modules_json_keeps_the_given_names_as_sentence_transformers_does(tiny_bert_dir, tmp_path):
    mine, theirs = _named_models(tiny_bert_dir)
    mine.save(str(tmp_path / "ours"), create_model_card=False)
    theirs.save(str(tmp_path / "theirs"), create_model_card=False)
    assert _entries(tmp_path / "ours") == _entries(tmp_path / "theirs")
    assert [e["name"] for e in _entries(tmp_path / "ours")] == ["encoder", "pooling", "reduced_dim", "norm"]


def test_module_names_survive_a_round_trip_through_either_library(tiny_bert_dir, tmp_path):
    mine, _ = _named_models(tiny_bert_dir)
    folder = str(tmp_path / "ours")
    mine.save(folder, create_model_card=False)
    reloaded = SentenceTransformer(folder, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = st.SentenceTransformer(folder, device="cpu")
    assert list(reloaded._modules) == list(theirs._modules) == ["encoder", "pooling", "reduced_dim", "norm"]
    assert np.allclose(reloaded.encode(TEXTS), theirs.encode(TEXTS), atol=1e-5)
    assert np.allclose(reloaded.encode(TEXTS), mine.encode(TEXTS), atol=1e-6)
    theirs.save(str(tmp_path / "theirs"), create_model_card=False)
    assert list(SentenceTransformer(str(tmp_path / "theirs"), device="cpu")._modules) == list(theirs._modules)


def test_a_list_of_modules_is_saved_under_index_names(tiny_bert_dir, tmp_path):
    model = SentenceTransformer(modules=[models.Transformer(tiny_bert_dir), models.Pooling(32, "mean")], device="cpu")
    model.save(str(tmp_path / "m"), create_model_card=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = st.SentenceTransformer(
            modules=[st_modules.Transformer(tiny_bert_dir), st_modules.Pooling(32, "mean")], device="cpu"
        )
    theirs.save(str(tmp_path / "theirs"), create_model_card=False)
    assert _entries(tmp_path / "m") == _entries(tmp_path / "theirs")
    assert [e["name"] for e in _entries(tmp_path / "m")] == ["0", "1"]


def test_a_module_name_used_twice_in_modules_json_is_an_error(tiny_bert_dir, tmp_path):
    model = SentenceTransformer(modules=[models.Transformer(tiny_bert_dir), models.Pooling(32, "mean")], device="cpu")
    folder = tmp_path / "m"
    model.save(str(folder), create_model_card=False)
    entries = json.loads((folder / "modules.json").read_text())
    entries[1]["name"] = entries[0]["name"]
    (folder / "modules.json").write_text(json.dumps(entries))
    with pytest.raises(SentforgeError, match="used twice"):
        SentenceTransformer(str(folder), device="cpu")
