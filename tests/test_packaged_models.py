"""Packaged models: the split all-mpnet-base-v2 zip is assembled once, hash-checked, and reused."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from sentforge import SentforgeError, packaged_models


def _split_zip(tmp_path, weights: bytes) -> list[str]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("all-mpnet-base-v2/model.safetensors", weights)
        zf.writestr("all-mpnet-base-v2/config.json", "{}")
    data = buffer.getvalue()
    size = len(data) // 5 + 1
    parts = []
    for i in range(5):
        path = tmp_path / f"all-mpnet-base-v2.zip.{i + 1:03d}"
        path.write_bytes(data[i * size : (i + 1) * size])
        parts.append(str(path))
    return parts


def test_split_zip_is_assembled_checked_and_cached(tmp_path, monkeypatch):
    weights = b"weights" * 1000
    parts = _split_zip(tmp_path, weights)
    monkeypatch.setenv("SENTFORGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(packaged_models, "MPNET_SHA256", hashlib.sha256(weights).hexdigest())
    monkeypatch.setattr(packaged_models, "_mpnet_parts", lambda: parts)
    folder = packaged_models.packaged_model_dir("sentence-transformers/all-mpnet-base-v2")
    assert (tmp_path / "cache" / "all-mpnet-base-v2" / "model.safetensors").read_bytes() == weights
    monkeypatch.setattr(packaged_models, "_mpnet_parts", lambda: None)  # cached now: parts not needed
    assert packaged_models.packaged_model_dir("all-mpnet-base-v2") == folder


def test_wrong_hash_is_refused(tmp_path, monkeypatch):
    parts = _split_zip(tmp_path, b"tampered")
    monkeypatch.setenv("SENTFORGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(packaged_models, "_mpnet_parts", lambda: parts)
    with pytest.raises(SentforgeError, match="sha256"):
        packaged_models.packaged_model_dir("all-mpnet-base-v2")
    assert not (tmp_path / "cache" / "all-mpnet-base-v2").exists()


def test_unknown_names_are_not_packaged():
    assert packaged_models.packaged_model_dir("bert-base-uncased") is None
