"""``push_to_hub`` / ``save_to_hub`` on SentenceTransformer; the upload code (and huggingface_hub) loads
only when they are called, so ``import sentforge`` stays fast."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


class HubUploadMixin:
    """Adds ``push_to_hub`` and its deprecated name ``save_to_hub`` to SentenceTransformer."""

    def push_to_hub(
        self,
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
        """Upload the model to the Hugging Face Hub repository ``repo_id`` (created if missing; an existing one
        needs ``exist_ok=True``) and return the commit URL. ``revision`` pushes to that branch (created if
        missing), ``create_pr=True`` opens a pull request and returns its URL. ``local_model_path`` uploads that
        folder instead of saving the model. An existing README.md on the Hub is kept unless
        ``replace_model_card=True``. ``training_curve.png`` and ``training_run.json`` are uploaded only with
        ``include_training_files=True``. ``train_datasets`` is accepted and ignored (as in sentence-transformers
        6); weights are always safetensors."""
        from .hub_upload import push_to_hub

        return push_to_hub(
            self, repo_id, token=token, private=private, safe_serialization=safe_serialization,
            commit_message=commit_message, local_model_path=local_model_path, exist_ok=exist_ok,
            replace_model_card=replace_model_card, train_datasets=train_datasets, revision=revision,
            create_pr=create_pr, include_training_files=include_training_files,
        )

    def save_to_hub(
        self,
        repo_id: str,
        organization: str | None = None,
        token: str | None = None,
        private: bool | None = None,
        safe_serialization: bool = True,
        commit_message: str = "Add new model.",
        local_model_path: str | None = None,
        exist_ok: bool = False,
        replace_model_card: bool = False,
        train_datasets: list[str] | None = None,
    ) -> str:
        """Deprecated name of ``push_to_hub``; ``organization`` is prefixed to a ``repo_id`` without one."""
        logger.warning("save_to_hub is deprecated: use push_to_hub.")
        if organization:
            if "/" not in repo_id:
                repo_id = f"{organization}/{repo_id}"
            elif repo_id.split("/")[0] != organization:
                raise ValueError(
                    f"organization {organization!r} does not match the repo_id {repo_id!r}: pass only repo_id."
                )
        return self.push_to_hub(
            repo_id, token=token, private=private, safe_serialization=safe_serialization,
            commit_message=commit_message, local_model_path=local_model_path, exist_ok=exist_ok,
            replace_model_card=replace_model_card, train_datasets=train_datasets,
        )
