"""`load_local(path, name, split)`: the Hub data sets the training scripts name, read from ../shared/data.

The scripts in this folder are sentence-transformers' own training examples with the imports
changed to `sentforge`. Their `load_dataset("sentence-transformers/stsb", split="train")` calls
become `load_local(...)` with the same arguments; this module answers them from the local files
with the same column names and label conventions, so the rest of each script stays as written.
It uses only `datasets` and the standard library: the same script runs under either library.

Budget knobs (environment): DROPIN_TRAIN_ROWS caps "train" splits, DROPIN_EVAL_ROWS every other
split (rows are shuffled with a fixed seed before the cap; a sliced split such as "train[-1000:]" is
sliced first, then capped by its base split); SENTFORGE_SHARED_DATA is the data folder.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

from datasets import Dataset, DatasetDict, load_dataset

STSB_FILES = {"train": "sts-train.csv", "validation": "sts-dev.csv", "test": "sts-test.csv"}
MRPC_FILES = {"train": "msr-para-train.tsv", "validation": "msr-para-val.tsv", "dev": "msr-para-val.tsv",
              "test": "msr-para-test.tsv"}
NLI_SPLITS = {"train": ("test", "train"), "dev": ("dev",), "test": ("dev",)}  # local triplets: which `split` values


def data_root() -> Path:
    """The shared data folder: $SENTFORGE_SHARED_DATA, else ../shared/data next to the repository."""
    if os.environ.get("SENTFORGE_SHARED_DATA"):
        return Path(os.environ["SENTFORGE_SHARED_DATA"])
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def load_local(path: str, name: str | None = None, split: str | None = None) -> Dataset | DatasetDict:
    """The local stand-in for `datasets.load_dataset(path, name, split=split)`."""
    loaders = {
        "sentence-transformers/stsb": _stsb,
        "sentence-transformers/all-nli": _all_nli,
        "sentence-transformers/quora-duplicates": _quora_duplicates,
        "sentence-transformers/quora-duplicates-mining": _mrpc_mining,
        "BeIR/quora": _mrpc_ir,
        "BeIR/quora-qrels": _mrpc_qrels,
        "omkar334/trec": _sentence_sources,
    }
    if path not in loaders:
        raise ValueError(f"No local stand-in for {path!r}; known: {', '.join(loaders)}")
    if split is None:
        splits = ("train", "test")
        return DatasetDict({s: _cap(loaders[path](name, s), s) for s in splits})
    split, rows = _split_slice(split)
    data = loaders[path](name, split)
    if rows is not None:  # datasets' slice syntax, e.g. split="train[-1000:]"
        data = data.select(range(len(data))[rows])
    return _cap(data, split)


def _split_slice(split: str) -> tuple[str, slice | None]:
    """A split with datasets' slice syntax: "train[-1000:]" -> ("train", slice(-1000, None)); else (split, None)."""
    match = re.fullmatch(r"(\w+)\[(-?\d*):(-?\d*)\]", split)
    if match is None:
        return split, None
    start, stop = (int(v) if v else None for v in match.group(2, 3))
    return match.group(1), slice(start, stop)


def _cap(data: Dataset, split: str) -> Dataset:
    variable = "DROPIN_TRAIN_ROWS" if split == "train" else "DROPIN_EVAL_ROWS"
    limit = int(os.environ.get(variable, "0") or 0)
    if limit and len(data) > limit and split not in ("corpus", "queries"):
        data = data.shuffle(seed=0).select(range(limit))
    return data


def _stsb_rows(split: str) -> list[list[str]]:
    """STS-B lines as tab fields; a few lines carry extra fields after sentence2."""
    with open(data_root() / "stsb" / STSB_FILES[split], encoding="utf-8") as handle:
        return [line.rstrip("\r\n").split("\t") for line in handle if line.strip()]


def _stsb(name: str | None, split: str) -> Dataset:
    rows = _stsb_rows(split)
    return Dataset.from_dict({
        "sentence1": [r[5] for r in rows],
        "sentence2": [r[6] for r in rows],
        "score": [float(r[4]) / 5.0 for r in rows],  # the Hub copy is normalised to 0-1
    })


def _all_nli(name: str | None, split: str) -> Dataset:
    triplets = load_dataset("json", data_files=str(data_root() / "nli" / "triplets.jsonl"), split="train")
    triplets = triplets.filter(lambda row: row["split"] in NLI_SPLITS[split])
    triplets = triplets.select_columns(["anchor", "positive", "negative"])
    if name == "triplet":
        return triplets
    if name == "pair-class":  # all-nli's classes: 0 entailment, 1 neutral, 2 contradiction
        premises, hypotheses, labels = [], [], []
        for row in triplets:
            premises += [row["anchor"], row["anchor"]]
            hypotheses += [row["positive"], row["negative"]]
            labels += [0, 2]
        return Dataset.from_dict({"premise": premises, "hypothesis": hypotheses, "label": labels})
    raise ValueError(f"all-nli subset {name!r} has no local stand-in (use 'triplet' or 'pair-class')")


