"""CrossEncoder: scores text pairs jointly with a sequence-classification transformer.

Same constructor, ``predict`` and ``rank`` as sentence-transformers' CrossEncoder, and the same
folder format both ways (``folder.py``). A loaded model is in eval mode; ``predict`` never changes
the train/eval mode: it runs without dropout and without gradients whatever the mode is.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Literal, Sequence

import torch
from torch import Tensor, nn

from ..errors import SentforgeError
from ..util.devices import checked_device
from . import folder
from .arguments import apply_legacy_names
from .card_data import CrossEncoderModelCardData
from .fit_mixin import FitMixin
from .scoring import sequence_logits

logger = logging.getLogger(__name__)


class CrossEncoder(FitMixin, nn.Module):
    """A model that outputs a score (``num_labels=1``) or class logits for each (text, text) pair.

    ``CrossEncoder("all-MiniLM-L6-v2")`` puts a new one-label head on an encoder checkpoint;
    a folder saved by sentforge or sentence-transformers loads with its head and activation.
    ``fit(train_dataloader, ...)`` is the pre-v4 training API (``fit_mixin.py``).
    """

    model_type = "CrossEncoder"

    def __init__(
        self,
        model_name_or_path: str | None = None,
        num_labels: int | None = None,
        max_length: int | None = None,
        activation_fn: Callable | None = None,
        device: str | None = None,
        cache_folder: str | None = None,
        trust_remote_code: bool = False,
        revision: str | None = None,
        local_files_only: bool = False,
        token: bool | str | None = None,
        model_kwargs: dict[str, Any] | None = None,
        tokenizer_kwargs: dict[str, Any] | None = None,
        config_kwargs: dict[str, Any] | None = None,
        model_card_data: CrossEncoderModelCardData | None = None,
        backend: Literal["torch", "onnx", "openvino"] = "torch",
        *,
        modules: list[nn.Module] | None = None,
        prompts: dict[str, str] | None = None,
        default_prompt_name: str | None = None,
        processor_kwargs: dict[str, Any] | None = None,
        use_kernels: bool = False,
        kernel_config: Any = None,
        keep_in_fp32_modules: list[str] | None = None,
        **legacy: Any,
    ) -> None:
        super().__init__()
        args = apply_legacy_names(
            {"model_name_or_path": model_name_or_path, "model_kwargs": model_kwargs, "config_kwargs": config_kwargs,
             "processor_kwargs": processor_kwargs or tokenizer_kwargs, "cache_folder": cache_folder,
             "activation_fn": activation_fn},
            legacy,
        )
        _refuse_unsupported(backend, modules, use_kernels, kernel_config, keep_in_fp32_modules)
        checked_device(None if device is None else str(device), option="device")
        if args["model_name_or_path"] is None:
            raise SentforgeError("CrossEncoder needs a model: pass a folder path or a model id.")
        self.trust_remote_code = trust_remote_code
        self.model_card_data = model_card_data or CrossEncoderModelCardData()
        self.fast_forward = True  # padding-free encoder forward where the architecture allows it (same logits)
        from .loading import load_pretrained

        loaded = load_pretrained(
            str(args["model_name_or_path"]), num_labels=num_labels, max_length=max_length,
            cache_folder=args["cache_folder"], trust_remote_code=trust_remote_code, revision=revision,
            local_files_only=local_files_only, token=token, model_kwargs=args["model_kwargs"],
            processor_kwargs=args["processor_kwargs"], config_kwargs=args["config_kwargs"],
        )
        self.model = loaded.model
        self.tokenizer = loaded.tokenizer
        self.max_length = loaded.max_length
        self.base_model_id = loaded.hub_id
        self.prompts = {**loaded.settings.prompts, **(prompts or {})}
        self.default_prompt_name = default_prompt_name or loaded.settings.default_prompt_name
        chosen = args["activation_fn"]
        if chosen is None:
            chosen = folder.resolve_activation(loaded.settings.activation_fn_path, trust_remote_code)
        self.activation_fn = chosen if chosen is not None else self.get_default_activation_fn()
        self.model_card_data.register_model(self)
        self.to(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.eval()

    # -- attributes sentence-transformers' CrossEncoder has -------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if name == "activation_fn":  # a plain attribute, never a submodule: it is not part of the weights
            object.__setattr__(self, name, value)
            return
        super().__setattr__(name, value)

    @property
    def config(self):
        """The Hugging Face configuration of the classification model."""
        return self.model.config

    @property
    def num_labels(self) -> int:
        return int(self.model.config.num_labels)

    @property
    def max_seq_length(self) -> int | None:
        return self.max_length

    @max_seq_length.setter
    def max_seq_length(self, value: int | None) -> None:
        self.max_length = value

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def get_default_activation_fn(self) -> nn.Module:
        """Sigmoid for a one-label model (a probability-like score), else Identity (raw logits)."""
        return nn.Sigmoid() if self.num_labels == 1 else nn.Identity()

    # -- features and forward ------------------------------------------------------------------
    def preprocess(self, inputs: Sequence[Sequence[str]], prompt: str | None = None, task: str | None = None,
                   **_: Any) -> dict[str, Tensor]:
        """Token ids of (text, text) pairs, padded, truncated "longest_first" to ``max_length``."""
        first, second = _split_pairs(inputs)
        if prompt:
            first = [prompt + text for text in first]
        return dict(
            self.tokenizer(first, second, padding=True, truncation="longest_first", max_length=self.max_length,
                           return_tensors="pt")
        )

    def forward(self, features: dict[str, Tensor], **_: Any) -> dict[str, Tensor]:
        """``features`` plus ``"scores"``: the raw logits, ``[batch, num_labels]``."""
        return {**features, "scores": sequence_logits(self.model, features, fast=self.fast_forward)}

    def pair_logits(self, pairs: Sequence[Sequence[str]], prompt: str | None = None) -> Tensor:
        """Raw logits ``[len(pairs), num_labels]`` for text pairs (tokenize, move, forward): the losses' step."""
        features = {k: v.to(self.device) for k, v in self.preprocess(pairs, prompt=prompt).items()}
        return sequence_logits(self.model, features, fast=self.fast_forward)

    # -- inference -----------------------------------------------------------------------------
    def predict(self, inputs: Any = None, prompt_name: str | None = None, prompt: str | None = None,
                batch_size: int = 32, show_progress_bar: bool | None = None, activation_fn: Callable | None = None,
                apply_softmax: bool | None = False, convert_to_numpy: bool = True, convert_to_tensor: bool = False,
                **kwargs: Any):
        """Scores of text pairs (a numpy array by default); one pair in gives one score out.

        ``activation_fn`` (default: the model's) is applied to the logits; ``apply_softmax`` turns
        several labels into probabilities. ``sentences=`` is accepted as the older name of ``inputs``.
        """
        from .inference import predict_scores

        activation_fn = activation_fn or kwargs.pop("activation_fct", None)
        inputs = _older_names(inputs, kwargs)
        return predict_scores(
            self, inputs, prompt=self.resolve_prompt(prompt, prompt_name), batch_size=batch_size,
            show_progress_bar=show_progress_bar, activation_fn=activation_fn or self.activation_fn,
            apply_softmax=apply_softmax, convert_to_numpy=convert_to_numpy, convert_to_tensor=convert_to_tensor,
        )

    def rank(self, query: str, documents: Sequence[str], top_k: int | None = None, return_documents: bool = False,
             prompt_name: str | None = None, prompt: str | None = None, batch_size: int = 32,
             show_progress_bar: bool | None = None, activation_fn: Callable | None = None,
             **kwargs: Any) -> list[dict[str, Any]]:
        """``documents`` sorted by score for ``query``: ``[{"corpus_id", "score"[, "text"]}, ...]``, best first."""
        for ignored in ("convert_to_numpy", "convert_to_tensor", "apply_softmax", "num_workers"):
            kwargs.pop(ignored, None)
        activation_fn = activation_fn or kwargs.pop("activation_fct", None)
        unsupported = {name: kwargs.pop(name) for name in ("device", "pool", "chunk_size") if name in kwargs}
        if kwargs:
            raise TypeError(f"rank() got unexpected keyword arguments {sorted(kwargs)}")
        if self.num_labels != 1:
            raise SentforgeError(
                f"CrossEncoder.rank() needs a one-label model; this one has {self.num_labels} labels. "
                "Use predict() with (query, document) pairs instead."
            )
        scores = self.predict([[query, doc] for doc in documents], prompt_name=prompt_name, prompt=prompt,
                              batch_size=batch_size, show_progress_bar=show_progress_bar,
                              activation_fn=activation_fn, convert_to_tensor=True, **unsupported)
        results = [{"corpus_id": i, "score": score} for i, score in enumerate(scores.tolist())]
        if return_documents:
            for result in results:
                result["text"] = documents[result["corpus_id"]]
        return sorted(results, key=lambda r: r["score"], reverse=True)[:top_k]

    def resolve_prompt(self, prompt: str | None, prompt_name: str | None) -> str | None:
        """The prompt text to prepend to each pair's first text (an explicit ``prompt`` wins)."""
        if prompt is not None:
            return prompt
        name = prompt_name or self.default_prompt_name
        if name is None:
            return None
        if name not in self.prompts:
            raise SentforgeError(f"Prompt name {name!r} is not one of the model's prompts {sorted(self.prompts)}.")
        return self.prompts[name]

    # -- saving --------------------------------------------------------------------------------
    def save(self, path: str, model_name: str | None = None, create_model_card: bool = True,
             safe_serialization: bool = True, **_: Any) -> None:
        """Write the model in sentence-transformers' CrossEncoder folder format (safetensors), atomically."""
        from .saving import save_cross_encoder

        if not safe_serialization:
            raise SentforgeError("sentforge saves weights as safetensors only; drop safe_serialization=False.")
        save_cross_encoder(self, path, model_name=model_name, create_model_card=create_model_card)

    save_pretrained = save

    def __repr__(self) -> str:
        settings = {
            "architecture": type(self.model).__name__,
            "num_labels": self.num_labels,
            "max_length": self.max_length,
            "activation_fn": folder.activation_path(self.activation_fn) if isinstance(self.activation_fn, nn.Module)
            else repr(self.activation_fn),
        }
        return f"CrossEncoder({settings})"


