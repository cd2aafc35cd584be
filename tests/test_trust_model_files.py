"""Model folders are trusted only as far as they deserve: weights must match the architecture,
modules.json may not point outside the folder, saves are all-or-nothing and follow the umask."""

from __future__ import annotations

import json
import os
import shutil
import stat

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from sentforge import SentenceTransformer, SentforgeError
from sentforge.modules import Dense, Normalize, Pooling, Transformer
from sentforge.modules import pooling as pooling_module

DROPPED = "encoder.layer.0.attention.self.query.weight"
SWITCH = {"ignore_mismatched_weights": True}


def _tiny_model(tiny_bert_dir: str, extra: list | None = None) -> SentenceTransformer:
    modules = [Transformer(tiny_bert_dir, max_seq_length=32), Pooling(32, "mean"), *(extra or [])]
    return SentenceTransformer(modules=modules, device="cpu")


def _rewrite_weights(folder, drop: tuple[str, ...] = (), add: dict | None = None) -> None:
    path = os.path.join(str(folder), "model.safetensors")
    state = load_file(path)
    for key in drop:
        del state[key]
    state.update(add or {})
    save_file(state, path, metadata={"format": "pt"})


def _copy_checkpoint(tiny_bert_dir: str, folder) -> str:
    shutil.copytree(tiny_bert_dir, str(folder))
    return str(folder)


def _saved_model(tiny_bert_dir: str, folder) -> str:
    _tiny_model(tiny_bert_dir).save(str(folder))
    return str(folder)


def _snapshot(folder) -> dict[str, bytes]:
    out = {}
    for root, _, files in os.walk(str(folder)):
        for name in files:
            path = os.path.join(root, name)
            out[os.path.relpath(path, str(folder))] = open(path, "rb").read()
    return out


def _hidden(folder) -> list[str]:
    return [name for name in os.listdir(str(folder)) if name.startswith(".")]


# -- weights that do not match the architecture -------------------------------------------------
@pytest.mark.parametrize("native", ["1", "0"])
def test_missing_weight_is_an_error_on_both_loading_paths(tiny_bert_dir, tmp_path, monkeypatch, native):
    monkeypatch.setenv("SENTFORGE_NATIVE_ENCODER", native)
    folder = _saved_model(tiny_bert_dir, tmp_path / "model")
    _rewrite_weights(folder, drop=(DROPPED,))
    with pytest.raises(SentforgeError) as err:
        SentenceTransformer(folder, device="cpu")
    message = str(err.value)
    assert DROPPED in message and "1 missing" in message and "ignore_mismatched_weights" in message


def test_unexpected_weight_inside_the_encoder_is_an_error(tiny_bert_dir, tmp_path):
    folder = _saved_model(tiny_bert_dir, tmp_path / "model")
    _rewrite_weights(folder, add={"encoder.layer.9.output.dense.weight": torch.zeros(2, 2)})
    with pytest.raises(SentforgeError, match=r"1 unexpected.*encoder\.layer\.9\.output\.dense\.weight"):
        SentenceTransformer(folder, device="cpu")


def test_unexpected_weight_outside_any_known_head_is_an_error(tiny_bert_dir, tmp_path):
    folder = _saved_model(tiny_bert_dir, tmp_path / "model")
    _rewrite_weights(folder, add={"my_adapter.weight": torch.zeros(2, 2)})
    with pytest.raises(SentforgeError, match=r"1 unexpected \(my_adapter\.weight\).*another model or config"):
        SentenceTransformer(folder, device="cpu")
    assert SentenceTransformer(folder, device="cpu", model_kwargs=SWITCH).encode("gold").shape == (32,)


