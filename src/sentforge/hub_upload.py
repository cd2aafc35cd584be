"""``SentenceTransformer.push_to_hub``: save the model to a temporary folder and upload it.

Same steps as sentence-transformers: ``HfApi.create_repo``, ``create_branch`` for a ``revision``, then
``upload_folder``; returns the commit URL (the pull-request URL with ``create_pr=True``). sentforge's own
extra files (``training_curve.png``, ``training_run.json``) stay local unless asked for.
"""

from __future__ import annotations

import logging
import os
import tempfile
from typing import TYPE_CHECKING, Any

from huggingface_hub import HfApi

from .card.render import TRAINING_FILES_NOTE

if TYPE_CHECKING:
    from .model import SentenceTransformer

logger = logging.getLogger(__name__)
TRAINING_FILES = ("training_curve.png", "training_run.json")
CURVE_LINE = "![Training curve](training_curve.png)"


def push_to_hub(
    model: "SentenceTransformer",
    repo_id: str,
    token: str | None = None,
    private: bool | None = None,
    safe_serialization: bool = True,
    commit_message: str | None = None,
    local_model_path: str | None = None,
    exist_ok: bool = False,
    replace_model_card: bool = False,
    train_datasets: list[str] | None = None,
    revision: str | None = None,
    create_pr: bool = False,
    include_training_files: bool = False,
) -> str:
    """Upload ``model`` (or the folder ``local_model_path``) to the Hub repository ``repo_id``; see
    ``SentenceTransformer.push_to_hub``."""
    if not isinstance(repo_id, str) or not repo_id.strip():
        raise ValueError(f"repo_id must be a repository name such as 'user/my-model', got {repo_id!r}.")
    if local_model_path is not None and not os.path.isdir(local_model_path):
        raise ValueError(f"local_model_path {local_model_path!r} is not a folder.")
    if not safe_serialization:
        logger.warning("safe_serialization=False is ignored: sentforge always saves weights as model.safetensors.")
    api = HfApi(token=token)
    repo_id = api.create_repo(repo_id=repo_id, private=private, repo_type=None, exist_ok=exist_ok or create_pr).repo_id
    if hasattr(model.model_card_data, "model_id"):
        model.model_card_data.model_id = repo_id
    if revision is not None:
        api.create_branch(repo_id=repo_id, branch=revision, exist_ok=True)
    if commit_message is None:
        commit_message = f"Add new {type(model).__name__} model"
    upload = {
        "repo_id": repo_id,
        "commit_message": commit_message,
        "commit_description": _pull_request_description(model, repo_id) if create_pr else None,
        "create_pr": create_pr,
        "revision": revision,
        "ignore_patterns": None if include_training_files else list(TRAINING_FILES),
    }
    if local_model_path:
        result = api.upload_folder(folder_path=local_model_path, **upload)
    else:
        with tempfile.TemporaryDirectory() as folder:
            write_card = replace_model_card or not _hub_has_card(api, repo_id, revision)
            model.save(folder, model_name=repo_id, create_model_card=write_card)
            if not include_training_files:
                _drop_training_files(folder)
            result = api.upload_folder(folder_path=folder, **upload)
    if create_pr:
        logger.info("A pull request has been created at %s", result.pr_url)
        return result.pr_url
    return result.commit_url


def _hub_has_card(api: Any, repo_id: str, revision: str | None) -> bool:
    """Whether the repository already has a README.md; when that cannot be checked, assume it has one
    (an existing card is never overwritten by accident)."""
    try:
        return bool(api.file_exists(repo_id, "README.md", revision=revision))
    except Exception as err:  # noqa: BLE001 - any hub failure means "could not check"
        logger.warning(
            "Could not check for an existing README.md in %r (%s: %s); the model card is not uploaded.",
            repo_id, type(err).__name__, err,
        )
        return True


def _drop_training_files(folder: str) -> None:
    """Remove the training files from a staged upload, and the card's lines about them."""
    for name in TRAINING_FILES:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            os.remove(path)
    card = os.path.join(folder, "README.md")
    if os.path.exists(card):
        with open(card, encoding="utf-8") as handle:
            text = handle.read()
        kept = text
        for line in (CURVE_LINE, TRAINING_FILES_NOTE):
            kept = kept.replace(line + "\n\n", "").replace(line + "\n", "").replace(line, "")
        if kept != text:
            with open(card, "w", encoding="utf-8") as handle:
                handle.write(kept)


def _pull_request_description(model: Any, repo_id: str) -> str:
    name = type(model).__name__
    return f"""\
Hello!

This pull request has been automatically generated to add {name} compatibility.

## Full Model Architecture:
```
{model}
```

## Testing this pull request
You can test this pull request before merging by loading the model from this PR with the `revision` argument:
```python
from sentence_transformers import {name}

# NOTE: Update this to the number of your pull request
pr_number = 2
model = {name}("{repo_id}", revision=f"refs/pr/{{pr_number}}")

# Verify that everything works as expected
embeddings = model.encode(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
print(embeddings.shape)
print(model.similarity(embeddings, embeddings))
```
"""

