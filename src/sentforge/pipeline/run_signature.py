"""What a run trains on, written beside its checkpoints, so that --resume continues the same run.

A checkpoint holds weights and the trainer's state, not the data or the loss. Resumed with another
file or another loss, a run would go on training something else from the old weights, and compare
the new evaluator's scores with the old one's when it keeps the best step. ``run_signature`` records
the data files (sha256), the columns and task, the loss, the evaluator and the base model; --resume
refuses a command whose signature differs and says what changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..errors import SentforgeError
from .run_folder import CHECKPOINT_FOLDER

SIGNATURE_FILE = "run_signature.json"
_READ_CHUNK = 1 << 20


def run_signature(plan: Any, data: Any, loss: Any, evaluator: Any) -> dict[str, Any]:
    """The parts of a run that a resumed run must share with it."""
    return {
        "base_model": str(plan.base),
        "train_data": _source_id(plan.train),
        "eval_data": _source_id(plan.eval) if plan.eval else None,
        "columns": list(data.train.column_names),
        "task": data.roles.task,
        "loss": type(loss).__name__,
        "evaluator": type(evaluator).__name__ if evaluator is not None else None,
    }


def write_signature(output: str, signature: dict[str, Any]) -> None:
    """Keep the signature in the run's checkpoint folder (written atomically)."""
    folder = Path(output) / CHECKPOINT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".{SIGNATURE_FILE}.partial"
    staging.write_text(json.dumps(signature, indent=2), encoding="utf-8")
    os.replace(staging, folder / SIGNATURE_FILE)


def check_same_run(output: str, signature: dict[str, Any]) -> None:
    """--resume: refuse when this command would train something else than the run it continues."""
    path = Path(output) / CHECKPOINT_FOLDER / SIGNATURE_FILE
    if not path.is_file():
        return  # a run from before signatures were kept: nothing to compare
    saved = json.loads(path.read_text(encoding="utf-8"))
    changed = [f"{key}: {_shown(saved.get(key))} then, {_shown(value)} now"
               for key, value in signature.items() if saved.get(key) != value]
    if changed:
        raise SentforgeError(
            f"--resume would continue the run in '{output}' with other inputs than it started with ("
            + "; ".join(changed) + "). Resume with the command that started it, or train anew with --overwrite "
            "(or another --output)."
        )


def _source_id(source: str) -> str:
    """A data file as its sha256 (its contents, wherever it lies); a data set name as itself."""
    path = Path(source)
    if not path.is_file():
        return str(source)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_READ_CHUNK), b""):
            digest.update(chunk)
    return f"{path.name} (sha256 {digest.hexdigest()[:16]})"


def _shown(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
