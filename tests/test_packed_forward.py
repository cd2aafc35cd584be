"""The packed (padding-free) forward must equal the Hugging Face forward at every real token.

Reference: ``hf_model(input_ids, attention_mask).last_hidden_state`` of transformers' BertModel /
MPNetModel. Tolerances: 1e-5 max abs difference on outputs (fp32, eval mode); gradients with
dropout off agree to 1e-5 relative (norm of the difference over the norm of the reference).
"""

from __future__ import annotations

import csv
import os
import re

import pytest
import torch
from torch import nn

from sentforge.speed.packed_forward import packed_forward, packed_forward_unsupported_reason
from sentforge.speed.packed_layout import build_layout, sentence_groups

VOCAB = 60
OUT_TOL = 1e-5
GRAD_RTOL = 1e-5


def tiny_bert(dropout: float = 0.0, **extra) -> nn.Module:
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
        max_position_embeddings=160, hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout, **extra,
    )  # fmt: skip
    return BertModel(config)


def tiny_mpnet(dropout: float = 0.0, **extra) -> nn.Module:
    from transformers import MPNetConfig, MPNetModel

    torch.manual_seed(0)
    config = MPNetConfig(
        vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
        max_position_embeddings=200, hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout, **extra,
    )  # fmt: skip
    model = MPNetModel(config)
    # Random weights: make the relative position bias large enough to matter in the comparison.
    nn.init.normal_(model.encoder.relative_attention_bias.weight, std=1.0)
    return model


MODELS = {"bert": tiny_bert, "mpnet": tiny_mpnet}


def mixed_batch(layout: str, pad_id: int, seq_len: int = 150, seed: int = 1):
    """input_ids/attention_mask of very different lengths: one full row of seq_len (150 reaches
    MPNet's far relative-position buckets), then 3, 11, 1, 17 and 6 tokens."""
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([seq_len, 3, 11, 1, 17, 6])
    ids = torch.randint(2, VOCAB, (len(lengths), seq_len), generator=gen)
    mask = (torch.arange(seq_len)[None, :] < lengths[:, None]).long()
    if layout == "left":
        mask = mask.flip(1)
    elif layout == "holes":
        mask = (torch.rand(len(lengths), seq_len, generator=gen) > 0.3).long()
        mask[:, 0] = 1
    ids[mask == 0] = pad_id
    return ids, mask


def pad_id_of(model: nn.Module) -> int:
    return 1 if type(model).__name__ == "MPNetModel" else 0


def hf_forward(model: nn.Module, ids, mask, token_type_ids=None) -> torch.Tensor:
    kwargs = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
    return model(input_ids=ids, attention_mask=mask, **kwargs).last_hidden_state


@pytest.mark.parametrize("arch", ["bert", "mpnet"])
@pytest.mark.parametrize("layout", ["right", "left", "holes"])
@pytest.mark.parametrize("tokens_per_chunk", [None, 30])
def test_eval_output_equals_hf_at_real_tokens(arch, layout, tokens_per_chunk):
    model = MODELS[arch]().eval()
    ids, mask = mixed_batch(layout, pad_id_of(model))
    with torch.no_grad():
        expected = hf_forward(model, ids, mask)
        got = packed_forward(model, ids, mask, tokens_per_chunk=tokens_per_chunk)
    real = mask.bool()
    assert got.shape == expected.shape
    assert (got[real] - expected[real]).abs().max().item() < OUT_TOL
    assert got[~real].abs().max().item() == 0.0


def test_bert_token_type_ids_are_used():
    model = tiny_bert().eval()
    ids, mask = mixed_batch("right", 0)
    token_types = (torch.arange(ids.shape[1])[None, :] >= 4).long().expand_as(ids)
    with torch.no_grad():
        expected = hf_forward(model, ids, mask, token_types)
        got = packed_forward(model, ids, mask, token_types)
        without_types = packed_forward(model, ids, mask)
    real = mask.bool()
    assert (got[real] - expected[real]).abs().max().item() < OUT_TOL
    assert (without_types[real] - expected[real]).abs().max().item() > 1e-3