@pytest.mark.parametrize("native", ["1", "0"])
def test_a_weight_of_another_shape_is_one_clear_error(tiny_bert_dir, tmp_path, monkeypatch, native):
    from sentforge import CrossEncoder

    monkeypatch.setenv("SENTFORGE_NATIVE_ENCODER", native)
    folder = _saved_model(tiny_bert_dir, tmp_path / "model")
    name = "encoder.layer.0.intermediate.dense.bias"
    _rewrite_weights(folder, add={name: torch.zeros(5)})
    with pytest.raises(SentforgeError, match=rf"1 tensor\(s\) have another shape \({name}: file \(5,\), model "
                                             r"\(\d+,\)\).*ignore_mismatched_weights"):
        SentenceTransformer(folder, device="cpu")
    loaded = SentenceTransformer(folder, device="cpu", model_kwargs=SWITCH)
    assert loaded.encode("gold").shape == (32,)
    plain = _copy_checkpoint(tiny_bert_dir, tmp_path / "plain")
    _rewrite_weights(plain, add={name: torch.zeros(5)})
    with pytest.raises(SentforgeError, match=rf"{name}: file \(5,\).*ignore_mismatched_sizes"):
        CrossEncoder(plain, device="cpu")


def test_the_cli_says_one_line_for_a_weight_of_another_shape(tiny_bert_dir, tmp_path):
    from typer.testing import CliRunner

    from sentforge.cli import app

    folder = _saved_model(tiny_bert_dir, tmp_path / "model")
    _rewrite_weights(folder, add={"embeddings.word_embeddings.weight": torch.zeros(7, 32)})
    result = CliRunner().invoke(app, ["info", folder])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "embeddings.word_embeddings.weight: file (7, 32)" in " ".join(result.output.split())


def test_plain_checkpoint_with_missing_weight_is_an_error(tiny_bert_dir, tmp_path):
    folder = _copy_checkpoint(tiny_bert_dir, tmp_path / "plain")
    _rewrite_weights(folder, drop=(DROPPED, "encoder.layer.1.output.dense.bias"))
    with pytest.raises(SentforgeError, match="2 missing"):
        SentenceTransformer(folder, device="cpu")
    with pytest.raises(SentforgeError, match="2 missing"):
        Transformer(folder)


def test_many_missing_weights_are_summarised(tiny_bert_dir, tmp_path):
    folder = _copy_checkpoint(tiny_bert_dir, tmp_path / "plain")
    layer = [k for k in load_file(os.path.join(folder, "model.safetensors")) if k.startswith("encoder.layer.1.")]
    _rewrite_weights(folder, drop=tuple(layer))
    with pytest.raises(SentforgeError, match=rf"{len(layer)} missing .* and {len(layer) - 5} more"):
        SentenceTransformer(folder, device="cpu")


@pytest.mark.parametrize("native", ["1", "0"])
def test_opting_in_loads_the_mismatched_checkpoint(tiny_bert_dir, tmp_path, monkeypatch, native):
    monkeypatch.setenv("SENTFORGE_NATIVE_ENCODER", native)
    folder = _saved_model(tiny_bert_dir, tmp_path / "model")
    _rewrite_weights(folder, drop=(DROPPED,))
    model = SentenceTransformer(folder, device="cpu", model_kwargs=SWITCH)
    assert model.encode("gold").shape == (32,)
    assert Transformer(folder, model_args=SWITCH).get_word_embedding_dimension() == 32


def test_complete_checkpoint_still_loads_natively_with_the_switch(tiny_bert_dir, tmp_path):
    folder = _saved_model(tiny_bert_dir, tmp_path / "model")
    assert SentenceTransformer(folder, device="cpu", model_kwargs=SWITCH)[0]._native is not None


def test_checkpoint_without_pooler_or_with_a_task_head_loads(tiny_bert_dir, tmp_path):
    from transformers import BertConfig, BertForMaskedLM

    config = BertConfig.from_pretrained(tiny_bert_dir)
    reference = SentenceTransformer(tiny_bert_dir, device="cpu").encode(["the cat sat"])
    no_pooler = _copy_checkpoint(tiny_bert_dir, tmp_path / "no_pooler")
    _rewrite_weights(no_pooler, drop=("pooler.dense.weight", "pooler.dense.bias"))
    assert np.abs(SentenceTransformer(no_pooler, device="cpu").encode(["the cat sat"]) - reference).max() < 1e-5
    with_head = _copy_checkpoint(tiny_bert_dir, tmp_path / "with_head")
    os.remove(os.path.join(with_head, "model.safetensors"))
    torch.manual_seed(0)
    BertForMaskedLM(config).save_pretrained(with_head)
    assert SentenceTransformer(with_head, device="cpu").encode("gold").shape == (32,)


