"""The packed training forward keeps less for the backward pass, with the same values.

Reference: the same packed forward written as separate torch ops (attention softmax, dropout
and products; GELU then the output Linear), run with the same random seed so both draw the same
dropout masks. Tolerances: outputs equal to 1e-6 (same ops in the same order), gradients 1e-5
relative per parameter (the backward pass is written by hand here, autograd's in the reference).
"""

from __future__ import annotations

from unittest import mock

import pytest
import torch
from torch import nn

from sentforge.speed import feed_forward as feed_forward_module
from sentforge.speed import packed_attention as packed_module
from sentforge.speed.fast_dropout import dropout
from sentforge.speed.packed_forward import packed_forward
from test_packed_forward import (
    MODELS,
    assert_grads_close,
    mixed_batch,
    pad_id_of,
    real_token_loss,
)


def unfused_attention(qkv, mask, scatter, gather, shape, scale, p_drop):
    """The attention of ``training_attention`` as separate autograd ops (the reference)."""
    n, heads, length, head_dim = shape
    buffer = qkv.new_zeros(3 * n * heads * length, head_dim).index_copy(0, scatter, qkv.reshape(-1, head_dim))
    q, k, v = buffer.view(3, n, heads, length, head_dim).unbind(0)
    out = packed_module._attention_with_fast_dropout(q, k, v, scale, nn.Dropout(p_drop), mask)
    return out.reshape(-1, head_dim).index_select(0, gather).view(-1, heads * head_dim)


def run(model, ids, mask, seed: int):
    """Output and parameter gradients of one training forward and backward."""
    model.zero_grad(set_to_none=True)
    torch.manual_seed(seed)
    output = packed_forward(model, ids, mask)
    real_token_loss(output, mask).backward()
    return output.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def saved_bytes(model, ids, mask) -> int:
    """Bytes of the distinct tensors autograd keeps for the backward pass (parameters left out)."""
    parameters = {p.untyped_storage().data_ptr() for p in model.parameters()}
    storages: dict[int, int] = {}

    def keep(tensor):
        pointer = tensor.untyped_storage().data_ptr()
        if pointer not in parameters:
            storages[pointer] = tensor.untyped_storage().nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(keep, lambda tensor: tensor):
        packed_forward(model, ids, mask)
    return sum(storages.values())


@pytest.mark.parametrize("arch", ["bert", "mpnet"])
@pytest.mark.parametrize("layout", ["right", "holes"])
def test_training_steps_equal_the_separate_ops(arch, layout):
    model = MODELS[arch](dropout=0.3).train()
    ids, mask = mixed_batch(layout, pad_id_of(model), seq_len=40)

    got_output, got_grads = run(model, ids, mask, seed=11)
    with mock.patch.object(packed_module, "training_attention", unfused_attention), \
            mock.patch.object(feed_forward_module, "_recomputes_gelu", lambda *_: False):
        expected_output, expected_grads = run(model, ids, mask, seed=11)

    real = mask.bool()
    assert (got_output[real] - expected_output[real]).abs().max().item() < 1e-6
    assert any("relative_attention_bias" in name for name in got_grads) == (arch == "mpnet")
    assert_grads_close(got_grads, expected_grads)
    _, other_seed = run(model, ids, mask, seed=12)  # the masks really are drawn: a new seed differs
    assert (other_seed["encoder.layer.0.intermediate.dense.weight"]
            - got_grads["encoder.layer.0.intermediate.dense.weight"]).abs().max().item() > 1e-4


@pytest.mark.parametrize("arch", ["bert", "mpnet"])
def test_training_forward_keeps_far_less_for_backward(arch, monkeypatch):
    from sentforge.speed import attention_groups

    monkeypatch.setattr(attention_groups, "MIN_SAVING", 2.0)  # one padded buffer on both sides
    model = MODELS[arch](dropout=0.1).train()
    ids, mask = mixed_batch("right", pad_id_of(model), seq_len=40)
    lean = saved_bytes(model, ids, mask)
    with mock.patch.object(packed_module, "training_attention", unfused_attention), \
            mock.patch.object(feed_forward_module, "_recomputes_gelu", lambda *_: False):
        separate = saved_bytes(model, ids, mask)
    assert lean < 0.6 * separate, (lean, separate)


