"""Links and code blocks shared by the card's sections."""

from __future__ import annotations

import json
from pprint import pformat
from textwrap import indent
from typing import Any

DOCS = "https://sbert.net/docs/package_reference/sentence_transformer"
LIBRARY_PREFIXES = ("sentforge.", "sentence_transformers.")


def hub_link(hub_id: str, name: str | None = None, kind: str = "") -> str:
    """A markdown link to a hub model (kind "") or dataset (kind "datasets/")."""
    return f"[{name or hub_id}](https://huggingface.co/{kind}{hub_id})"


def library_link(fullname: str | None, name: str, page: str, anchor: str) -> str:
    """A link to the documentation for library classes; the class path as code for anything else."""
    if fullname is None or "." not in fullname or fullname.startswith(LIBRARY_PREFIXES):
        return f"[<code>{name}</code>]({DOCS}/{page}.html#{anchor})"
    return f"<code>{fullname}</code>"


def json_block(config: dict[str, Any]) -> str:
    """Parameters as a ```json block indented under its bullet (pformat when not JSON-serialisable)."""
    try:
        text = json.dumps(config, indent=4)
    except TypeError:
        text = pformat(config, indent=4)
    return indent(f"```json\n{text}\n```", "  ")
