"""Checkpoints resume can trust: only a `checkpoint-N` whose trainer state (written last) is there counts,
and a save over an older `checkpoint-N` starts from an empty folder."""

from __future__ import annotations

import os
import re
import shutil

from typing import Any

import torch.distributed as dist
from transformers import TrainerCallback

CHECKPOINT_PATTERN = re.compile(r"^checkpoint-(\d+)$")
COMPLETE_MARKER = "trainer_state.json"


def last_complete_checkpoint(folder: str) -> str | None:
    """Newest `checkpoint-N` in folder that holds its trainer state (written last)."""
    if not os.path.isdir(folder):
        return None
    found = []
    for name in os.listdir(folder):
        match = CHECKPOINT_PATTERN.match(name)
        path = os.path.join(folder, name)
        if match and os.path.exists(os.path.join(path, COMPLETE_MARKER)):
            found.append((int(match.group(1)), path))
    return max(found)[1] if found else None


def is_checkpoint_folder(path: str) -> bool:
    """Whether ``path`` is a ``checkpoint-N`` folder (a save there skips the model card)."""
    return bool(CHECKPOINT_PATTERN.match(os.path.basename(os.path.normpath(path))))


class CheckpointGuard(TrainerCallback):
    """Keeps every checkpoint resume can pick whole.

    transformers writes a checkpoint's files in turn and its trainer state last; the model itself is
    written all at once (``saving.py``), and resume takes only a folder that holds the trainer state.
    A save that died half-way therefore leaves a folder resume ignores. The one gap is a save over an
    older ``checkpoint-N`` (training again into the same folder): it would mix new files with the old
    trainer state, so that folder is removed just before the new save begins.
    """

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._clear_target(args, state, control)

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._clear_target(args, state, control)

    @staticmethod
    def _clear_target(args: Any, state: Any, control: Any) -> None:
        if not (control.should_save and args.should_save):
            return
        target = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
        if os.path.isdir(target):
            shutil.rmtree(target)


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
