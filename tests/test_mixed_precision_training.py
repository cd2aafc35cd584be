"""``bf16=True`` trains in bfloat16 on every path: the whole loss runs under the run's autocast (the
cross-encoder's padding-free scoring included, which used to stay in float32 without a word), and the
float32-only CPU tunings step aside under autocast (the fused feed-forward's backward used to fail with
a dtype mismatch deep inside torch)."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset
from typer.testing import CliRunner

from sentforge import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments, losses
from sentforge.cli import app
from sentforge.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
from sentforge.cross_encoder import losses as ce_losses
from sentforge.errors import SentforgeError
from sentforge.speed.switches import enabled
from sentforge.util.devices import check_bf16_support
from tiny_models import WORDS


@pytest.fixture
def linear_output_dtypes(monkeypatch) -> list[torch.dtype]:
    """The dtype of every ``F.linear`` output computed from now on."""
    seen: list[torch.dtype] = []
    original = F.linear

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        seen.append(out.dtype)
        return out

    monkeypatch.setattr(F, "linear", spy)
    return seen


def _texts(count: int, words: int, offset: int = 0) -> list[str]:
    return [" ".join(WORDS[(i * 7 + j + offset) % len(WORDS)] for j in range(words)) for i in range(count)]


def test_cpu_tunings_step_aside_under_autocast():
    assert enabled("fused_feed_forward", "cpu")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not enabled("fused_feed_forward", "cpu") and not enabled("training_attention", "cpu")
        assert enabled("packed_forward", "cpu")  # standard ops only: autocast handles it
    assert enabled("fused_feed_forward", "cpu")


def test_sentence_transformer_trainer_bf16_on_cpu(tiny_bert_dir, tmp_path, linear_output_dtypes):
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    rows = Dataset.from_dict({"anchor": _texts(16, 4), "positive": _texts(16, 6, offset=3)})
    args = SentenceTransformerTrainingArguments(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=8,
                                                bf16=True, use_cpu=True, report_to=[], save_strategy="no")
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=rows,
                                         loss=losses.MultipleNegativesRankingLoss(model))
    trainer.train()
    assert linear_output_dtypes and set(linear_output_dtypes) == {torch.bfloat16}
    assert next(model.parameters()).dtype == torch.float32  # mixed precision: the weights stay float32
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_cross_encoder_trainer_bf16_reaches_the_padding_free_scoring(tiny_bert_dir, tmp_path, linear_output_dtypes):
    model = CrossEncoder(tiny_bert_dir, num_labels=1, device="cpu")
    rows = Dataset.from_dict({"query": _texts(16, 3), "passage": _texts(16, 8, offset=5),
                              "label": [float(i % 2) for i in range(16)]})
    args = CrossEncoderTrainingArguments(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=8,
                                         bf16=True, use_cpu=True, report_to=[], save_strategy="no")
    CrossEncoderTrainer(model=model, args=args, train_dataset=rows,
                        loss=ce_losses.BinaryCrossEntropyLoss(model)).train()
    assert linear_output_dtypes and set(linear_output_dtypes) == {torch.bfloat16}


def test_encode_under_cpu_autocast_matches_float32(tiny_bert_dir):
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    texts = _texts(12, 9)
    full = model.encode(texts, normalize_embeddings=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        half = model.encode(texts, normalize_embeddings=True)
    cosines = (full * half).sum(axis=1)
    assert cosines.min() > 0.99  # bfloat16 keeps about 3 significant digits


def test_train_reranker_bf16(tiny_bert_dir, tmp_path):
    data = tmp_path / "pairs.csv"
    data.write_text("question,passage\n" + "\n".join(f"q {a},{a} {b}" for a, b in zip(_texts(30, 3), _texts(30, 5, 2))))
    output = tmp_path / "reranker"
    result = CliRunner().invoke(app, ["train-reranker", str(data), "--retriever", tiny_bert_dir, "--output", str(output),
                                      "--negatives", "2", "--top-k", "5", "--max-steps", "2", "--batch-size", "8",
                                      "--skip-above", "1.0", "--bf16"])
    assert result.exit_code == 0, result.output
    assert json.loads((output / "metrics.json").read_text())["options"]["bf16"] is True


def test_bf16_on_a_gpu_without_it_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    with pytest.raises(SentforgeError, match="has no bfloat16 support"):
        check_bf16_support("cuda")
    check_bf16_support("cpu")  # torch's CPU autocast takes bfloat16 everywhere
