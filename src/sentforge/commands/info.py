"""`sentforge info`: what a model is (architecture, length, dimension, similarity, prompts) and what its card says."""

import math
from pathlib import Path
from typing import Any

import typer

from . import console as out
from .console import user_errors
from ..pipeline.models import load_model

_SHOWN_METRICS = 6


@user_errors
def info(model: str = typer.Argument(..., help="Model folder or id.")) -> None:
    """Show a model's architecture, sizes, similarity function, prompts and card summary."""
    out.quiet_libraries()
    loaded = load_model(model)
    out.say(repr(loaded))
    out.say(f"Max sequence length: {loaded.max_seq_length} tokens")
    out.say(f"Embedding dimension: {loaded.get_sentence_embedding_dimension()}")
    out.say(f"Similarity function: {loaded.similarity_fn_name}")
    prompts = getattr(loaded, "prompts", None) or {}
    if prompts:
        default = getattr(loaded, "default_prompt_name", None)
        out.say("Prompts: " + "; ".join(f"{name}{' (default)' if name == default else ''}: {text!r}"
                                        for name, text in prompts.items()))
    else:
        out.say("Prompts: none")
    card = _model_folder(model) / "README.md"
    if card.is_file():
        for line in card_summary(card.read_text(encoding="utf-8", errors="replace")):
            out.say(line)
    else:
        out.say("Model card: none")


def _model_folder(model: str) -> Path:
    """The local folder the model was loaded from (a packaged or cached model included)."""
    from ..hub import resolve_model_path

    try:
        return Path(resolve_model_path(model))
    except Exception:  # noqa: BLE001 - the model loaded already; without a folder there is simply no card
        return Path(model)


def card_summary(text: str) -> list[str]:
    """A few lines from a card's YAML header: base model, loss, training rows, headline metrics."""
    from ..recipes.card_text import split_front_matter

    try:
        front, _ = split_front_matter(text)
    except Exception:  # noqa: BLE001 - a broken card header must not break `info`
        return ["Model card: present, but its YAML header cannot be read."]
    tags = [tag for tag in front.get("tags") or [] if isinstance(tag, str)]
    lines = ["Model card: README.md"]
    if front.get("base_model"):
        lines.append(f"  Base model: {front['base_model']}")
    for prefix, label in (("loss:", "Loss"), ("dataset_size:", "Training rows")):
        values = [tag[len(prefix):] for tag in tags if tag.startswith(prefix)]
        if values:
            lines.append(f"  {label}: {', '.join(values)}")
    for result in _results(front):
        lines.append(f"  {result}")
    return lines


def _results(front: dict[str, Any]) -> list[str]:
    lines = []
    for entry in front.get("model-index") or []:
        for result in (entry or {}).get("results") or []:
            dataset = ((result or {}).get("dataset") or {}).get("name", "")
            metrics = [m for m in (result or {}).get("metrics") or [] if isinstance(m, dict)][:_SHOWN_METRICS]
            shown = ", ".join(f"{m.get('type')} {_value(m.get('value'))}" for m in metrics)
            lines.append(f"Evaluation on {dataset}: {shown}")
    return lines


def _value(value: Any) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "n/a (NaN)"
    return f"{value:.4f}" if isinstance(value, float) else str(value)
