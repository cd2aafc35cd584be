"""Turn a sentence-transformers model card (README.md) back into the recipe that trained the model.

A card records the base model, the architecture, the loss and its parameters, the non-default
training arguments, the evaluators and the training logs. What a card cannot tell (the data files,
sometimes the base model) is left empty, and everything worth a human's attention (a custom loss
nobody can import, NaN metrics, logs from several runs) is written to ``Recipe.notes``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..errors import SentforgeError
from .card_logs import card_warnings, infer_evaluation_schedule
from .card_text import (
    Section,
    bullets,
    code_names,
    first_code_block,
    parse_card_value,
    parse_json_block,
    parse_sections,
    parse_table,
    split_front_matter,
)
from .checks import (
    check_evaluator_type,
    check_loss_name,
    check_training_args,
    renamed_arg,
    training_arg_fields,
)
from .recipe import DataSpec, EvaluatorSpec, LossSpec, Recipe, recipe_to_yaml, save_recipe

# Published models whose architecture a card without a base model may reveal (a hint, never a fact).
_WELL_KNOWN_BASES = {
    ("MPNetModel", 768): "sentence-transformers/all-mpnet-base-v2",
    ("BertModel", 384): "sentence-transformers/all-MiniLM-L6-v2",
}
_HUB_DATASET = re.compile(r"huggingface\.co/datasets/([\w.-]+(?:/[\w.-]+)?)")


def recipe_from_card(card: str | os.PathLike) -> Recipe:
    """Parse a model card (its text, a README.md path, or a model folder) into a Recipe."""
    text, origin = _read_card(card)
    front, body = split_front_matter(text)
    root = parse_sections(body)
    notes = [f"Made from the model card {origin}; check every value before training."]

    architecture = _architecture(root)
    train_sets = _datasets(root.find("Training Dataset"))
    if not (architecture["known"] or train_sets or root.find("Non-Default Hyperparameters")):
        raise SentforgeError(
            f"{origin} does not look like a sentence-transformers model card (no model architecture, "
            "training dataset or hyperparameters sections). Pass the README.md of a trained model."
        )
    base_model = _base_model(front, root)
    if base_model is None:
        notes.append(_base_model_hint(architecture))
    if architecture["dense"]:
        notes.append("The card's model has a Dense layer after pooling; a recipe cannot add one, so use a "
                     "base model that already has it.")
    eval_sets = _datasets(root.find("Evaluation Dataset"))
    loss = _loss(train_sets, front, notes)
    args = _args(root.find("Non-Default Hyperparameters"), notes)
    logs = parse_table(root.find("Training Logs").lines) if root.find("Training Logs") else []
    infer_evaluation_schedule(args, logs, notes)
    evaluator = _evaluator(root.find("Evaluation"), notes)
    notes.extend(card_warnings(front, args, logs))
    data = DataSpec(
        train=train_sets[0]["hub_id"] if train_sets else None,
        eval=eval_sets[0]["hub_id"] if eval_sets else None,
        columns=(train_sets[0]["columns"] or None) if train_sets else None,
    )
    notes.append(_data_note(train_sets[0] if train_sets else None, data.train, "training", "data.train"))
    if eval_sets and data.eval is None:
        notes.append(_data_note(eval_sets[0], None, "evaluation", "data.eval"))
    return Recipe(
        base_model=base_model,
        max_seq_length=_max_seq_length(root, architecture),
        normalize=architecture["normalize"],
        data=data,
        loss=loss,
        evaluator=evaluator,
        args=args,
        notes=notes,
    )


def write_recipe_from_card(card: str | os.PathLike, output: str | os.PathLike) -> Recipe:
    """Parse ``card`` and write its recipe as YAML to ``output``; returns the recipe."""
    recipe = recipe_from_card(card)
    save_recipe(recipe, output, header=_header(recipe))
    return recipe


def recipe_yaml_from_card(card: str | os.PathLike) -> str:
    """The YAML text ``write_recipe_from_card`` would write (for printing instead of saving)."""
    recipe = recipe_from_card(card)
    return recipe_to_yaml(recipe, header=_header(recipe))


def _header(recipe: Recipe) -> str:
    header = "Training recipe recovered from a model card. See `notes` for what needs a human."
    if recipe.missing():
        header += "\nFill in before training: " + ", ".join(recipe.missing()) + "."
    return header


def _read_card(card: str | os.PathLike) -> tuple[str, str]:
    if isinstance(card, str) and ("\n" in card or card.lstrip().startswith("---")):
        return card, "(text)"
    path = Path(card)
    if path.is_dir():
        path = path / "README.md"
    if not path.is_file():
        raise SentforgeError(f"Model card '{path}' not found. Pass a README.md file, a model folder or the card text.")
    return path.read_text(encoding="utf-8", errors="replace"), f"'{path.name}'"


def _architecture(root: Section) -> dict[str, Any]:
    section = root.find("Full Model Architecture")
    text = (first_code_block(section.lines) or "") if section else ""
    transformer = re.search(r"'architecture': '(\w+)'|Transformer model: (\w+)", text)
    dimension = re.search(r"'(?:word_)?embedding_dimension': (\d+)", text)
    max_length = re.search(r"'max_seq_length': (\d+)", text)
    return {
        "known": bool(text),
        "normalize": bool(re.search(r"\bNormalize\(", text)) if text else None,
        "transformer": (transformer[1] or transformer[2]) if transformer else None,
        "dimension": int(dimension[1]) if dimension else None,
        "max_seq_length": int(max_length[1]) if max_length else None,
        "dense": bool(re.search(r"\bDense\(", text)),
    }


def _base_model(front: dict[str, Any], root: Section) -> str | None:
    value = front.get("base_model")
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str) and value.strip():
        return value.strip()
    section = root.find("Model Description")
    for key, text, _ in bullets(section.lines) if section else []:
        if key.lower() == "base model":
            link = re.match(r"\[([^\]]+)\]", text)
            name = link[1] if link else text.split()[0] if text else ""
            if name and name.lower() != "unknown":
                return name
    return None


def _base_model_hint(architecture: dict[str, Any]) -> str:
    guess = _WELL_KNOWN_BASES.get((architecture["transformer"], architecture["dimension"]))
    shape = f"{architecture['transformer']}, {architecture['dimension']}-d"
    hint = f" Its architecture ({shape}) matches {guess}, but that is a guess." if guess else ""
    return f"The card names no base model: set `base_model`.{hint}"


def _max_seq_length(root: Section, architecture: dict[str, Any]) -> int | None:
    section = root.find("Model Description")
    for key, text, _ in bullets(section.lines) if section else []:
        if key.lower() == "maximum sequence length":
            number = re.match(r"([\d,]+)", text)
            if number:
                return int(number[1].replace(",", ""))
    return architecture["max_seq_length"]


def _datasets(section: Section | None) -> list[dict[str, Any]]:
    """One entry per dataset subsection: hub id (if linked), size, columns with types, loss."""
    if section is None:
        return []
    found = []
    for part in section.children or [section]:
        entry: dict[str, Any] = {"name": part.title, "hub_id": None, "size": None, "columns": [], "types": {}}
        hub = _HUB_DATASET.search(part.title + "\n" + "\n".join(part.lines))
        entry["hub_id"] = hub[1] if hub else None
        for key, text, more in bullets(part.lines):
            if key == "Size":
                size = re.match(r"([\d,]+)", text)
                entry["size"] = int(size[1].replace(",", "")) if size else None
            elif key == "Columns":
                entry["columns"] = code_names(text)
            elif key.startswith("Approximate statistics"):
                types = [row for row in parse_table(more) if row.get("") == "type"]
                entry["types"] = {k: v for k, v in types[0].items() if k} if types else {}
            elif key == "Loss":
                entry["loss"] = (text, more)
        found.append(entry)
    return found


def _data_note(entry: dict[str, Any] | None, source: str | None, role: str, key: str) -> str:
    if entry is None:
        return f"The card does not describe its {role} data: set `{key}` and `data.columns`."
    columns = ", ".join(f"{name} ({entry['types'][name]})" if name in entry["types"] else name
                        for name in entry["columns"]) or "not listed"
    size = f"{entry['size']:,} rows" if entry["size"] is not None else "size unknown"
    where = f"from {source}" if source else f"not published: set `{key}` to your copy or a stand-in"
    return f"The card's {role} data '{entry['name']}': {size}; columns {columns}; {where}."


def _loss(train_sets: list[dict[str, Any]], front: dict[str, Any], notes: list[str]) -> LossSpec:
    described = [entry for entry in train_sets if "loss" in entry]
    if not described:
        notes.append("The card names no loss: set `loss.name`.")
        return LossSpec()
    text, more = described[0]["loss"]
    names = code_names(text) or re.findall(r"\[([^\]]+)\]", text) or text.split()[:1]
    name = names[0].strip() if names else None
    params, problem = parse_json_block(more)
    if problem:
        notes.append(f"The loss {name} was found but {problem}; set `loss.params` by hand.")
    for other in described[1:]:
        other_name = (code_names(other["loss"][0]) or ["?"])[0]
        notes.append(f"The card trains on several datasets; `{other['name']}` used {other_name}, not kept here.")
    if name and "." not in name:
        try:
            check_loss_name(name, "the card")
        except SentforgeError:
            notes.append(f"The card's loss {name} is not available in sentforge: replace `loss.name`.")
    if name and "." in name:
        notes.append(
            f"The loss `{name}` is a custom class (defined in the training script, not in a library). "
            "Supply it as an importable path (e.g. my_losses.MyLoss) or replace it with a sentforge loss."
        )
    tagged = [tag[5:] for tag in front.get("tags") or [] if isinstance(tag, str) and tag.startswith("loss:")]
    described_names = {(code_names(e["loss"][0]) or [""])[0].rsplit(".", 1)[-1] for e in described}
    for tag in tagged:
        if tag not in described_names:
            notes.append(f"The card's tags also name the loss {tag}, which the card does not describe.")
    return LossSpec(name=name, params=params or {})


def _args(section: Section | None, notes: list[str]) -> dict[str, Any]:
    if section is None:
        notes.append("The card lists no non-default hyperparameters; the defaults will be used.")
        return {}
    known = training_arg_fields()
    args: dict[str, Any] = {}
    for key, text, _ in bullets(section.lines):
        name = key.strip("` ")
        if not name:
            continue
        if renamed_arg(name):
            notes.append(f"The card's `{name}` is now called `{renamed_arg(name)}`.")
            name = renamed_arg(name)
        if name not in known:
            notes.append(f"The card's `{name}: {text}` is not a training argument of this version; left out.")
            continue
        try:
            args.update(check_training_args({name: parse_card_value(text)}, "the card"))
        except SentforgeError as err:
            notes.append(f"The card's `{name}: {text}` was left out: {err}")
    return args


def _evaluator(section: Section | None, notes: list[str]) -> EvaluatorSpec | None:
    found: list[EvaluatorSpec] = []
    for part in (section.find("Metrics") or section).children if section else []:
        names: list[str] = []
        for key, text, more in bullets(part.lines):
            if key in ("Dataset", "Datasets"):
                names = code_names(text)
            elif text.startswith("Evaluated with"):
                kinds = code_names(text)
                params, _ = parse_json_block(more)
                if kinds:
                    found.append(EvaluatorSpec(type=kinds[0], name=names[0] if names else "", params=params or {}))
                if len(names) > 1:
                    notes.append(f"The card evaluated {kinds[0] if kinds else 'an evaluator'} on {', '.join(names)}; "
                                 f"the recipe keeps `{names[0]}`.")
    if not found:
        notes.append("The card shows no evaluation: add an `evaluator` and `data.eval` to see overfitting.")
        return None
    try:
        check_evaluator_type(found[0].type, "the card")
    except SentforgeError:
        notes.append(f"The card's evaluator {found[0].type} is not available in sentforge: replace `evaluator.type`.")
    if len(found) > 1:
        listed = ", ".join(f"{spec.type}({spec.name or 'unnamed'})" for spec in found)
        notes.append(f"The card lists {len(found)} evaluations ({listed}); the recipe keeps the first.")
    return found[0]
