"""One run tokenizes each text once: the data doctor, the trainer and the card share the run's token ids,
and ids cut from the untruncated ones equal the tokenizer's own truncation."""

from __future__ import annotations

import csv

import pytest

from sentforge import SentenceTransformer
from sentforge.speed.native_tokenizer import NativeTokenizer

WORDS = "law mining permit claim land gold coal rock miner owner court rule right license fee year".split()


def test_ids_cut_from_the_memo_equal_the_tokenizers_truncation(tiny_bert_dir):
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    texts = [" ".join(WORDS[: n % 17]) + f" {n}" for n in range(60)]
    for limit in (3, 5, 8, 64):
        model.max_seq_length = limit
        expected = model[0].tokenize_ids(texts)
        model[0].use_token_memo({})
        assert model[0].tokenize_ids(texts) == expected
        model[0].use_token_memo(None)
    counts = model[0].count_tokens(texts)
    model.max_seq_length = 64
    assert counts == [len(ids) for ids in model[0].tokenize_ids(texts)]  # none of these is cut at 64


def test_a_pipeline_run_tokenizes_each_text_once(tiny_bert_dir, tmp_path, monkeypatch):
    from sentforge.pipeline import train

    rows = [{"sentence1": f"the {a} of the {b}", "sentence2": f"a {b} and {a}", "score": (i % 6) / 5}
            for i, (a, b) in enumerate((a, b) for a in WORDS for b in WORDS[:4])]
    data = tmp_path / "pairs.csv"
    with open(data, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["sentence1", "sentence2", "score"])
        writer.writeheader()
        writer.writerows(rows)
    seen: list[str] = []
    real_full, real_ids = NativeTokenizer.full_ids, NativeTokenizer.ids

    def counting_full(self, texts):
        seen.extend(texts)
        return real_full(self, texts)

    def counting_ids(self, texts, max_length):
        seen.extend(texts)
        return real_ids(self, texts, max_length)

    monkeypatch.setattr(NativeTokenizer, "full_ids", counting_full)
    monkeypatch.setattr(NativeTokenizer, "ids", counting_ids)
    train(str(data), base=tiny_bert_dir, output=str(tmp_path / "out"), epochs=1, batch_size=16)
    distinct = {text for row in rows for text in (row["sentence1"], row["sentence2"])}
    assert set(seen) == distinct
    assert len(seen) == len(distinct), "a text was tokenized more than once for the doctor, training and card"
    assert (tmp_path / "out" / "README.md").is_file()
