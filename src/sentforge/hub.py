"""Resolve a model name to a local folder: a path, a packaged model, the hub cache, or a download."""

from __future__ import annotations

import os

from .errors import SentforgeError
from .packaged_models import install_hint, packaged_model_dir


DEFAULT_ORGANIZATION = "sentence-transformers"


def hub_repo_id(name: str, organization: str | None = DEFAULT_ORGANIZATION) -> str:
    """The hub id sentence-transformers asks for: a name without ``/`` (``all-MiniLM-L6-v2``) gets the
    ``organization/`` prefix, except the original transformers ids (``bert-base-uncased``,
    ``roberta-base``, ...), which are used as given, like any id with ``/``."""
    from .util.original_models import ORIGINAL_TRANSFORMER_MODELS

    if organization is None or "/" in name or name.lower() in ORIGINAL_TRANSFORMER_MODELS:
        return name
    return f"{organization}/{name}"


def resolve_model_path(
    name: str,
    cache_folder: str | None = None,
    revision: str | None = None,
    token: str | bool | None = None,
    local_files_only: bool = False,
    organization: str | None = DEFAULT_ORGANIZATION,
) -> str:
    """Return a local folder holding the model ``name``; one clear error listing what was tried.

    A hub id is resolved as ``hub_repo_id(name, organization)`` names it, with no other guess."""
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
    if install_hint(name):
        tried.append(install_hint(name))
    looks_like_path = name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name
    if not looks_like_path:
        repo_id = hub_repo_id(name, organization)
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