@pytest.mark.parametrize("native", ["1", "0"])
def test_packaged_minilm_loads_without_error(minilm_path, monkeypatch, native):
    monkeypatch.setenv("SENTFORGE_NATIVE_ENCODER", native)
    model = SentenceTransformer(minilm_path, device="cpu")
    assert model.encode("gold").shape == (384,)


# -- modules.json may not leave the model folder ------------------------------------------------
def _point_pooling_at(folder: str, path: str) -> None:
    modules_file = os.path.join(folder, "modules.json")
    entries = json.loads(open(modules_file).read())
    entries[1]["path"] = path
    with open(modules_file, "w") as f:
        json.dump(entries, f)


@pytest.mark.parametrize("kind", ["relative", "absolute"])
def test_module_path_outside_the_folder_is_refused(tiny_bert_dir, tmp_path, kind):
    folder = _saved_model(tiny_bert_dir, tmp_path / "model")
    shutil.copytree(os.path.join(folder, "1_Pooling"), str(tmp_path / "elsewhere"))
    path = "../elsewhere" if kind == "relative" else str(tmp_path / "elsewhere")
    _point_pooling_at(folder, path)
    with pytest.raises(SentforgeError, match="outside") as err:
        SentenceTransformer(folder, device="cpu")
    assert path in str(err.value)


def test_module_symlink_resolving_outside_the_folder_is_refused(tiny_bert_dir, tmp_path):
    folder = _saved_model(tiny_bert_dir, tmp_path / "model")
    shutil.move(os.path.join(folder, "1_Pooling"), str(tmp_path / "elsewhere"))
    os.symlink(str(tmp_path / "elsewhere"), os.path.join(folder, "1_Pooling"))
    with pytest.raises(SentforgeError, match="1_Pooling"):
        SentenceTransformer(folder, device="cpu")


def test_module_symlink_inside_the_folder_is_fine(tiny_bert_dir, tmp_path):
    folder = _saved_model(tiny_bert_dir, tmp_path / "model")
    os.rename(os.path.join(folder, "1_Pooling"), os.path.join(folder, "pooling_real"))
    os.symlink("pooling_real", os.path.join(folder, "1_Pooling"))
    assert SentenceTransformer(folder, device="cpu").encode("gold").shape == (32,)


# -- saving: all or nothing, no leftovers -------------------------------------------------------
def test_saving_onto_an_existing_model_leaves_only_the_new_model(tiny_bert_dir, tmp_path):
    target = tmp_path / "out"
    _tiny_model(tiny_bert_dir, [Normalize()]).save(str(target))
    dense = Dense(32, 8)
    _tiny_model(tiny_bert_dir, [dense]).save(str(target))
    fresh = tmp_path / "fresh"
    _tiny_model(tiny_bert_dir, [dense]).save(str(fresh))
    assert sorted(os.listdir(target)) == sorted(os.listdir(fresh))  # the old 2_Normalize is gone
    assert _hidden(target) == [] and _hidden(tmp_path) == []
    assert json.loads((target / "modules.json").read_text())[2]["path"] == "2_Dense"


def test_saving_into_a_run_folder_keeps_unrelated_files(tiny_bert_dir, tmp_path):
    target = tmp_path / "run"
    (target / "checkpoint-5").mkdir(parents=True)
    (target / "checkpoint-5" / "keep.txt").write_text("x")
    (target / "notes.txt").write_text("mine")
    _tiny_model(tiny_bert_dir).save(str(target))
    _tiny_model(tiny_bert_dir).save(str(target))
    assert (target / "checkpoint-5" / "keep.txt").read_text() == "x" and (target / "notes.txt").read_text() == "mine"
    assert (target / "modules.json").exists() and _hidden(target) == [] and _hidden(tmp_path) == []


