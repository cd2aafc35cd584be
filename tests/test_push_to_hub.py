"""``push_to_hub`` with huggingface_hub's HfApi replaced by a recorder (no network).

The recorder keeps every call's arguments and a copy of each uploaded folder (after the ignore patterns,
applied with huggingface_hub's own filter, as ``upload_folder`` does). The calls are compared with the
ones sentence-transformers' ``push_to_hub`` makes through the same recorder.
"""

from __future__ import annotations

import os
import shutil
import types

import numpy as np
import pytest
from huggingface_hub.utils import filter_repo_objects

import sentforge
import sentforge.hub_upload

st = pytest.importorskip("sentence_transformers")

MODEL_FILES = ("modules.json", "config_sentence_transformers.json", "model.safetensors", "README.md")


class RecordingHfApi:
    """Stands in for huggingface_hub.HfApi: records calls, copies uploaded folders into ``store``."""

    calls: list[tuple[str, dict]] = []
    store: str = ""
    has_readme: bool = False

    def __init__(self, token=None, **kwargs) -> None:
        self.calls.append(("__init__", {"token": token}))

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))
        full_id = repo_id if "/" in repo_id else f"recorded-user/{repo_id}"
        return types.SimpleNamespace(repo_id=full_id)

    def create_branch(self, repo_id, **kwargs):
        self.calls.append(("create_branch", {"repo_id": repo_id, **kwargs}))

    def file_exists(self, repo_id, filename, **kwargs):
        self.calls.append(("file_exists", {"repo_id": repo_id, "filename": filename, **kwargs}))
        return self.has_readme and filename == "README.md"

    def upload_folder(self, folder_path, ignore_patterns=None, **kwargs):
        files = sorted(
            os.path.relpath(os.path.join(root, name), folder_path).replace(os.sep, "/")
            for root, _, names in os.walk(folder_path) for name in names
        )
        uploaded = sorted(filter_repo_objects(files, ignore_patterns=ignore_patterns))
        target = os.path.join(self.store, f"upload-{len(self.calls)}")
        for name in uploaded:
            os.makedirs(os.path.dirname(os.path.join(target, name)), exist_ok=True)
            shutil.copy(os.path.join(folder_path, name), os.path.join(target, name))
        self.calls.append(("upload_folder", {**kwargs, "files": uploaded, "copy": target}))
        return types.SimpleNamespace(commit_url=f"https://hub/{kwargs['repo_id']}/commit/abc",
                                     pr_url=f"https://hub/{kwargs['repo_id']}/discussions/1")


@pytest.fixture
def recorder(tmp_path, monkeypatch):
    """The recorder class, patched in where sentforge's upload code gets HfApi."""
    RecordingHfApi.calls = []
    RecordingHfApi.store = str(tmp_path / "hub")
    RecordingHfApi.has_readme = False
    monkeypatch.setattr(sentforge.hub_upload, "HfApi", RecordingHfApi)
    return RecordingHfApi


@pytest.fixture(scope="module")
def model(tiny_bert_dir):
    return sentforge.SentenceTransformer(tiny_bert_dir, device="cpu")


def call(recorder, name: str) -> dict:
    found = [kwargs for called, kwargs in recorder.calls if called == name]
    assert len(found) == 1, f"{name} called {len(found)} times"
    return found[0]


def test_push_uploads_a_model_folder_that_sentence_transformers_loads(recorder, model):
    url = model.push_to_hub("alice/tiny", token="secret", private=True)
    upload = call(recorder, "upload_folder")
    assert url == "https://hub/alice/tiny/commit/abc"
    assert call(recorder, "__init__") == {"token": "secret"}
    assert call(recorder, "create_repo") == {"repo_id": "alice/tiny", "private": True, "repo_type": None,
                                             "exist_ok": False}
    assert upload["repo_id"] == "alice/tiny" and upload["revision"] is None and upload["create_pr"] is False
    assert upload["commit_message"] == "Add new SentenceTransformer model"
    assert set(MODEL_FILES) <= set(upload["files"])
    assert "training_run.json" not in upload["files"] and "training_curve.png" not in upload["files"]
    assert not any(c == "create_branch" for c, _ in recorder.calls)
    loaded = st.SentenceTransformer(upload["copy"], device="cpu")
    texts = ["the cat sat on the mat", "sunny weather today"]
    assert np.abs(loaded.encode(texts) - model.encode(texts)).max() < 1e-5
    with open(os.path.join(upload["copy"], "README.md"), encoding="utf-8") as handle:
        assert "alice/tiny" in handle.read()  # the card's usage snippet names the repository