def test_dropout_backward_uses_the_same_mask():
    module = nn.Dropout(0.4).train()
    x = (torch.rand(64, 48) + 0.5).requires_grad_()
    out = dropout(x, module)
    out.backward(torch.ones_like(out))
    kept = out.detach() != 0
    assert torch.equal(x.grad != 0, kept)
    assert torch.allclose(x.grad[kept], torch.full_like(x.grad[kept], 1 / 0.6))


def test_gelu_recompute_only_for_exact_gelu_and_plain_linear():
    from transformers import BertConfig
    from transformers.models.bert.modeling_bert import BertIntermediate

    exact = BertIntermediate(BertConfig(hidden_size=8, intermediate_size=16, hidden_act="gelu"))
    tanh = BertIntermediate(BertConfig(hidden_size=8, intermediate_size=16, hidden_act="gelu_new"))
    linear = nn.Linear(16, 8)
    assert feed_forward_module._recomputes_gelu(exact, linear)
    assert not feed_forward_module._recomputes_gelu(tanh, linear)
    assert not feed_forward_module._recomputes_gelu(exact, nn.Sequential(linear))
    with torch.no_grad():
        assert not feed_forward_module._recomputes_gelu(exact, linear)


@pytest.mark.parametrize("onednn_before", [True, False])
def test_gelu_of_a_training_step_runs_without_onednn(onednn_before):
    """oneDNN caches a kernel per shape, whose allocations fragment the heap: GELU avoids it."""
    model = MODELS["bert"](dropout=0.1).train()
    ids, mask = mixed_batch("right", pad_id_of(model), seq_len=24)
    flags_seen: list[bool] = []

    def recording(op):
        def call(*args, **kwargs):
            flags_seen.append(torch._C._get_mkldnn_enabled())
            return op(*args, **kwargs)
        return call

    torch._C._set_mkldnn_enabled(onednn_before)
    try:
        with mock.patch.object(torch._C._nn, "gelu", recording(torch._C._nn.gelu)), \
                mock.patch.object(torch.ops.aten, "gelu_backward", recording(torch.ops.aten.gelu_backward)):
            real_token_loss(packed_forward(model, ids, mask), mask).backward()
        assert torch._C._get_mkldnn_enabled() is onednn_before  # the caller's setting comes back
    finally:
        torch._C._set_mkldnn_enabled(True)
    layers = model.config.num_hidden_layers
    assert len(flags_seen) == 3 * layers  # forward, recomputed forward and gradient in each layer
    assert not any(flags_seen)


@pytest.mark.parametrize("arch", ["bert", "mpnet"])
def test_results_do_not_share_the_reused_scratch(arch):
    """Outputs and gradients of one step stay as they were while later steps reuse the scratch."""
    model = MODELS[arch](dropout=0.2).train()
    ids, mask = mixed_batch("right", pad_id_of(model), seq_len=40)
    torch.manual_seed(3)
    output = packed_forward(model, ids, mask)
    kept_output = output.detach().clone()
    real_token_loss(output, mask).backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    kept_grads = {n: g.clone() for n, g in grads.items()}
    model.zero_grad(set_to_none=True)
    other_ids, other_mask = mixed_batch("holes", pad_id_of(model), seq_len=40, seed=5)
    real_token_loss(packed_forward(model, other_ids, other_mask), other_mask).backward()
    assert torch.equal(output.detach(), kept_output)
    # (the word-embedding gradient is a kept buffer, refilled by design: speed/embedding_rows.py)
    changed = [n for n in grads if "word_embeddings" not in n and not torch.equal(grads[n], kept_grads[n])]
    assert changed == []


def test_scratch_reuses_one_buffer_per_name():
    from sentforge.speed.scratch import release, scratch

    like = torch.empty(0)
    first = scratch("test.buffer", (10, 4), like)
    smaller = scratch("test.buffer", (3, 5), like)
    assert smaller.untyped_storage().data_ptr() == first.untyped_storage().data_ptr()
    larger = scratch("test.buffer", (100, 4), like)
    assert larger.shape == (100, 4)
    assert larger.untyped_storage().data_ptr() != first.untyped_storage().data_ptr()
    assert scratch("test.other", (10, 4), like).untyped_storage().data_ptr() != larger.untyped_storage().data_ptr()
    release()
