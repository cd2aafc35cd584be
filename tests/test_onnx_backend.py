"""``backend="onnx"``: the encoder exported once with torch.onnx into the model folder's ``onnx/``, run by
onnxruntime; embeddings within 1e-5 of the torch backend (fp32); the int8 export; clear errors."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from sentforge import SentenceTransformer
from sentforge.errors import SentforgeError

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from sentforge.backends import export_dynamic_quantized_onnx_model  # noqa: E402

SENTENCES = ["a", "the court ruled on the claim", "mining permits for gold and coal in the north of the country",
             "x y", "an owner of land"] * 7


@pytest.fixture()
def model_dir(tiny_bert_dir, tmp_path) -> str:
    folder = tmp_path / "model"
    shutil.copytree(tiny_bert_dir, folder)
    return str(folder)


@pytest.mark.parametrize("batch_size", [1, 4, 32])
def test_onnx_embeddings_equal_torch_within_1e5(model_dir, batch_size):
    torch_model = SentenceTransformer(model_dir, device="cpu")
    onnx_model = SentenceTransformer(model_dir, device="cpu", backend="onnx")
    assert onnx_model.get_backend() == "onnx" and torch_model.get_backend() == "torch"
    expected = torch_model.encode(SENTENCES, batch_size=batch_size)
    got = onnx_model.encode(SENTENCES, batch_size=batch_size)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_export_happens_once_into_the_model_folder_and_save_keeps_it(model_dir, tmp_path):
    from pathlib import Path

    SentenceTransformer(model_dir, device="cpu", backend="onnx")
    graph = Path(model_dir) / "onnx" / "model.onnx"
    assert graph.is_file()
    stamp = graph.stat().st_mtime_ns
    again = SentenceTransformer(model_dir, device="cpu", backend="onnx")
    assert graph.stat().st_mtime_ns == stamp  # read, not exported again
    again.save(str(tmp_path / "saved"))
    assert (tmp_path / "saved" / "onnx" / "model.onnx").is_file()
    reloaded = SentenceTransformer(str(tmp_path / "saved"), device="cpu", backend="onnx")
    np.testing.assert_allclose(reloaded.encode(SENTENCES[:5]), again.encode(SENTENCES[:5]), atol=1e-6)


def test_int8_export_and_file_name(model_dir):
    from pathlib import Path

    fp32 = SentenceTransformer(model_dir, device="cpu", backend="onnx")
    path = export_dynamic_quantized_onnx_model(fp32, "avx512_vnni", model_dir)
    assert Path(path) == Path(model_dir) / "onnx" / "model_qint8_avx512_vnni.onnx"
    assert Path(path).stat().st_size < (Path(model_dir) / "onnx" / "model.onnx").stat().st_size
    int8 = SentenceTransformer(model_dir, device="cpu", backend="onnx",
                               model_kwargs={"file_name": "model_qint8_avx512_vnni.onnx"})
    assert int8[0].onnx.path == Path(path)
    expected, got = fp32.encode(SENTENCES), int8.encode(SENTENCES)
    cosines = (expected * got).sum(axis=1) / np.linalg.norm(expected, axis=1) / np.linalg.norm(got, axis=1)
    assert cosines.min() > 0.98
    assert not np.allclose(expected, got, atol=1e-6)  # really the int8 graph


@pytest.mark.parametrize("level", ["O1", "O2", "O3"])
def test_optimized_export_keeps_the_embeddings(model_dir, level):
    from pathlib import Path

    import sentforge

    fp32 = SentenceTransformer(model_dir, device="cpu", backend="onnx")
    path = sentforge.export_optimized_onnx_model(fp32, level, model_dir)
    assert Path(path) == Path(model_dir) / "onnx" / f"model_{level}.onnx"
    optimized = SentenceTransformer(model_dir, device="cpu", backend="onnx", model_kwargs={"file_name": path.name})
    tolerance = 1e-3 if level == "O3" else 1e-5  # O3 approximates GELU with tanh
    np.testing.assert_allclose(optimized.encode(SENTENCES), fp32.encode(SENTENCES), rtol=0, atol=tolerance)


def test_onnx_model_refuses_training(model_dir):
    model = SentenceTransformer(model_dir, device="cpu", backend="onnx")
    model.train()
    with pytest.raises(SentforgeError, match="inference only"):
        model(model.tokenize(["a b c"]))


def test_bad_onnx_options_are_clear_errors(model_dir):
    with pytest.raises(SentforgeError, match="No ONNX file 'missing.onnx'"):
        SentenceTransformer(model_dir, device="cpu", backend="onnx", model_kwargs={"file_name": "missing.onnx"})
    with pytest.raises(SentforgeError, match="has no NoSuchExecutionProvider"):
        SentenceTransformer(model_dir, device="cpu", backend="onnx", model_kwargs={"provider": "NoSuchExecutionProvider"})
    with pytest.raises(SentforgeError, match="openvino"):
        SentenceTransformer(model_dir, device="cpu", backend="openvino")
    with pytest.raises(SentforgeError, match="quantization_config must be one of"):
        export_dynamic_quantized_onnx_model(SentenceTransformer(model_dir, device="cpu"), "avx9000", model_dir)


@pytest.mark.integration
def test_minilm_onnx_equals_torch_on_stsb(minilm_path, shared_data, tmp_path):
    from sentforge.data.shared_sets import load_stsb

    folder = str(shutil.copytree(minilm_path, tmp_path / "minilm"))  # the export writes into the model folder
    sentences = list(load_stsb("test")["sentence1"])[:300]
    torch_model = SentenceTransformer(folder, device="cpu")
    onnx_model = SentenceTransformer(folder, device="cpu", backend="onnx")
    np.testing.assert_allclose(onnx_model.encode(sentences, batch_size=32), torch_model.encode(sentences, batch_size=32),
                               rtol=0, atol=1e-5)


@pytest.mark.integration
def test_an_installed_models_onnx_export_goes_to_the_cache_not_site_packages(minilm_path, tmp_path, monkeypatch):
    if os.path.isdir(os.path.join(minilm_path, "onnx")):
        pytest.skip("this installed model already ships an onnx/ folder")
    monkeypatch.setenv("SENTFORGE_CACHE", str(tmp_path / "cache"))
    first = SentenceTransformer(minilm_path, device="cpu", backend="onnx")
    graphs = list((tmp_path / "cache" / "onnx").glob("*/model.onnx"))
    assert len(graphs) == 1 and not os.path.exists(os.path.join(minilm_path, "onnx"))
    made = graphs[0].stat().st_mtime_ns
    again = SentenceTransformer(minilm_path, device="cpu", backend="onnx")  # found in the cache, not exported again
    assert graphs[0].stat().st_mtime_ns == made
    np.testing.assert_allclose(again.encode(["a cat"]), first.encode(["a cat"]), rtol=0, atol=1e-6)