def test_mpnet_positions_follow_input_ids_like_hf():
    """MPNet derives positions from ids != 1, even when the tokenizer pads with another id."""
    model = tiny_mpnet().eval()
    ids, mask = mixed_batch("left", pad_id=0)  # pads are id 0 here, so HF counts them as positions
    ids[2, -2] = 1  # a real token with MPNet's padding id keeps position 1
    with torch.no_grad():
        expected = hf_forward(model, ids, mask)
        got = packed_forward(model, ids, mask)
    real = mask.bool()
    assert (got[real] - expected[real]).abs().max().item() < OUT_TOL


@pytest.mark.parametrize("arch", ["bert", "mpnet"])
def test_empty_rows_and_no_padding(arch):
    model = MODELS[arch]().eval()
    ids, mask = mixed_batch("right", pad_id_of(model), seq_len=30)
    mask[3] = 0
    ids[3] = pad_id_of(model)
    with torch.no_grad():
        expected = hf_forward(model, ids, mask)
        got = packed_forward(model, ids, mask)
        full = packed_forward(model, ids[:1], mask[:1])
    real = mask.bool()
    assert (got[real] - expected[real]).abs().max().item() < OUT_TOL
    assert got[3].abs().max().item() == 0.0
    assert (full[0] - expected[0]).abs().max().item() < OUT_TOL


