"""``learning_rate_mapping`` ({parameter-name regex: learning rate}) gives the matching weights groups of
their own, as sentence-transformers' trainers do; a pattern that matches nothing is an error."""

from __future__ import annotations

import pytest
import torch
from datasets import Dataset

ROWS = {"q": ["a cat sits", "a dog runs", "rain falls", "the sun"] * 2,
        "d": ["a cat", "dogs", "snow", "stars"] * 2, "label": [1.0, 0.0, 1.0, 0.0] * 2}
HEAD_LR = 1e-3


def lr_groups(optimizer) -> list[tuple[float, float, list[tuple[int, ...]]]]:
    """(lr, weight decay, parameter shapes) of each non-empty group, in a stable order."""
    return sorted((group.get("initial_lr", group["lr"]), group["weight_decay"],
                   sorted(tuple(p.shape) for p in group["params"]))
                  for group in optimizer.param_groups if group["params"])


def cross_encoder_optimizer(lib, model_dir: str, output: str, mapping: dict):
    model = lib.CrossEncoder(model_dir, num_labels=1, device="cpu")
    args = lib.CrossEncoderTrainingArguments(output_dir=output, max_steps=1, report_to=[], save_strategy="no",
                                             per_device_train_batch_size=4, learning_rate=2e-5,
                                             learning_rate_mapping=mapping)
    trainer = lib.CrossEncoderTrainer(model=model, args=args, train_dataset=Dataset.from_dict(ROWS),
                                      loss=lib.losses.BinaryCrossEntropyLoss(model))
    trainer.create_optimizer()
    return model, trainer.optimizer


def test_head_learning_rate_groups_match_sentence_transformers(tiny_bert_dir, tmp_path) -> None:
    from sentence_transformers import cross_encoder as st_ce

    from sentforge import cross_encoder as our_ce

    mapping = {r"classifier|pooler": HEAD_LR}
    model, ours = cross_encoder_optimizer(our_ce, tiny_bert_dir, str(tmp_path / "ours"), mapping)
    _, theirs = cross_encoder_optimizer(st_ce, tiny_bert_dir, str(tmp_path / "st"), mapping)
    assert lr_groups(ours) == lr_groups(theirs)
    head = {id(p) for n, p in model.named_parameters() if "classifier" in n or "pooler" in n}
    assert head, "the tiny cross-encoder should have a head"
    for group in ours.param_groups:
        in_head = {id(p) in head for p in group["params"]}
        assert len(in_head) <= 1, "a group mixes head and encoder weights"
        if in_head == {True}:
            assert group["lr"] == pytest.approx(HEAD_LR)
        elif in_head == {False}:
            assert group["lr"] == pytest.approx(2e-5)


def test_head_learning_rate_moves_the_head_further(tiny_bert_dir, tmp_path) -> None:
    from sentforge import cross_encoder as our_ce

    moved = {}
    for name, mapping in (("plain", {}), ("mapped", {"classifier": 1e-2})):
        torch.manual_seed(0)
        model = our_ce.CrossEncoder(tiny_bert_dir, num_labels=1, device="cpu")
        before = model.model.classifier.weight.detach().clone()
        args = our_ce.CrossEncoderTrainingArguments(output_dir=str(tmp_path / name), max_steps=3, report_to=[],
                                                    save_strategy="no", per_device_train_batch_size=4,
                                                    learning_rate=1e-5, warmup_ratio=0.0,
                                                    learning_rate_mapping=mapping)
        our_ce.CrossEncoderTrainer(model=model, args=args, train_dataset=Dataset.from_dict(ROWS),
                                   loss=our_ce.losses.BinaryCrossEntropyLoss(model)).train()
        moved[name] = float((model.model.classifier.weight.detach() - before).abs().max())
    assert moved["mapped"] > 100 * moved["plain"]


def test_pattern_matching_nothing_is_an_error(tiny_bert_dir, tmp_path) -> None:
    from sentforge import cross_encoder as our_ce

    with pytest.raises(ValueError, match="no parameter name matches 'nowhere'"):
        cross_encoder_optimizer(our_ce, tiny_bert_dir, str(tmp_path / "x"), {"nowhere": 1e-3})
