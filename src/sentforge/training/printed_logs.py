"""Let a progress display of our own replace transformers' printed log dicts and tqdm bar."""

from __future__ import annotations

from typing import Any


def drop_printed_logs(trainer: Any) -> Any:
    """Remove transformers' PrinterCallback and ProgressCallback from ``trainer``; returns it."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    return trainer
