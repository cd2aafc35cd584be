"""Weights a loss has of its own (SoftmaxLoss's classifier) are trained, with the same optimizer parameter
groups as sentence-transformers' trainer builds for the same model and loss."""

from __future__ import annotations

import torch
from datasets import Dataset

from sentforge import SentenceTransformer, losses
from sentforge.trainer import SentenceTransformerTrainer
from sentforge.training_args import SentenceTransformerTrainingArguments

ROWS = {"a": ["a cat sits", "a dog runs", "rain falls", "the sun"] * 2, "b": ["a cat", "dogs", "snow", "stars"] * 2,
        "label": [0, 1, 2, 0, 1, 2, 0, 1]}


def group_shapes(optimizer) -> list[tuple[float, list[tuple[int, ...]]]]:
    return [(group["weight_decay"], sorted(tuple(p.shape) for p in group["params"])) for group in optimizer.param_groups]


def test_softmax_loss_classifier_is_trained_like_sentence_transformers(tiny_bert_dir, tmp_path) -> None:
    import sentence_transformers as st

    data = Dataset.from_dict(ROWS)
    groups = {}
    for name, lib in (("ours", None), ("st", st)):
        if lib is None:
            model = SentenceTransformer(tiny_bert_dir, device="cpu")
            loss = losses.SoftmaxLoss(model, sentence_embedding_dimension=model.get_sentence_embedding_dimension(),
                                      num_labels=3)
            args = SentenceTransformerTrainingArguments(output_dir=str(tmp_path / name), max_steps=2, report_to=[],
                                                        per_device_train_batch_size=4, save_strategy="no")
            trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data, loss=loss)
        else:
            model = st.SentenceTransformer(tiny_bert_dir, device="cpu")
            loss = st.sentence_transformer.losses.SoftmaxLoss(
                model, sentence_embedding_dimension=model.get_sentence_embedding_dimension(), num_labels=3)
            args = st.SentenceTransformerTrainingArguments(output_dir=str(tmp_path / name), max_steps=2,
                                                           report_to=[], per_device_train_batch_size=4,
                                                           save_strategy="no")
            trainer = st.SentenceTransformerTrainer(model=model, args=args, train_dataset=data, loss=loss)
        before = loss.classifier.weight.detach().clone()
        trainer.train()
        assert not torch.equal(before, loss.classifier.weight), f"{name}: the classifier did not move"
        in_optimizer = {id(p) for group in trainer.optimizer.param_groups for p in group["params"]}
        assert id(loss.classifier.weight) in in_optimizer
        groups[name] = group_shapes(trainer.optimizer)
    assert groups["ours"] == groups["st"]
