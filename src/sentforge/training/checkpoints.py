"""Atomic checkpoints: a checkpoint is written into a hidden staging folder and renamed into place,
so a run killed mid-save never leaves a half-written `checkpoint-N` that resume would pick up."""

from __future__ import annotations

import os
import re
import shutil

import torch.distributed as dist

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


def staging_folder(run_dir: str, step: int) -> str:
    return os.path.join(run_dir, f".staging-checkpoint-{step}")


def publish(staging: str, final: str) -> None:
    """Move a finished staging folder to its final name in one rename."""
    if os.path.exists(final):
        trash = final + ".replaced"
        shutil.rmtree(trash, ignore_errors=True)
        os.replace(final, trash)
        os.replace(staging, final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(staging, final)


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
