"""GradCache (Gao et al. 2021): big contrastive batches in the memory of a small one.

1. Embed every column in mini-batches without a graph, saving each mini-batch's RNG state.
2. Compute the loss on those (detached) embeddings and backpropagate to them: their gradients
   are the cache.
3. When the caller runs ``loss.backward()``, a hook on the returned loss re-embeds each mini-batch
   with a graph, replaying its RNG state so dropout draws the same masks (and the forward's
   autocast setting, as backward runs outside it), and backpropagates
   ``embedding . cached_gradient`` (times the incoming gradient, so loss scaling and gradient
   accumulation still apply). Only one mini-batch of activations is alive at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from functools import partial

import torch
from torch import Tensor
from torch.nn.parallel import DistributedDataParallel
from torch.utils.checkpoint import get_device_states, set_device_states

from .base import BaseLoss, embed_columns


class RandContext:
    """Snapshot of the CPU and accelerator RNG states, restored (then undone) by ``with``."""

    def __init__(self, *tensors: Tensor) -> None:
        self.cpu_state = torch.get_rng_state()
        self.devices, self.device_states = get_device_states(*tensors)

    def __enter__(self) -> None:
        self._fork = torch.random.fork_rng(devices=self.devices, enabled=True)
        self._fork.__enter__()
        torch.set_rng_state(self.cpu_state)
        set_device_states(self.devices, self.device_states)

    def __exit__(self, *exc_info) -> None:
        self._fork.__exit__(*exc_info)
        self._fork = None


def autocast_like_now(device_type: str) -> Callable[[], AbstractContextManager]:
    """A factory re-entering the autocast setting active right now (or a no-op)."""
    if torch.is_autocast_enabled(device_type):
        return partial(torch.autocast, device_type, dtype=torch.get_autocast_dtype(device_type))
    return nullcontext


def batch_size_of(features: dict[str, Tensor]) -> int:
    """Number of rows in a tokenized features dict."""
    for key in ("input_ids", "attention_mask"):
        if isinstance(features.get(key), Tensor):
            return features[key].shape[0]
    return next(v.shape[0] for v in features.values() if isinstance(v, Tensor) and v.ndim > 0)


def minibatch_ranges(
    features: dict[str, Tensor], mini_batch_size: int, mini_batch_num_tokens: int | None = None
) -> list[tuple[int, int]]:
    """``(begin, end)`` row ranges covering the batch: ``mini_batch_size`` rows each, or, with
    ``mini_batch_num_tokens``, as many rows as fit that many non-padding tokens (at least one)."""
    batch_size = batch_size_of(features)
    if mini_batch_num_tokens is None:
        return [(b, min(b + mini_batch_size, batch_size)) for b in range(0, batch_size, mini_batch_size)]
    mask = features.get("attention_mask")
    if not isinstance(mask, Tensor):
        raise ValueError("mini_batch_num_tokens needs an attention_mask in the features; use mini_batch_size.")
    lengths = mask.sum(dim=1).tolist()
    ranges, begin = [], 0
    while begin < batch_size:
        end, tokens = begin + 1, lengths[begin]
        while end < batch_size and tokens + lengths[end] <= mini_batch_num_tokens:
            tokens += lengths[end]
            end += 1
        ranges.append((begin, end))
        begin = end
    return ranges


def slice_features(features: dict[str, Tensor], begin: int, end: int) -> dict[str, Tensor]:
    """Rows ``begin:end`` of a features dict, with padding columns that all these rows share dropped."""
    rows = batch_size_of(features)
    sliced = {
        key: value[begin:end] if isinstance(value, Tensor) and value.ndim > 0 and value.shape[0] == rows else value
        for key, value in features.items()
    }
    mask = sliced.get("attention_mask")
    if isinstance(mask, Tensor) and mask.ndim == 2 and mask.shape[1] > 0:
        used = mask.any(dim=0).nonzero()
        width = int(used.max()) + 1 if len(used) else 1
        if width < mask.shape[1]:
            seq_len = mask.shape[1]
            for key, value in sliced.items():
                if isinstance(value, Tensor) and value.ndim == 2 and value.shape[1] == seq_len:
                    sliced[key] = value[:, :width]
    return sliced


class CachedLossMixin(BaseLoss):
    """The GradCache forward. Subclasses set ``model`` and ``mini_batch_size`` and implement
    :meth:`calculate_loss`; their ``forward`` returns :meth:`forward_cached`."""

    uses_gradient_cache = True
    mini_batch_size: int
    mini_batch_num_tokens: int | None = None

    def calculate_loss(self, reps: list[list[Tensor]], labels: Tensor | None = None, *, with_backward: bool = False):
        """Loss from per-column lists of mini-batch embeddings; with ``with_backward`` also
        backpropagate it to those embeddings and return it detached."""
        raise NotImplementedError

    def embed_minibatch(self, features: dict[str, Tensor], begin: int, end: int, with_grad: bool):
        """Embed rows ``begin:end``; return the embeddings and the RNG state they were drawn with."""
        minibatch = slice_features(features, begin, end)
        random_state = RandContext(*(v for v in minibatch.values() if isinstance(v, Tensor)))
        with torch.set_grad_enabled(with_grad):
            reps = embed_columns(self.model, [minibatch])[0]
        return reps, random_state

    def replay_minibatch(
        self, features: dict[str, Tensor], begin: int, end: int, random_state: RandContext, autocast=nullcontext
    ) -> Tensor:
        """Embed rows ``begin:end`` again, with a graph and the first pass's randomness and autocast."""
        with random_state, autocast(), torch.enable_grad():
            return embed_columns(self.model, [slice_features(features, begin, end)])[0]

    def forward_cached(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None) -> Tensor:
        features = list(sentence_features)
        grad_enabled = torch.is_grad_enabled()
        device = next((v.device for v in features[0].values() if isinstance(v, Tensor)), torch.device("cpu"))
        autocast = autocast_like_now(device.type)
        ranges = [minibatch_ranges(f, self.mini_batch_size, self.mini_batch_num_tokens) for f in features]
        reps: list[list[Tensor]] = []
        states: list[list[RandContext]] = []
        for column, column_ranges in zip(features, ranges):
            embedded = [self.embed_minibatch(column, b, e, with_grad=False) for b, e in column_ranges]
            reps.append([r.detach().requires_grad_(grad_enabled) for r, _ in embedded])
            states.append([state for _, state in embedded])
        if not grad_enabled:
            return self.calculate_loss(reps, labels)

        loss = self.calculate_loss(reps, labels, with_backward=True).detach().requires_grad_()
        cache = [[r.grad for r in column] for column in reps]
        unused = [str(i) for i, column in enumerate(cache) if any(g is None for g in column)]
        if unused:
            raise ValueError(
                f"{type(self).__name__} did not use input column(s) {', '.join(unused)}; "
                "remove them from the dataset."
            )
        loss.register_hook(partial(_replay_backward, self, features, ranges, states, cache, autocast))
        return loss


def _replay_backward(
    loss_obj: CachedLossMixin, features, ranges, states, cache, autocast, grad_output: Tensor
) -> None:
    """Step 3: re-embed each mini-batch with a graph and push its cached gradient through it."""
    model = loss_obj.model
    total = sum(len(column) for column in cache)
    done = 0
    for column, column_ranges, column_states, column_grads in zip(features, ranges, states, cache):
        for (begin, end), state, grad in zip(column_ranges, column_states, column_grads):
            done += 1
            # Under DDP, only the last mini-batch's backward synchronises gradients.
            last = done == total
            sync = nullcontext() if last or not isinstance(model, DistributedDataParallel) else model.no_sync()
            with sync, torch.enable_grad():  # autograd runs hooks with grad mode off
                reps = loss_obj.replay_minibatch(column, begin, end, state, autocast)
                if not reps.requires_grad:
                    continue
                dtype = torch.promote_types(torch.promote_types(reps.dtype, grad.dtype), torch.float32)
                surrogate = torch.dot(reps.flatten().to(dtype), grad.flatten().to(dtype)) * grad_output
                surrogate.backward()
