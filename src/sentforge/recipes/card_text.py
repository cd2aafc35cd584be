"""Reading a sentence-transformers model card: YAML front matter, markdown sections, bullets, tables.

Only what recipes need: headings are found outside code fences and HTML comments (cards keep
commented-out sections such as ``<!-- ### Direct Usage -->``), bullets keep their indented
continuation lines (the JSON block under ``* Loss:``), and card values are turned back into
Python values (``True``, ``None``, ``5e-05``, ``{'a': 1}``, ``BatchSamplers.NO_DUPLICATES``).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import SentforgeError

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_BULLET = re.compile(r"^[*-]\s+(?P<text>.*)$")
_KEY_VALUE = re.compile(r"^(?:\*\*)?(?P<key>[\w `/().-]+?)(?:\*\*)?:(?:\*\*)?\s*(?P<value>.*)$")
_ENUM_MEMBER = re.compile(r"^[A-Z]\w*\.([A-Z][A-Z0-9_]*)$")


@dataclass
class Section:
    """A markdown heading with its own lines and its subsections."""

    level: int
    title: str
    lines: list[str] = field(default_factory=list)
    children: list["Section"] = field(default_factory=list)

    def find(self, title: str) -> "Section | None":
        """The first section below this one whose title is ``title`` (case-insensitive)."""
        found = self.find_all(title)
        return found[0] if found else None

    def find_all(self, title: str) -> list["Section"]:
        """All sections below this one titled ``title``, in document order."""
        matches = []
        for child in self.children:
            if child.title.lower() == title.lower():
                matches.append(child)
            matches.extend(child.find_all(title))
        return matches

    def all_lines(self) -> list[str]:
        """This section's lines followed by those of its subsections (headings included)."""
        lines = list(self.lines)
        for child in self.children:
            lines.append("#" * child.level + " " + child.title)
            lines.extend(child.all_lines())
        return lines


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Return (parsed YAML front matter, markdown body); a card without front matter gives ({}, text)."""
    text = text.lstrip("\ufeff")
    match = re.match(r"^---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|$)", text, flags=re.S)
    if not match:
        return {}, text
    try:
        front = yaml.safe_load(match[1]) or {}
    except yaml.YAMLError as err:
        raise SentforgeError(
            f"The model card's YAML header (between the --- lines) is not valid YAML: {err}. Fix it or remove it."
        ) from None
    if not isinstance(front, dict):
        raise SentforgeError("The model card's YAML header is not a mapping of keys. Check the lines between ---.")
    return front, text[match.end() :]


def strip_html_comments(text: str) -> str:
    """Remove ``<!-- ... -->`` comments, which cards use for placeholders and unfilled sections."""
    return re.sub(r"<!--.*?-->", "", text, flags=re.S)


def parse_sections(body: str) -> Section:
    """The card body as a tree of sections under a level-0 root."""
    root = Section(level=0, title="")
    stack = [root]
    in_fence = False
    for line in strip_html_comments(body).splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            section = Section(level=len(heading[1]), title=heading[2].strip())
            while stack[-1].level >= section.level:
                stack.pop()
            stack[-1].children.append(section)
            stack.append(section)
        else:
            stack[-1].lines.append(line)
    return root


def bullets(lines: list[str]) -> list[tuple[str, str, list[str]]]:
    """Top-level list items as (key, value, indented continuation lines).

    ``* Key: value`` gives ("Key", "value"); an item without such a prefix (``* Evaluated with
    [...](https://...)``) gives ("", its whole text).
    """
    items: list[tuple[str, str, list[str]]] = []
    current: list[str] | None = None
    in_fence = False
    for line in lines:
        match = None if in_fence or line.startswith((" ", "\t")) else _BULLET.match(line)
        continues = line.startswith((" ", "\t")) or in_fence or _FENCE.match(line) or not line.strip()
        if match:
            pair = _KEY_VALUE.match(match["text"])
            key, value = (pair["key"], pair["value"]) if pair else ("", match["text"])
            current = []
            items.append((key.strip(), value.strip(), current))
        elif current is not None and continues:
            current.append(line)
        else:
            current = None  # plain text ends the previous item
        if _FENCE.match(line):
            in_fence = not in_fence
    return items


def first_code_block(lines: list[str]) -> str | None:
    """The text inside the first fenced code block among ``lines``, or None."""
    inside: list[str] | None = None
    for line in lines:
        if _FENCE.match(line):
            if inside is not None:
                return "\n".join(inside)
            inside = []
        elif inside is not None:
            inside.append(line)
    return None


def parse_json_block(lines: list[str]) -> tuple[dict[str, Any] | None, str | None]:
    """(parsed JSON object of the first code block, problem text); (None, None) without a block."""
    block = first_code_block(lines)
    if block is None:
        return None, None
    try:
        value = json.loads(block)
    except json.JSONDecodeError as err:
        return None, f"its parameter block is not valid JSON ({err.msg} at line {err.lineno})"
    if not isinstance(value, dict):
        return None, "its parameter block is not a JSON object"
    return value, None


def parse_table(lines: list[str]) -> list[dict[str, str]]:
    """The first markdown table among ``lines`` as rows keyed by header (bold markers removed)."""
    rows: list[list[str]] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("|"):
            rows.append([cell.strip().replace("**", "").strip() for cell in stripped.strip("|").split("|")])
        elif rows:
            break
    if len(rows) < 2:
        return []
    header, body = rows[0], [row for row in rows[1:] if not all(set(c) <= set(":- ") for c in row)]
    return [dict(zip(header, row)) for row in body]


def code_names(text: str) -> list[str]:
    """The names in ``<code>name</code>`` or ```name``` markup, in order."""
    return [a or b for a, b in re.findall(r"<code>(.*?)</code>|`([^`]+)`", text)]


def parse_card_value(text: str) -> Any:
    """A hyperparameter value as the card prints it, back to Python (bool, number, None, list, dict, str)."""
    value = text.strip()
    if value == "":
        return ""
    enum_member = _ENUM_MEMBER.match(value)
    if enum_member:
        return enum_member[1].lower()  # BatchSamplers.NO_DUPLICATES -> "no_duplicates"
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return value