def _mrpc_rows(split: str) -> list[list[str]]:
    with open(data_root() / "mrpc" / MRPC_FILES[split], encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)  # header: Quality, #1 ID, #2 ID, #1 String, #2 String
        return [row for row in reader if row]


def _mrpc_pairs(name: str | None, split: str) -> Dataset:
    """MRPC as quora-duplicates' pair-class subset: (sentence1, sentence2, label 1 = duplicate)."""
    rows = _mrpc_rows(split)
    return Dataset.from_dict({
        "sentence1": [r[3] for r in rows], "sentence2": [r[4] for r in rows], "label": [int(r[0]) for r in rows],
    })


def _quora_duplicates(name: str | None, split: str) -> Dataset:
    """quora-duplicates' subsets: "triplet" and "pair" from MRPC paraphrases, anything else as _mrpc_pairs."""
    if name in ("triplet", "pair"):
        return _mrpc_triplets(name, split)
    return _mrpc_pairs(name, split)


def _mrpc_triplets(name: str | None, split: str) -> Dataset:
    """MRPC as quora-duplicates' triplet (anchor, positive, negative) / pair (anchor, positive) subsets.

    anchor and positive are the two sentences of a paraphrase pair (label 1); the negative is the second
    sentence of a non-paraphrase pair (label 0), taken in file order and reused cyclically: a sentence
    from another pair, not a paraphrase of the anchor.
    """
    rows = _mrpc_rows(split)
    positives = [r for r in rows if r[0] == "1"]
    negatives = [r[4] for r in rows if r[0] == "0"]
    columns = {"anchor": [r[3] for r in positives], "positive": [r[4] for r in positives]}
    if name == "triplet":
        columns["negative"] = [negatives[i % len(negatives)] for i in range(len(positives))]
    return Dataset.from_dict(columns)


def _mrpc_val_sentences() -> tuple[dict[str, str], list[tuple[str, str]]]:
    """MRPC validation as a duplicate-mining set: id -> sentence, and the (id, id) paraphrase pairs."""
    rows = _mrpc_rows("validation")
    limit = int(os.environ.get("DROPIN_EVAL_ROWS", "0") or 0)
    rows = rows[:limit] if limit else rows
    sentences = {}
    duplicates = []
    for label, id1, id2, text1, text2 in (r[:5] for r in rows):
        sentences[id1], sentences[id2] = text1, text2
        if label == "1":
            duplicates.append((id1, id2))
    return sentences, duplicates


def _mrpc_mining(name: str | None, split: str) -> Dataset:
    sentences, duplicates = _mrpc_val_sentences()
    if name == "questions":
        return Dataset.from_dict({"qid": list(sentences), "question": list(sentences.values())})
    return Dataset.from_dict({"qid1": [a for a, _ in duplicates], "qid2": [b for _, b in duplicates]})


def _mrpc_ir(name: str | None, split: str) -> Dataset:
    """BeIR-style corpus (every validation sentence) and queries (first sentence of each paraphrase)."""
    sentences, duplicates = _mrpc_val_sentences()
    if name == "corpus":
        return Dataset.from_dict({"_id": list(sentences), "text": list(sentences.values())})
    query_ids = [a for a, _ in duplicates]
    return Dataset.from_dict({"_id": query_ids, "text": [sentences[q] for q in query_ids]})


def _mrpc_qrels(name: str | None, split: str) -> Dataset:
    _, duplicates = _mrpc_val_sentences()
    return Dataset.from_dict({
        "query-id": [a for a, _ in duplicates], "corpus-id": [b for _, b in duplicates], "score": [1] * len(duplicates),
    })


def _sentence_sources(name: str | None, split: str) -> Dataset:
    """A labelled-sentence set in TREC's columns: STS-B first sentences, labelled by their source.

    fine_label is the source file (MSRvid, headlines, ...), coarse_label the genre (news, captions, forums).
    """
    rows = _stsb_rows("train") + _stsb_rows("test")
    files = sorted({r[1] for r in rows})
    genres = sorted({r[0] for r in rows})
    rows = _stsb_rows("train" if split == "train" else "test")
    seen, texts, fine, coarse = set(), [], [], []
    for row in rows:
        if row[5] not in seen:
            seen.add(row[5])
            texts.append(row[5])
            fine.append(files.index(row[1]))
            coarse.append(genres.index(row[0]))
    return Dataset.from_dict({"text": texts, "coarse_label": coarse, "fine_label": fine})