def _older_names(inputs: Any, kwargs: dict[str, Any]) -> Any:
    """Accept ``sentences=`` / ``activation_fct=`` / ``num_workers=`` as sentence-transformers does."""
    if "sentences" in kwargs:
        if inputs is not None:
            raise TypeError("predict() got both `inputs` and `sentences`; pass one.")
        inputs = kwargs.pop("sentences")
    kwargs.pop("num_workers", None)
    for name in ("device", "pool", "chunk_size"):
        if kwargs.pop(name, None) is not None:
            raise SentforgeError(f"predict({name}=...) is not supported: sentforge scores in this process on the "
                                 "model's device; move the model with model.to(device) instead.")
    if kwargs:
        raise TypeError(f"predict() got unexpected keyword arguments {sorted(kwargs)}")
    if inputs is None:
        raise TypeError("predict() missing the `inputs` argument: a list of (text, text) pairs.")
    return inputs


def _split_pairs(inputs: Sequence[Sequence[str]]) -> tuple[list[str], list[str]]:
    first, second = [], []
    for position, pair in enumerate(inputs):
        if isinstance(pair, str) or len(pair) != 2:
            raise SentforgeError(
                f"A cross-encoder scores pairs of texts, but input {position} is {pair!r}. Pass a list of "
                "(text, text) pairs, e.g. [('query', 'document'), ...]."
            )
        if not all(isinstance(text, str) for text in pair):
            raise SentforgeError(f"Input {position} holds a non-text value: {pair!r}. Pass strings.")
        first.append(pair[0])
        second.append(pair[1])
    return first, second


def _refuse_unsupported(backend: str, modules, use_kernels: bool, kernel_config, keep_in_fp32_modules) -> None:
    if backend != "torch":
        raise SentforgeError(f"backend={backend!r} is not supported; sentforge's CrossEncoder runs on torch.")
    if modules is not None:
        raise SentforgeError("CrossEncoder(modules=...) is not supported; pass a model folder or id.")
    if use_kernels or kernel_config is not None:
        raise SentforgeError("use_kernels / kernel_config are not supported; leave them unset.")
    if keep_in_fp32_modules:
        raise SentforgeError("keep_in_fp32_modules is not supported; leave it unset.")