def test_a_save_that_raises_leaves_the_old_model_intact(tiny_bert_dir, tmp_path, monkeypatch):
    target = tmp_path / "out"
    _tiny_model(tiny_bert_dir).save(str(target))
    before = _snapshot(target)

    def broken_save(self, path):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pooling_module.Pooling, "save", broken_save)
    with pytest.raises(RuntimeError, match="disk full"):
        _tiny_model(tiny_bert_dir, [Normalize()]).save(str(target))
    assert _snapshot(target) == before and _hidden(target) == [] and _hidden(tmp_path) == []
    with pytest.raises(RuntimeError, match="disk full"):
        _tiny_model(tiny_bert_dir).save(str(tmp_path / "new"))
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_a_save_that_fails_while_moving_in_rolls_back(tiny_bert_dir, tmp_path, monkeypatch):
    target = tmp_path / "out"
    _tiny_model(tiny_bert_dir).save(str(target))
    before = _snapshot(target)
    real_replace = os.replace
    weights = str(target / "model.safetensors")
    failed = []

    def flaky_replace(src, dst, *args, **kwargs):
        if os.path.abspath(str(dst)) == weights and not failed:
            failed.append(src)
            raise OSError(28, "No space left on device")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(OSError, match="No space left"):
        _tiny_model(tiny_bert_dir, [Normalize()]).save(str(target))
    assert failed and _snapshot(target) == before
    assert _hidden(target) == [] and _hidden(tmp_path) == []


def test_saving_through_a_symlink_onto_another_filesystem(tiny_bert_dir, tmp_path):
    other = "/dev/shm"
    if not os.path.isdir(other) or os.stat(other).st_dev == os.stat(str(tmp_path)).st_dev:
        pytest.skip("needs a second filesystem at /dev/shm")
    real = os.path.join(other, f"sentforge-test-{os.getpid()}-{tmp_path.name}")
    os.makedirs(real)
    try:
        os.symlink(real, str(tmp_path / "out"))
        _tiny_model(tiny_bert_dir).save(str(tmp_path / "out"))
        _tiny_model(tiny_bert_dir).save(str(tmp_path / "out"))
        assert _hidden(tmp_path) == [] and _hidden(real) == []
        assert os.path.islink(str(tmp_path / "out")) and os.path.exists(os.path.join(real, "modules.json"))
        assert SentenceTransformer(str(tmp_path / "out"), device="cpu").encode("gold").shape == (32,)
    finally:
        shutil.rmtree(real, ignore_errors=True)


def test_saving_onto_a_file_is_a_clear_error(tiny_bert_dir, tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(SentforgeError, match="not a folder"):
        _tiny_model(tiny_bert_dir).save(str(tmp_path / "afile"))
    assert (tmp_path / "afile").read_text() == "x" and _hidden(tmp_path) == []


# -- saved files follow the umask ---------------------------------------------------------------
def _modes(folder) -> tuple[set[int], set[int]]:
    dirs, files = {stat.S_IMODE(os.stat(str(folder)).st_mode)}, set()
    for root, dirnames, filenames in os.walk(str(folder)):
        dirs |= {stat.S_IMODE(os.stat(os.path.join(root, d)).st_mode) for d in dirnames}
        files |= {stat.S_IMODE(os.stat(os.path.join(root, f)).st_mode) for f in filenames}
    return dirs, files


@pytest.mark.parametrize("umask, dir_mode, file_mode", [(0o022, 0o755, 0o644), (0o077, 0o700, 0o600)])
def test_saved_files_follow_the_umask(tiny_bert_dir, tmp_path, umask, dir_mode, file_mode):
    model = _tiny_model(tiny_bert_dir, [Normalize()])
    old = os.umask(umask)
    try:
        model.save(str(tmp_path / "new"))
        (tmp_path / "existing").mkdir()
        model.save(str(tmp_path / "existing"))
    finally:
        os.umask(old)
    for folder in ("new", "existing"):
        assert _modes(tmp_path / folder) == ({dir_mode}, {file_mode}), folder


@pytest.mark.parametrize("umask, file_mode", [(0o022, 0o644), (0o077, 0o600)])
def test_files_written_after_a_save_follow_the_umask(tmp_path, umask, file_mode):
    """Cards regenerated by `sentforge card`, reranker fusion weights and metrics: one atomic writer."""
    from sentforge.format import write_file_atomically

    old = os.umask(umask)
    try:
        write_file_atomically(tmp_path / "README.md", b"new card")
        write_file_atomically(str(tmp_path / "README.md"), b"newer card")  # replaces, same mode
    finally:
        os.umask(old)
    assert (tmp_path / "README.md").read_bytes() == b"newer card"
    assert stat.S_IMODE(os.stat(tmp_path / "README.md").st_mode) == file_mode
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]  # no temporary left behind
