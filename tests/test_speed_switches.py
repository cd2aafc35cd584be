"""The speed layer's switches: one per trick (argument and environment variable), gated by device, each
off path giving the same results as the trick; a log line when a fast path declines a model; and the
private torch/transformers APIs it relies on still exist in the installed versions."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from sentforge import SentenceTransformer, speed
from sentforge.errors import SentforgeError
from sentforge.speed.private_apis import PRIVATE_APIS, missing_private_apis
from sentforge.speed.switches import CPU, TRICKS, enabled

SENTENCES = ["a short one", "a somewhat longer sentence about mining law and permits",
             "x", "the court ruled on the claim of the land owner in the gold mining case"] * 8


@pytest.fixture(autouse=True)
def default_switches(monkeypatch):
    for trick in TRICKS.values():
        monkeypatch.delenv(trick.env, raising=False)
    speed.configure(**{name: None for name in TRICKS})
    yield
    speed.configure(**{name: None for name in TRICKS})


def test_every_trick_is_on_by_default_on_cpu_and_each_env_var_turns_only_its_own_off(monkeypatch):
    assert all(speed.settings("cpu").values())
    for name, trick in TRICKS.items():
        monkeypatch.setenv(trick.env, "0")
        assert [n for n, on in speed.settings("cpu").items() if not on] == [name]
        monkeypatch.setenv(trick.env, "off")
        assert not enabled(name)
        monkeypatch.setenv(trick.env, "1")
        assert enabled(name, "cpu")
        monkeypatch.delenv(trick.env)


def test_argument_overrides_environment_and_switched_restores(monkeypatch):
    monkeypatch.setenv(TRICKS["fast_dropout"].env, "0")
    speed.configure(fast_dropout=True)
    assert enabled("fast_dropout", "cpu")
    with speed.switched(fast_dropout=False, token_chunks=False):
        assert not enabled("fast_dropout") and not enabled("token_chunks")
    assert enabled("fast_dropout") and enabled("token_chunks")
    speed.configure(fast_dropout=None)  # back to the environment variable
    assert not enabled("fast_dropout")
    with pytest.raises(SentforgeError, match="Unknown speed switch no_such_trick"):
        speed.configure(no_such_trick=False)


def test_cpu_tunings_never_apply_on_another_device():
    cpu_only = {name for name, trick in TRICKS.items() if trick.devices == CPU}
    assert {"token_chunks", "training_attention", "attention_groups", "zero_pages", "fast_dropout",
            "scratch_buffers", "embedding_rows", "row_adamw", "grad_clip"} <= cpu_only
    speed.configure(**{name: True for name in TRICKS})  # a switch cannot force a trick onto a device
    for device in ("cuda", torch.device("cuda", 0), "mps"):
        assert {name for name in TRICKS if not enabled(name, device)} == cpu_only
    assert enabled("packed_forward", "cuda")


def test_row_adamw_follows_its_switch_and_the_device():
    from sentforge.speed.row_adamw import RowAwareAdamW, in_place_of_torch_adamw

    assert in_place_of_torch_adamw(torch.optim.AdamW, torch.device("cpu")) is RowAwareAdamW
    assert in_place_of_torch_adamw(torch.optim.AdamW, torch.device("cuda")) is torch.optim.AdamW
    with speed.switched(row_adamw=False):
        assert in_place_of_torch_adamw(torch.optim.AdamW, torch.device("cpu")) is torch.optim.AdamW


def test_every_trick_off_encodes_as_every_trick_on(tiny_bert_dir):
    fast = SentenceTransformer(tiny_bert_dir, device="cpu").encode(SENTENCES, batch_size=32)
    with speed.switched(**{name: False for name in TRICKS}):
        plain_model = SentenceTransformer(tiny_bert_dir, device="cpu")
        plain = plain_model.encode(SENTENCES, batch_size=32)
        assert type(plain_model[0].auto_model).__module__.startswith("transformers.")  # no native encoder
    np.testing.assert_allclose(plain, fast, rtol=0, atol=1e-5)


@pytest.fixture(scope="module")
def tiny_bert_without_dropout(tiny_bert_dir, tmp_path_factory) -> str:
    import json
    import shutil

    folder = tmp_path_factory.mktemp("no_dropout") / "model"
    shutil.copytree(tiny_bert_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (folder / "config.json").write_text(json.dumps(config))
    return str(folder)


@pytest.mark.parametrize("name", sorted(TRICKS))
def test_each_trick_off_trains_as_with_it_on(tiny_bert_dir, tiny_bert_without_dropout, name):
    """Two MNRL steps: the same weights with the trick off (only rounding may differ). Dropout is off,
    except for the tricks that only run under dropout: those draw other (equally valid) masks."""
    from datasets import Dataset

    from sentforge import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentforge.losses import MultipleNegativesRankingLoss

    data = Dataset.from_dict({"anchor": SENTENCES[:16], "positive": SENTENCES[1:17]})
    under_dropout = name in ("fast_dropout", "training_attention", "attention_groups")
    folder = tiny_bert_dir if under_dropout else tiny_bert_without_dropout

    def trained() -> dict[str, torch.Tensor]:
        torch.manual_seed(0)
        model = SentenceTransformer(folder, device="cpu")
        args = SentenceTransformerTrainingArguments(output_dir="unused", max_steps=2, per_device_train_batch_size=8,
                                                    report_to=[], save_strategy="no", disable_tqdm=True, seed=3,
                                                    learning_rate=1e-3, max_grad_norm=0.01)
        SentenceTransformerTrainer(model=model, args=args, train_dataset=data,
                                   loss=MultipleNegativesRankingLoss(model)).train()
        return {k: v.detach().clone() for k, v in model.state_dict().items()}

    with_trick = trained()
    with speed.switched(**{name: False}):
        without = trained()
    assert with_trick.keys() == without.keys()
    moved = SentenceTransformer(folder, device="cpu").state_dict()
    assert any(not torch.equal(moved[k], with_trick[k]) for k in moved), "no training happened"
    if under_dropout:
        assert all(torch.isfinite(v).all() for v in without.values())
        return
    for key in with_trick:
        assert torch.allclose(with_trick[key], without[key], atol=1e-5), (name, key)


def test_a_declined_model_is_said_once(tiny_bert_dir, caplog):
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    model[0].auto_model.config.output_hidden_states = True  # the packed forward cannot give these
    with caplog.at_level(logging.INFO, logger="sentforge.speed"):
        model.encode(SENTENCES[:4])
        model.encode(SENTENCES[:4])
    lines = [r.getMessage() for r in caplog.records if "packed_forward does not run" in r.getMessage()]
    assert len(lines) == 1
    assert "output_attentions / output_hidden_states" in lines[0]


def test_private_apis_exist_in_the_installed_torch_and_transformers():
    assert len(PRIVATE_APIS) >= 10
    assert missing_private_apis() == []
