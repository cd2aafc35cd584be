"""Checkpoints: sentence-transformers' trainer (stock transformers, torch's AdamW) resumes from ours, and a
save over an older ``checkpoint-N`` leaves nothing of the old one behind."""

from __future__ import annotations

import os

import pytest
import torch
from safetensors.torch import load_file
from test_baseline_eval import pairs


def train(library: str, folder: str, out: str, max_steps: int, resume: str | None = None):
    """CosineSimilarityLoss for ``max_steps`` steps, a checkpoint every 2 steps; returns the trainer."""
    if library == "st":
        import sentence_transformers as lib
        from sentence_transformers.losses import CosineSimilarityLoss
    else:
        import sentforge as lib
        from sentforge.losses import CosineSimilarityLoss
    model = lib.SentenceTransformer(folder, device="cpu")
    args = lib.SentenceTransformerTrainingArguments(
        output_dir=out, max_steps=max_steps, per_device_train_batch_size=8, save_strategy="steps", save_steps=2,
        logging_steps=2, report_to=[], disable_tqdm=True, seed=1, learning_rate=1e-3,
    )
    trainer = lib.SentenceTransformerTrainer(model=model, args=args, train_dataset=pairs(40),
                                             loss=CosineSimilarityLoss(model))
    trainer.train(resume_from_checkpoint=resume)
    return trainer


def test_sentence_transformers_resumes_from_our_checkpoint(tiny_bert_dir, tmp_path):
    pytest.importorskip("sentence_transformers")
    ours = str(tmp_path / "ours")
    train("sentforge", tiny_bert_dir, ours, max_steps=4)
    checkpoint = os.path.join(ours, "checkpoint-2")

    # the optimizer state is torch AdamW's: dense moments the shape of each weight (the word embedding's too)
    saved = torch.load(os.path.join(checkpoint, "optimizer.pt"), weights_only=True)
    assert all(set(state) == {"step", "exp_avg", "exp_avg_sq"} for state in saved["state"].values())
    embedding = load_file(os.path.join(checkpoint, "model.safetensors"))["embeddings.word_embeddings.weight"]
    assert any(state["exp_avg"].shape == embedding.shape for state in saved["state"].values())

    theirs = train("st", tiny_bert_dir, ours, max_steps=4, resume=checkpoint)
    assert theirs.state.global_step == 4
    before = load_file(os.path.join(checkpoint, "model.safetensors"))
    after = {name: tensor.detach() for name, tensor in theirs.model[0].auto_model.state_dict().items()}
    moved = [name for name in before if name in after and not torch.equal(before[name], after[name])]
    assert moved, "sentence-transformers resumed but trained nothing"
    assert all(torch.isfinite(tensor).all() for tensor in after.values())


def test_a_save_over_an_older_checkpoint_starts_from_an_empty_folder(tiny_bert_dir, tmp_path):
    out = str(tmp_path / "run")
    train("sentforge", tiny_bert_dir, out, max_steps=2)
    stale = os.path.join(out, "checkpoint-2", "stale-from-an-earlier-run.bin")
    with open(stale, "wb") as handle:
        handle.write(b"old")

    train("sentforge", tiny_bert_dir, out, max_steps=2)
    assert not os.path.exists(stale)
    assert os.path.isfile(os.path.join(out, "checkpoint-2", "trainer_state.json"))
    assert not os.path.exists(os.path.join(out, "checkpoint-2", "README.md"))  # checkpoints skip the card
