"""SentenceTransformer: an nn.Sequential of modules (Transformer -> Pooling -> [Dense] -> [Normalize]).

Same public shape as sentence-transformers: ``SentenceTransformer(name)``, ``.encode``,
``.similarity``, ``.save``; the same folder format in both directions.
"""

from __future__ import annotations

import os
import warnings
from collections import OrderedDict
from typing import Any, Callable, Iterable

import numpy as np
import torch
from torch import Tensor, nn

from . import format as fmt
from .encoding import encode as _encode
from .backends.choice import check_backend, split_onnx_options
from .errors import SentforgeError
from .fit_mixin import FitMixin
from .hub import resolve_model_path
from .hub_mixin import HubUploadMixin
from .model_info_mixin import ModelInfoMixin
from .model_inputs_mixin import ModelInputsMixin
from .model_truncation_mixin import ModelTruncationMixin
from .modules import Dense, Normalize, Pooling, Transformer
from .multi_process import MultiProcessMixin, encode_with_pool
from .similarity import SimilarityFunction
from .util.devices import checked_device

MODULE_CLASSES = {"Transformer": Transformer, "Pooling": Pooling, "Dense": Dense, "Normalize": Normalize}


class SentenceTransformer(
    ModelInfoMixin, ModelInputsMixin, ModelTruncationMixin, FitMixin, HubUploadMixin, MultiProcessMixin, nn.Sequential
):
    """Maps sentences to dense vectors. Load by name/path, or build from ``modules=[...]``.

    A new model is in eval mode. ``encode`` never changes the train/eval mode (it runs without
    dropout either way), so one model can encode from several threads at once.
    """

    def __init__(
        self,
        model_name_or_path: str | None = None,
        modules: Iterable[nn.Module] | None = None,
        device: str | None = None,
        prompts: dict[str, str] | None = None,
        default_prompt_name: str | None = None,
        similarity_fn_name: str | SimilarityFunction | None = None,
        cache_folder: str | None = None,
        trust_remote_code: bool = False,
        revision: str | None = None,
        local_files_only: bool = False,
        token: bool | str | None = None,
        use_auth_token: bool | str | None = None,
        truncate_dim: int | None = None,
        model_kwargs: dict[str, Any] | None = None,
        tokenizer_kwargs: dict[str, Any] | None = None,
        config_kwargs: dict[str, Any] | None = None,
        model_card_data: Any = None,
        backend: str = "torch",
        *,
        processor_kwargs: dict[str, Any] | None = None,
        use_kernels: bool = False,
        kernel_config: Any = None,
    ) -> None:
        check_backend(backend)
        checked_device(None if device is None else str(device), option="device")
        self._refuse_kernels(use_kernels, kernel_config)
        self.backend = backend
        model_kwargs, onnx_options = split_onnx_options(backend, model_kwargs)
        token = self._one_of("token", token, "use_auth_token", use_auth_token)
        tokenizer_kwargs = self._one_of("tokenizer_kwargs", tokenizer_kwargs, "processor_kwargs", processor_kwargs)
        self.prompts = dict(prompts or {})
        self.default_prompt_name = default_prompt_name
        self.truncate_dim = truncate_dim
        self._similarity_fn_name: str | None = None
        self.model_card_data = self.model_card_data_class() if model_card_data is None else model_card_data
        self.base_model_id: str | None = None
        saved_config: dict[str, Any] = {}
        path = None
        if model_name_or_path is not None and modules is None:
            path = resolve_model_path(
                model_name_or_path, cache_folder, revision, token, local_files_only,
                organization=self.default_huggingface_organization,
            )
            load_args = {
                "model_args": model_kwargs,
                "tokenizer_args": tokenizer_kwargs,
                "config_args": config_kwargs,
                "cache_dir": cache_folder,
                "local_files_only": local_files_only,
                "trust_remote_code": trust_remote_code,
            }
            modules, saved_config = _load_modules(path, load_args)
            self.base_model_id = _hub_id_or_none(str(model_name_or_path), self.default_huggingface_organization)
        if modules is None:
            raise SentforgeError("Pass a model name or folder, or modules=[...] to build a model from parts.")
        if not isinstance(modules, OrderedDict):
            modules = OrderedDict((str(i), m) for i, m in enumerate(modules))
        super().__init__(modules)
        # Saved prompts fill the names the caller did not pass (sentence-transformers' merge).
        self.prompts = {**dict(saved_config.get("prompts") or {}), **self.prompts}
        if default_prompt_name is None:
            self.default_prompt_name = saved_config.get("default_prompt_name")
        if self.default_prompt_name and self.default_prompt_name not in self.prompts:
            raise SentforgeError(
                f"default_prompt_name {self.default_prompt_name!r} is not among the prompts {list(self.prompts)}."
            )
        if self.truncate_dim is None and saved_config.get("truncate_dim") is not None:
            self.truncate_dim = int(saved_config["truncate_dim"])  # saved with the model (sentence-transformers 6)
        name = similarity_fn_name or saved_config.get("similarity_fn_name")
        if name:
            self.similarity_fn_name = name
        if device is None:
            device = self.get_device_name()
        self.to(device)
        self.eval()  # ready to encode; a trainer switches training mode on for its steps
        if backend == "onnx":
            from .backends.onnx_runtime import attach_onnx

            attach_onnx(self, path, onnx_options)

    # -- constructor arguments ---------------------------------------------------------------
    @staticmethod
    def _refuse_kernels(use_kernels: bool, kernel_config: Any) -> None:
        if use_kernels or kernel_config is not None:
            raise SentforgeError(
                "use_kernels / kernel_config (Hugging Face hub kernels) are not available in sentforge. "
                "Leave them out: the model runs with torch's own kernels."
            )

    @staticmethod
    def _one_of(name: str, value: Any, other_name: str, other: Any) -> Any:
        """``value``, or ``other`` passed under its alternative name (sentence-transformers accepts both)."""
        if other is None:
            return value
        if value is not None:
            raise SentforgeError(f"Both `{name}` and `{other_name}` were given. Pass only `{name}`.")
        return other

    # -- structure -------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        for p in self.parameters():
            return p.device
        return torch.device("cpu")

    def _first_module(self) -> nn.Module:
        return self._modules[next(iter(self._modules))]

    @property
    def tokenizer(self):
        return getattr(self._first_module(), "tokenizer", None)

    @tokenizer.setter
    def tokenizer(self, value: Any) -> None:
        self._first_module().tokenizer = value

    @property
    def max_seq_length(self) -> int | None:
        return getattr(self._first_module(), "max_seq_length", None)

    @max_seq_length.setter
    def max_seq_length(self, value: int) -> None:
        self._first_module().max_seq_length = value

    def get_max_seq_length(self) -> int | None:
        return self.max_seq_length

    def get_sentence_embedding_dimension(self) -> int | None:
        """Output size, after Dense layers and ``truncate_dim``."""
        dim = self._get_untruncated_embedding_dimension()
        if dim is not None and self.truncate_dim:
            dim = min(dim, self.truncate_dim)
        return dim

    def _get_untruncated_embedding_dimension(self) -> int | None:
        """Output size of the modules, ignoring ``truncate_dim`` (sentence-transformers' losses ask for it)."""
        dim = None
        for module in self:
            if hasattr(module, "get_sentence_embedding_dimension"):
                dim = module.get_sentence_embedding_dimension()
        if dim is None and hasattr(self._first_module(), "get_word_embedding_dimension"):
            dim = self._first_module().get_word_embedding_dimension()
        return dim

    get_embedding_dimension = get_sentence_embedding_dimension

    # -- memory ----------------------------------------------------------------------------
    def activation_checkpointing_enable(
        self, activation_checkpointing_kwargs: dict[str, Any] | None = None, every_n_layers: int = 1,
        offload: bool = False,
    ) -> None:
        """Recompute the encoder's activations in backward (less memory, ~30% slower steps); the
        trainer calls this for ``gradient_checkpointing=True``. Runs the Hugging Face forward."""
        encoders = [m.auto_model for m in self if isinstance(m, Transformer)]
        if not encoders:
            raise SentforgeError("Activation checkpointing needs a Transformer module in the model.")
        for encoder in encoders:
            if hasattr(encoder, "activation_checkpointing_enable"):
                encoder.activation_checkpointing_enable(
                    activation_checkpointing_kwargs=activation_checkpointing_kwargs,
                    every_n_layers=every_n_layers, offload=offload,
                )
            elif every_n_layers == 1 and not offload:  # transformers before the rename
                encoder.gradient_checkpointing_enable(gradient_checkpointing_kwargs=activation_checkpointing_kwargs)
            else:
                raise SentforgeError("every_n_layers and offload need a newer transformers "
                                     "(pip install -U transformers).")

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs: dict[str, Any] | None = None,
                                      **kwargs: Any) -> None:
        """The older name of ``activation_checkpointing_enable``."""
        self.activation_checkpointing_enable(gradient_checkpointing_kwargs, **kwargs)

    # -- inference -------------------------------------------------------------------------
    def tokenize(self, texts: list[str]) -> dict[str, Tensor]:
        return self._first_module().tokenize(texts)

    def forward(self, features: dict[str, Tensor], **kwargs: Any) -> dict[str, Tensor]:
        for module in self:
            features = module(features)
        return features

    def encode(self, sentences: str | list[str], **kwargs: Any) -> np.ndarray | Tensor | list:
        """Embed texts: ``batch_size=32, show_progress_bar=None, convert_to_numpy=True, convert_to_tensor=False,
        normalize_embeddings=False, precision="float32", truncate_dim=None, prompt=None, prompt_name=None,
        device=None, pool=None, chunk_size=None``. A string gives one vector, a list a matrix in the input's
        order. ``pool`` (from ``start_multi_process_pool``) or a list of devices spreads the work over processes."""
        if kwargs.get("pool") is not None or isinstance(kwargs.get("device"), list):
            return encode_with_pool(self, sentences, **kwargs)
        return _encode(self, sentences, **kwargs)

    def encode_query(self, sentences: str | list[str], **kwargs: Any):
        """``encode`` with the "query" prompt when neither ``prompt`` nor ``prompt_name`` is given; a model
        without one gets no prompt (not the default prompt), as in sentence-transformers."""
        return self.encode(sentences, **self._task_prompt(kwargs, "query"))

    def encode_document(self, sentences: str | list[str], **kwargs: Any):
        """``encode`` with the "document" prompt, as ``encode_query`` does with "query"."""
        return self.encode(sentences, **self._task_prompt(kwargs, "document"))

    def _task_prompt(self, kwargs: dict[str, Any], name: str) -> dict[str, Any]:
        """sentence-transformers models always have "query" and "document" prompts ("" unless set), so a
        missing one means an empty prompt."""
        if kwargs.get("prompt") is None and kwargs.get("prompt_name") is None:
            kwargs = {**kwargs, "prompt_name": None}
            if name in self.prompts:
                kwargs["prompt_name"] = name
            else:
                kwargs["prompt"] = ""
        return kwargs

    def _resolve_prompt(self, prompt_name: str | None, prompt: str | None) -> tuple[str | None, int | None]:
        if prompt is None:
            name = prompt_name or self.default_prompt_name
            if name is not None:
                if name not in self.prompts:
                    raise SentforgeError(
                        f"Prompt name {name!r} not found. Known prompts: {sorted(self.prompts) or 'none'}."
                    )
                prompt = self.prompts[name]
        if not prompt:
            return None, None
        length = None
        pooling = next((m for m in self if isinstance(m, Pooling)), None)
        if pooling is not None and not pooling.include_prompt:
            length = int(self.tokenize([prompt])["input_ids"].shape[-1]) - 1
        return prompt, length

    # -- similarity ------------------------------------------------------------------------
    @property
    def similarity_fn_name(self) -> str:
        if self._similarity_fn_name is None:
            self._similarity_fn_name = SimilarityFunction.COSINE.value
        return self._similarity_fn_name

    @similarity_fn_name.setter
    def similarity_fn_name(self, value: str | SimilarityFunction) -> None:
        self._similarity_fn_name = SimilarityFunction(
            value if isinstance(value, SimilarityFunction) else _canonical_similarity(value)
        ).value

    def similarity(self, embeddings1, embeddings2) -> Tensor:
        """Matrix of ``similarity_fn_name`` scores between two sets of embeddings."""
        return SimilarityFunction.to_similarity_fn(self.similarity_fn_name)(embeddings1, embeddings2)

    def similarity_pairwise(self, embeddings1, embeddings2) -> Tensor:
        """Score of row i against row i."""
        return SimilarityFunction.to_similarity_pairwise_fn(self.similarity_fn_name)(embeddings1, embeddings2)

    # -- evaluation ------------------------------------------------------------------------
    def evaluate(self, evaluator: Callable[..., Any], output_path: str | None = None) -> dict[str, float] | float:
        """Run ``evaluator`` on this model and return its metrics; ``output_path`` (created if missing)
        is where the evaluator may write its CSV results."""
        if not callable(evaluator):
            raise SentforgeError(
                f"evaluate() needs an evaluator (e.g. sentforge.evaluation.EmbeddingSimilarityEvaluator), not "
                f"{type(evaluator).__name__}."
            )
        if output_path is not None:
            os.makedirs(output_path, exist_ok=True)
        return evaluator(self, output_path)

    # -- persistence -----------------------------------------------------------------------
    def save(self, path: str, model_name: str | None = None, create_model_card: bool = True, **_: Any) -> None:
        """Write the sentence-transformers folder format (classic keys, safetensors), atomically."""
        from .saving import save_model

        save_model(self, path, model_name=model_name, create_model_card=create_model_card)

    save_pretrained = save

    @staticmethod
    def load(input_path: str) -> "SentenceTransformer":
        """Deprecated: use ``SentenceTransformer(input_path)``."""
        warnings.warn(
            "SentenceTransformer.load(...) is deprecated, use SentenceTransformer(...) instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return SentenceTransformer(input_path)

    def __repr__(self) -> str:
        lines = [f"  ({name}): {module!r}" for name, module in self._modules.items()]
        return "SentenceTransformer(\n" + "\n".join(lines) + "\n)"


def _hub_id_or_none(name: str, organization: str | None) -> str | None:
    """The hub id a model was loaded by (for the card's base_model), or None for a local folder."""
    from .hub import hub_repo_id

    if os.path.isdir(name):
        return None
    return hub_repo_id(name, organization)


def _canonical_similarity(value: str) -> str:
    from .similarity import _canonical

    return _canonical(value)


def _load_modules(path: str, load_args: dict[str, Any]) -> tuple[list[nn.Module] | OrderedDict[str, nn.Module],
                                                                  dict[str, Any]]:
    """Modules from a sentence-transformers folder (under their modules.json names), or Transformer + mean
    Pooling for a plain checkpoint."""
    modules_file = os.path.join(path, fmt.MODULES_FILE)
    if not os.path.exists(modules_file):
        if not os.path.exists(os.path.join(path, "config.json")):
            raise SentforgeError(
                f"{path!r} is not a model folder: it has neither modules.json (sentence-transformers format) nor "
                "config.json (a transformers checkpoint). Pass the folder you saved the model to."
            )
        transformer = _build_transformer(path, load_args)
        return [transformer, Pooling(transformer.get_word_embedding_dimension(), "mean")], {}
    config_file = os.path.join(path, fmt.ST_CONFIG_FILE)
    saved_config = fmt.read_json(config_file) if os.path.exists(config_file) else {}
    modules: OrderedDict[str, nn.Module] = OrderedDict()
    for entry in fmt.read_modules(path):
        class_name = fmt.module_class_name(entry.get("type", ""))
        folder = fmt.module_dir(path, entry)
        name = fmt.module_name(path, entry, taken=modules)
        if class_name == "Transformer":
            modules[name] = _build_transformer(folder, load_args)
        else:
            allow_pickle = (load_args.get("model_args") or {}).get("use_safetensors") is False
            modules[name] = MODULE_CLASSES[class_name].load(
                folder, trust_remote_code=load_args["trust_remote_code"], allow_pickle=allow_pickle
            )
    return modules, saved_config


def _build_transformer(folder: str, load_args: dict[str, Any]) -> Transformer:
    try:
        return Transformer.load(folder, **load_args)
    except SentforgeError:
        raise
    except (OSError, ValueError, KeyError) as err:
        raise SentforgeError(
            f"Could not load the transformer in {folder!r}: {err}. Check that the folder holds config.json, "
            "the tokenizer files and model.safetensors (re-save or re-download the model)."
        ) from None