def test_calls_match_sentence_transformers(recorder, model, tiny_bert_dir, monkeypatch):
    """The same arguments reach create_repo, create_branch and upload_folder as from sentence-transformers."""
    import sentence_transformers.base.model as st_base_model

    monkeypatch.setattr(st_base_model, "HfApi", RecordingHfApi)
    monkeypatch.setattr(st_base_model, "load_file_path", lambda *args, **kwargs: None)  # "no README.md yet"
    reference = st.SentenceTransformer(tiny_bert_dir, device="cpu")
    kwargs = {"repo_id": "tiny", "exist_ok": True, "revision": "dev", "commit_message": "first upload"}
    theirs_url = reference.push_to_hub(**kwargs)
    theirs = [(c, {k: v for k, v in a.items() if k not in ("files", "copy", "ignore_patterns")})
              for c, a in recorder.calls]
    theirs_files = call(recorder, "upload_folder")["files"]
    recorder.calls = []
    ours_url = model.push_to_hub(**kwargs)
    ours = [(c, {k: v for k, v in a.items() if k not in ("files", "copy", "ignore_patterns")})
            for c, a in recorder.calls if c != "file_exists"]
    assert ours_url == theirs_url == "https://hub/recorded-user/tiny/commit/abc"
    assert ours == theirs
    assert call(recorder, "create_branch") == {"repo_id": "recorded-user/tiny", "branch": "dev", "exist_ok": True}
    assert set(MODEL_FILES) <= set(theirs_files) & set(call(recorder, "upload_folder")["files"])


def test_create_pr_returns_the_pull_request_url(recorder, model):
    url = model.push_to_hub("alice/tiny", create_pr=True)
    assert url == "https://hub/alice/tiny/discussions/1"
    assert call(recorder, "create_repo")["exist_ok"] is True
    upload = call(recorder, "upload_folder")
    assert upload["create_pr"] is True and "Full Model Architecture" in upload["commit_description"]


def test_existing_model_card_is_kept_unless_replaced(recorder, model):
    recorder.has_readme = True
    model.push_to_hub("alice/tiny", exist_ok=True)
    assert "README.md" not in call(recorder, "upload_folder")["files"]
    recorder.calls = []
    model.push_to_hub("alice/tiny", exist_ok=True, replace_model_card=True)
    assert "README.md" in call(recorder, "upload_folder")["files"]


def test_training_files_are_uploaded_only_when_asked(recorder, tiny_bert_dir, tmp_path):
    from sentforge import SentenceTransformerTrainer, SentenceTransformerTrainingArguments

    trained = sentforge.SentenceTransformer(tiny_bert_dir, device="cpu")
    data = [{"anchor": f"the cat {w}", "positive": f"a dog {w}"} for w in ("sat", "ran", "park", "car")] * 2
    args = SentenceTransformerTrainingArguments(output_dir=str(tmp_path / "run"), max_steps=2, logging_steps=1,
                                                per_device_train_batch_size=4, report_to=[], save_strategy="no")
    SentenceTransformerTrainer(model=trained, args=args, train_dataset=data,
                               loss=sentforge.losses.MultipleNegativesRankingLoss(trained)).train()
    trained.save(str(tmp_path / "saved"))
    local = set(os.listdir(tmp_path / "saved"))
    assert {"training_curve.png", "training_run.json"} <= local  # what the exclusion is about
    with open(tmp_path / "saved" / "README.md", encoding="utf-8") as handle:
        local_card = handle.read()
    assert "`training_curve.png` (the plot above) and `training_run.json`" in local_card  # the card lists them

    trained.push_to_hub("alice/trained")
    upload = call(recorder, "upload_folder")
    assert not {"training_curve.png", "training_run.json"} & set(upload["files"])
    with open(os.path.join(upload["copy"], "README.md"), encoding="utf-8") as handle:
        uploaded_card = handle.read()
    assert "training_curve.png" not in uploaded_card and "training_run.json" not in uploaded_card
    assert "### Framework Versions" in uploaded_card

    for include, expected in ((False, set()), (True, {"training_curve.png", "training_run.json"})):
        recorder.calls = []
        trained.push_to_hub("alice/trained", local_model_path=str(tmp_path / "saved"),
                            include_training_files=include)
        upload = call(recorder, "upload_folder")
        assert upload["files"] and {"training_curve.png", "training_run.json"} & set(upload["files"]) == expected
        assert set(MODEL_FILES) <= set(upload["files"])


def test_bad_arguments_are_refused_before_any_call(recorder, model, tmp_path):
    with pytest.raises(ValueError, match="repo_id"):
        model.push_to_hub("")
    with pytest.raises(ValueError, match="local_model_path"):
        model.push_to_hub("alice/tiny", local_model_path=str(tmp_path / "missing"))
    assert recorder.calls == []