def assert_grads_close(got: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    """Relative 1e-5 per parameter. Gradients that are zero in exact math (the key bias: softmax
    ignores a per-row shift) are float noise on both sides; they only need to stay below
    1e-6 of the largest gradient norm."""
    assert set(got) == set(expected)
    noise_floor = 1e-6 * max(grad.norm().item() for grad in expected.values())
    for name, grad in expected.items():
        if grad.norm().item() < noise_floor:
            assert got[name].norm().item() < noise_floor, name
            continue
        error = (got[name] - grad).norm() / grad.norm()
        assert error.item() < GRAD_RTOL, name


def real_token_loss(output: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = torch.randn(output.shape, generator=torch.Generator().manual_seed(7))
    return (output * weights * mask[..., None]).sum()


@pytest.mark.parametrize("arch", ["bert", "mpnet"])
@pytest.mark.parametrize(("layout", "tokens_per_chunk"), [("right", None), ("holes", None), ("right", 30)])
def test_gradients_equal_hf_with_dropout_off(arch, layout, tokens_per_chunk):
    model = MODELS[arch](dropout=0.0).train()
    ids, mask = mixed_batch(layout, pad_id_of(model), seq_len=40)

    real_token_loss(hf_forward(model, ids, mask), mask).backward()
    expected = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    real_token_loss(packed_forward(model, ids, mask, tokens_per_chunk=tokens_per_chunk), mask).backward()
    got = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}

    assert any("relative_attention_bias" in n for n in got) == (arch == "mpnet")
    assert_grads_close(got, expected)


DROPOUT_SITES = {  # module names of BertModel and MPNetModel
    "embeddings": r"^embeddings\.dropout$",
    "attention probabilities": r"attention\.(self|attn)\.dropout$",
    "attention output": r"attention\.(output\.)?dropout$",
    "feed-forward output": r"layer\.\d+\.output\.dropout$",
}


def _set_dropout(model: nn.Module, site: str, p: float) -> None:
    """Dropout p at one site, 0 at the others."""
    for name, module in model.named_modules():
        if isinstance(module, nn.Dropout):
            module.p = p if re.search(DROPOUT_SITES[site], name) else 0.0


@pytest.mark.parametrize("arch", ["bert", "mpnet"])
@pytest.mark.parametrize("site", sorted(DROPOUT_SITES))
def test_train_mode_applies_dropout_at_each_site(arch, site):
    """Dropout at one site alone changes the training forward; with all p = 0 it equals eval mode."""
    model = MODELS[arch](dropout=0.0)
    ids, mask = mixed_batch("right", pad_id_of(model), seq_len=40)
    reference = packed_forward(model.eval(), ids, mask)
    model.train()
    assert torch.allclose(packed_forward(model, ids, mask), reference, atol=1e-6)
    _set_dropout(model, site, 0.5)
    assert sum(m.p > 0 for m in model.modules() if isinstance(m, nn.Dropout)) >= 1
    first, second = packed_forward(model, ids, mask), packed_forward(model, ids, mask)
    real = mask.bool()
    assert (first - reference)[real].abs().max().item() > 1e-3
    assert (first - second)[real].abs().max().item() > 1e-3  # a new mask per call


@pytest.mark.parametrize("p", [0.1, 0.25, 0.5])
def test_fast_dropout_keeps_one_minus_p_and_rescales(p):
    from sentforge.speed.fast_dropout import dropout, keep_mask

    torch.manual_seed(0)
    kept = keep_mask(torch.Size([1000, 1000]), p, torch.device("cpu")).float().mean().item()
    assert abs(kept - (1 - p)) < 0.003  # 1e6 draws: 3 sigma is below 0.0015
    x = torch.rand(300, 200) + 0.5
    module = nn.Dropout(p).train()
    out = dropout(x, module)
    nonzero = out != 0
    assert abs(1 - nonzero.float().mean().item() - p) < 0.01
    assert torch.allclose(out[nonzero], x[nonzero] / (1 - p))
    assert dropout(x, module.eval()) is x


def test_unsupported_configs_fall_back():
    from transformers import DistilBertConfig, DistilBertModel

    distil = DistilBertModel(DistilBertConfig(vocab_size=VOCAB, dim=32, n_layers=1, n_heads=2, hidden_dim=37))
    ids, mask = mixed_batch("right", 0, seq_len=20)
    assert packed_forward(distil, ids, mask) is None
    assert "DistilBertModel" in packed_forward_unsupported_reason(distil)

    for model in (tiny_bert(output_hidden_states=True), tiny_mpnet(output_attentions=True)):
        assert packed_forward(model, ids, mask) is None
        assert "output_" in packed_forward_unsupported_reason(model)

    checkpointed = tiny_bert()
    getattr(checkpointed, "activation_checkpointing_enable", checkpointed.gradient_checkpointing_enable)()
    assert packed_forward(checkpointed, ids, mask) is None
    assert "checkpointing" in packed_forward_unsupported_reason(checkpointed)

    model = tiny_bert()
    assert packed_forward_unsupported_reason(model) is None
    assert packed_forward(model, ids, torch.zeros_like(mask)) is None  # nothing to encode
    assert packed_forward(model, ids, mask[:, None, None, :]) is None  # 4D masks are not ours
    assert packed_forward(model, ids[0], mask[0]) is None


def test_sentence_groups_keep_rows_in_order_within_the_budget():
    assert sentence_groups([5, 5, 5], None) == [slice(0, 3)]
    assert sentence_groups([5, 5, 5], 15) == [slice(0, 3)]
    assert sentence_groups([5, 5, 5, 40, 1], 10) == [slice(0, 2), slice(2, 3), slice(3, 4), slice(4, 5)]


def test_layout_indices():
    mask = torch.tensor([[1, 1, 1, 0], [0, 0, 0, 0], [0, 1, 1, 0], [1, 0, 1, 1]])
    layout = build_layout(mask)
    assert layout.token_index.tolist() == [0, 1, 2, 9, 10, 12, 14, 15]
    assert layout.columns.tolist() == [0, 1, 2, 1, 2, 0, 2, 3]
    assert (layout.num_seqs, layout.max_len) == (3, 3)  # the empty row is left out of attention
    assert layout.slot_index.tolist() == [0, 1, 2, 3, 4, 6, 7, 8]
    assert layout.key_mask.tolist() == [[True, True, True], [True, True, False], [True, True, True]]
    assert not layout.contiguous
    assert build_layout(mask[:3]).contiguous


STSB_TEST = os.path.join("stsb", "sts-test.csv")


@pytest.mark.integration
def test_minilm_on_stsb_matches_hf(minilm_path, shared_data):
    from transformers import AutoModel, AutoTokenizer

    with open(os.path.join(shared_data, STSB_TEST), encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    sentences = [s for row in rows[:32] for s in (row[5], row[6])]
    tokenizer = AutoTokenizer.from_pretrained(minilm_path)
    model = AutoModel.from_pretrained(minilm_path).eval()
    batch = tokenizer(sentences, padding=True, return_tensors="pt")
    real = batch["attention_mask"].bool()
    with torch.no_grad():
        expected = model(**batch).last_hidden_state
        got = packed_forward(model, batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    assert (got[real] - expected[real]).abs().max().item() < OUT_TOL

    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0
    model.train()
    real_token_loss(model(**batch).last_hidden_state, batch["attention_mask"]).backward()
    expected_grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    real_token_loss(packed_forward(model, batch["input_ids"], batch["attention_mask"]), batch["attention_mask"]).backward()
    assert_grads_close({n: p.grad for n, p in model.named_parameters() if p.grad is not None}, expected_grads)
