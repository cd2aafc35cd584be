"""Hub widget examples and the usage snippet's sentences, picked from the data as sentence-transformers does.

From up to 1000 random rows, the shortest rows become the widget's source sentences; each is
completed to four texts with texts of the next-shortest rows (a row's second text, its positive,
rather than its first, which may be another query). A seeded random generator keeps the card
the same from one save to the next.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

WIDGET_EXAMPLES = 5
ROWS_TO_SAMPLE = 1000
TEXTS_PER_EXAMPLE = 4
STOCK_SENTENCES = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]

Rows = Sequence[Mapping[str, Any]]


def widget_examples(
    datasets: Rows | Mapping[str, Rows], seed: int = 42
) -> tuple[list[dict[str, Any]], list[str] | None]:
    """Pick up to 5 widget examples and the usage snippet's sentences from the data.

    `datasets` is one dataset (a list of row dicts, or a `datasets.Dataset`) or a dict of them
    (the evaluation data if any, else the training data). Returns (widget, usage_sentences):
    widget entries are {"source_sentence": s, "sentences": [three texts]}; usage_sentences are the
    last example's source and two of its texts, or None when no example could be formed
    (the snippet then uses stock sentences).
    """
    rng = random.Random(seed)
    named = dict(datasets) if isinstance(datasets, Mapping) else {"dataset": datasets}
    widget: list[dict[str, Any]] = []
    usage: list[str] | None = None
    for name, count in Counter(rng.choices(list(named), k=WIDGET_EXAMPLES)).items():
        rows = _text_rows(named[name], rng)
        order = sorted(range(len(rows)), key=lambda i: sum(len(text) for text in rows[i]))
        targets, backups = order[:count], order[count:][::-1]
        for index in targets:
            texts = list(rows[index])
            while len(texts) < TEXTS_PER_EXAMPLE and backups:
                backup = rows[backups.pop()]
                texts.append(backup[0] if len(backup) == 1 else backup[1])
            if len(texts) < TEXTS_PER_EXAMPLE:
                continue
            widget.append({"source_sentence": texts[0], "sentences": rng.sample(texts[1:], k=len(texts) - 1)})
            usage = texts[:3]
    return widget, usage


def similarity_printout(similarities: Any) -> str:
    """`print(similarities)` as the card shows it: 4 decimals, no scientific notation."""
    import torch

    with torch._tensor_str.printoptions(precision=4, sci_mode=False):
        return str(similarities.detach().cpu() if isinstance(similarities, torch.Tensor) else similarities)


def usage_similarities(model: Any, sentences: list[str]) -> str:
    """Encode the usage sentences with the model and print their similarity matrix."""
    embeddings = model.encode(sentences, convert_to_tensor=True, show_progress_bar=False)
    return similarity_printout(model.similarity(embeddings, embeddings))


def _text_rows(rows: Rows, rng: random.Random) -> list[list[str]]:
    """The text values of up to 1000 random rows; rows with an empty text are skipped."""
    picked = rng.sample(range(len(rows)), k=min(ROWS_TO_SAMPLE, len(rows)))
    text_rows = []
    for index in picked:
        row = rows[index]
        texts = [value for key, value in row.items() if key != "dataset_name" and isinstance(value, str)]
        if texts and all(texts):
            text_rows.append(texts)
    return text_rows
