"""The private torch and transformers APIs sentforge relies on, in one list (checked by the test suite).

A new torch or transformers release that renames one of these breaks the path named beside it; the
test ``tests/test_speed_switches.py`` resolves every entry against the installed versions.
"""

from __future__ import annotations

PRIVATE_APIS: tuple[tuple[str, str], ...] = (
    ("torch._C._nn.gelu", "speed/feed_forward.py: GELU into a scratch buffer"),
    ("torch._C._nn.gelu_", "speed/feed_forward.py: GELU in place at inference"),
    ("torch._C._get_mkldnn_enabled", "speed/feed_forward.py: oneDNN off around the recomputed GELU"),
    ("torch._C._set_mkldnn_enabled", "speed/feed_forward.py"),
    ("torch.ops.aten.gelu_backward", "speed/feed_forward.py: GELU's backward from the saved input"),
    ("torch._foreach_norm", "speed/grad_clip.py: all gradient norms in one call"),
    ("torch._foreach_mul_", "speed/grad_clip.py: all gradients scaled in one call"),
    ("torch.ops.quantized.linear_prepack", "speed/int8_linear.py: int8 weights packed for fbgemm"),
    ("torch.ops.quantized.linear_dynamic", "speed/int8_linear.py: the int8 product"),
    ("torch.Tensor._backward_hooks", "speed/embedding_rows.py: a hooked weight keeps torch's gradient"),
    ("torch.Tensor._post_accumulate_grad_hooks", "speed/embedding_rows.py"),
    ("torch.nn.Module()._parameters", "speed/native_loading.py: moving the native encoder's tensors into transformers'"),
    ("torch.Tensor._version", "evaluation/last_run.py: whether weights changed since an evaluator last ran"),
    ("transformers.Trainer._save", "training/trainer.py, cross_encoder/trainer.py: the sentence-transformers folder"),
    ("transformers.Trainer._load_from_checkpoint", "both trainers: resume from that folder"),
    ("transformers.Trainer._load_best_model", "both trainers: the best checkpoint, and its step for the card"),
    ("transformers.Trainer._clip_grad_norm", "both trainers: speed/grad_clip.py on CPU (optional: without it, "
     "as in transformers 5.0, transformers clips the gradients itself)"),
    ("transformers.Trainer._save_checkpoint", "pipeline/stopped_run.py: a checkpoint when training stops"),
)
"""(dotted name, where it is used and why); ``Class()`` reads an attribute of a fresh instance."""

OPTIONAL_APIS = frozenset({"transformers.Trainer._clip_grad_norm"})
"""Entries whose absence only skips a speed-up: the standard path runs instead."""


def missing_private_apis(include_optional: bool = False) -> list[str]:
    """The entries of ``PRIVATE_APIS`` the installed torch/transformers do not have (the optional ones too
    when asked)."""
    import importlib

    missing = []
    for dotted, _ in PRIVATE_APIS:
        if dotted in OPTIONAL_APIS and not include_optional:
            continue
        parts = dotted.split(".")
        try:
            target = importlib.import_module(parts[0])
            for index, part in enumerate(parts[1:], start=1):
                if part.endswith("()"):  # an instance attribute: read it off a fresh instance
                    target = getattr(target, part[:-2])()
                elif hasattr(target, part):
                    target = getattr(target, part)
                else:
                    target = importlib.import_module(".".join(parts[: index + 1]))
        except (ImportError, AttributeError, RuntimeError):
            missing.append(dotted)
    return missing
