"""Loaders for the benchmark sets (STS-B, SciFact, MRPC, NLI triplets) as plain files or from the Hub.

The files live in a shared data folder laid out as its README describes (``stsb/sts-*.csv``,
``scifact/{corpus,queries}.jsonl`` + ``qrels/*.tsv``, ``mrpc/msr-para-*.tsv``,
``nli/triplets.jsonl``). The folder is found from ``root``, else ``$SENTFORGE_SHARED_DATA``, else
``<repo>/../shared/data`` looked up from the working directory. ``root`` may also be a Hugging
Face Hub dataset id (``sentence-transformers/stsb``, ``BeIR/scifact``...), as on a user's machine.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import NamedTuple

import datasets

from .load import load_data, looks_like_hub_id
from ..errors import SentforgeError

ENV_VAR = "SENTFORGE_SHARED_DATA"
STSB_MAX_SCORE = 5.0

_STSB_FILES = {"train": "sts-train.csv", "dev": "sts-dev.csv", "validation": "sts-dev.csv", "test": "sts-test.csv"}
_MRPC_FILES = {"train": "msr-para-train.tsv", "val": "msr-para-val.tsv", "validation": "msr-para-val.tsv",
               "dev": "msr-para-val.tsv", "test": "msr-para-test.tsv"}
_HUB_SPLIT_NAMES = {"dev": "validation", "val": "validation"}


class RetrievalSet(NamedTuple):
    """What InformationRetrievalEvaluator takes: query id -> text, doc id -> text, query id -> relevant doc ids."""

    queries: dict[str, str]
    corpus: dict[str, str]
    relevant_docs: dict[str, set[str]]


def shared_data_root(root: str | os.PathLike | None = None) -> Path:
    """The shared data folder: ``root``, else ``$SENTFORGE_SHARED_DATA``, else ``../shared/data`` above here."""
    if root is not None:
        return _existing_folder(Path(root).expanduser(), "root")
    if os.environ.get(ENV_VAR):
        return _existing_folder(Path(os.environ[ENV_VAR]).expanduser(), f"${ENV_VAR}")
    here = Path(__file__).resolve()
    for base in [Path.cwd(), *Path.cwd().parents, here.parents[3]]:
        candidate = (base / ".." / "shared" / "data").resolve()
        if candidate.is_dir():
            return candidate
    raise SentforgeError(
        f"No shared data folder found (looked for ../shared/data above {Path.cwd()}). Set "
        f"{ENV_VAR}=/path/to/data or pass root=..., or pass a Hub id as root (e.g. 'sentence-transformers/stsb')."
    )


def load_stsb(split: str = "test", root: str | os.PathLike | None = None, normalize: bool = True) -> datasets.Dataset:
    """STS Benchmark pairs: (sentence1, sentence2, score), score in [0, 1] when ``normalize`` else 0-5."""
    if _is_hub(root):
        data = load_data(str(root), split=_HUB_SPLIT_NAMES.get(split, split))
        data = data.select_columns(["sentence1", "sentence2", "score"])
        return data if normalize else data.map(lambda row: {"score": row["score"] * STSB_MAX_SCORE})
    path = _data_file(root, "stsb", _choose(split, _STSB_FILES, "STS-B"))
    first, second, scores = [], [], []
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) < 7:
                raise SentforgeError(f"{path} line {line_number} has {len(fields)} tab fields, expected at least 7.")
            score = float(fields[4])
            scores.append(score / STSB_MAX_SCORE if normalize else score)
            first.append(fields[5])
            second.append(fields[6])
    return datasets.Dataset.from_dict({"sentence1": first, "sentence2": second, "score": scores})


def load_mrpc(split: str = "train", root: str | os.PathLike | None = None) -> datasets.Dataset:
    """MRPC paraphrase pairs: (sentence1, sentence2, label) with label 1 for a paraphrase, else 0."""
    if _is_hub(root):
        data = load_data(str(root), split=_HUB_SPLIT_NAMES.get(split, split), config="mrpc")
        return data.select_columns(["sentence1", "sentence2", "label"])
    path = _data_file(root, "mrpc", _choose(split, _MRPC_FILES, "MRPC"))
    first, second, labels = [], [], []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        if header[:1] != ["Quality"]:
            raise SentforgeError(f"{path} does not start with the MRPC header (Quality, #1 ID, ...): {header}.")
        for fields in reader:
            if not fields:
                continue
            labels.append(int(fields[0]))
            first.append(fields[3])
            second.append(fields[4])
    return datasets.Dataset.from_dict({"sentence1": first, "sentence2": second, "label": labels})


def load_scifact(split: str = "test", root: str | os.PathLike | None = None) -> RetrievalSet:
    """SciFact retrieval: the split's queries, the whole corpus ("title text"), and relevant doc ids."""
    queries, corpus, qrels = _scifact_parts(split, root)
    relevant: dict[str, set[str]] = {}
    for query_id, doc_id in qrels:
        relevant.setdefault(query_id, set()).add(doc_id)
    return RetrievalSet({qid: queries[qid] for qid in relevant}, corpus, relevant)


