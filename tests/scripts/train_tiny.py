"""Train a tiny model with checkpoints; used by the resume and multi-process tests.

Usage: python train_tiny.py MODEL_DIR OUTPUT_DIR [--kill-at-step N] [--resume] [--gather]
Writes OUTPUT_DIR/final (the trained model) when training finishes.
"""

from __future__ import annotations

import argparse
import os

from datasets import Dataset
from transformers import TrainerCallback

from sentforge import SentenceTransformer, losses
from sentforge.trainer import SentenceTransformerTrainer
from sentforge.training_args import SentenceTransformerTrainingArguments

WORDS = "law mining permit claim land gold coal rock miner owner court rule right license fee year month day".split()


class KillAt(TrainerCallback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_begin(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            os._exit(17)  # a hard kill: no cleanup, no final save


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir")
    parser.add_argument("output_dir")
    parser.add_argument("--kill-at-step", type=int, default=None)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--gather", action="store_true")
    opts = parser.parse_args()
    model = SentenceTransformer(opts.model_dir, device="cpu")
    rows = [{"anchor": f"the {a} of the {b}", "positive": f"a {b} with {a}"} for a in WORDS[:8] for b in WORDS[8:12]]
    args = SentenceTransformerTrainingArguments(
        output_dir=opts.output_dir, num_train_epochs=2, per_device_train_batch_size=4, learning_rate=1e-3,
        warmup_ratio=0.1, save_steps=5, logging_steps=1, seed=7, report_to=[], disable_tqdm=True,
        use_cpu=True, ddp_backend="gloo" if "WORLD_SIZE" in os.environ else None,
    )
    loss = losses.MultipleNegativesRankingLoss(model, gather_across_devices=opts.gather)
    callbacks = [KillAt(opts.kill_at_step)] if opts.kill_at_step else []
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), loss=loss, callbacks=callbacks)
    trainer.train(resume_from_checkpoint=True if opts.resume else None)
    if trainer.is_world_process_zero():
        model.save(os.path.join(opts.output_dir, "final"))
        with open(os.path.join(opts.output_dir, "steps.txt"), "w") as f:
            f.write(str(trainer.state.global_step))


if __name__ == "__main__":
    main()
