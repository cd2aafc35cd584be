"""The trainer's tokenized-data cache is keyed by the dataset object, not by a reusable id()."""

from __future__ import annotations

from datasets import Dataset

from sentforge import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
from sentforge.losses import MultipleNegativesRankingLoss


def test_cache_entry_of_another_dataset_with_the_same_id_is_not_reused(tiny_bert_dir, tmp_path):
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    first = Dataset.from_dict({"a": ["the cat sat", "a dog ran"], "b": ["a cat", "the dog"]})
    second = Dataset.from_dict({"a": ["gold mining permit", "he drove a car"], "b": ["a claim", "the stadium"]})
    args = SentenceTransformerTrainingArguments(output_dir=str(tmp_path), report_to=[], per_device_train_batch_size=2)
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=first,
                                         loss=MultipleNegativesRankingLoss(model))
    stale = trainer._tokenized(first, None)
    # What a freed dataset leaves behind when a new one is allocated at the same address:
    trainer._tokenized_cache[(id(second), None)] = stale
    fresh = trainer._tokenized(second, None)
    assert fresh is not stale and fresh.dataset is second
    assert fresh.ids["a"] == [model[0].tokenize_ids(["gold mining permit"])[0], model[0].tokenize_ids(["he drove a car"])[0]]
    assert trainer._tokenized(second, None) is fresh