def load_scifact_pairs(split: str = "train", root: str | os.PathLike | None = None) -> datasets.Dataset:
    """SciFact training pairs: (query, abstract), one row per claim and cited abstract."""
    queries, corpus, qrels = _scifact_parts(split, root)
    rows = [(queries[qid], corpus[doc_id]) for qid, doc_id in qrels]
    return datasets.Dataset.from_dict({"query": [q for q, _ in rows], "abstract": [a for _, a in rows]})


def load_nli_triplets(root: str | os.PathLike | None = None, keep_metadata: bool = False) -> datasets.Dataset:
    """NLI (anchor, positive, negative) triplets; ``keep_metadata`` keeps source, split and direction."""
    if _is_hub(root):
        return load_data(str(root), split="train", config="triplet").select_columns(["anchor", "positive", "negative"])
    path = _data_file(root, "nli", "triplets.jsonl")
    data = load_data(path)
    return data if keep_metadata else data.select_columns(["anchor", "positive", "negative"])


def _scifact_parts(
    split: str, root: str | os.PathLike | None
) -> tuple[dict[str, str], dict[str, str], list[tuple[str, str]]]:
    """Query texts, corpus texts and the split's (query id, doc id) pairs with a positive score."""
    if split not in ("train", "test"):
        raise SentforgeError(f"SciFact has splits train and test, not '{split}'.")
    if _is_hub(root):
        return _scifact_from_hub(str(root), split)
    queries = {row["_id"]: row["text"] for row in _read_jsonl(_data_file(root, "scifact", "queries.jsonl"))}
    corpus = {
        row["_id"]: _title_and_text(row.get("title"), row.get("text"))
        for row in _read_jsonl(_data_file(root, "scifact", "corpus.jsonl"))
    }
    qrels = []
    with _data_file(root, "scifact", f"qrels/{split}.tsv").open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        for row in reader:
            if float(row["score"]) > 0:
                qrels.append((row["query-id"], row["corpus-id"]))
    return queries, corpus, qrels


def _scifact_from_hub(name: str, split: str) -> tuple[dict[str, str], dict[str, str], list[tuple[str, str]]]:
    queries_set = load_data(name, split="queries", config="queries")
    corpus_set = load_data(name, split="corpus", config="corpus")
    qrels_set = load_data(f"{name}-qrels", split=split)
    queries = dict(zip(queries_set["_id"], queries_set["text"]))
    corpus = {
        str(doc_id): _title_and_text(title, text)
        for doc_id, title, text in zip(corpus_set["_id"], corpus_set["title"], corpus_set["text"])
    }
    qrels = [
        (str(q), str(d))
        for q, d, s in zip(qrels_set["query-id"], qrels_set["corpus-id"], qrels_set["score"])
        if s > 0
    ]
    return queries, corpus, qrels


def _title_and_text(title: str | None, text: str | None) -> str:
    """BEIR's document text: title and body joined by a space."""
    return f"{title or ''} {text or ''}".strip()


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _is_hub(root: str | os.PathLike | None) -> bool:
    return isinstance(root, str) and "/" in root and not Path(root).expanduser().exists() and looks_like_hub_id(root)


def _existing_folder(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise SentforgeError(
            f"The shared data folder given by {what} does not exist: '{path}'. Point it at the folder that "
            "holds stsb/, scifact/, mrpc/ and nli/."
        )
    return path


def _data_file(root: str | os.PathLike | None, folder: str, name: str) -> Path:
    path = shared_data_root(root) / folder / name
    if not path.is_file():
        raise SentforgeError(
            f"Missing data file '{path}'. The shared data folder must hold {folder}/{name} as its README describes."
        )
    return path


def _choose(split: str, files: dict[str, str], name: str) -> str:
    if split not in files:
        raise SentforgeError(f"{name} has no split '{split}'. Use one of: {', '.join(files)}.")
    return files[split]
