"""AdaptiveLayerLoss (2DMSE, Li et al. 2024): train the model so its earlier layers embed well too.

The wrapped loss runs once on the final layer, then once per sampled earlier layer, reusing the
hidden states of the one forward (pooling and later modules rerun on each layer's output). A KL
term pulls each earlier layer's embedding distribution toward the final layer's.
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import SentforgeError
from .base import BaseLoss, LabelKind, current_embedder, embedding_override

LI_2DMSE_CITATION = """
@misc{li20242d,
    title={2D Matryoshka Sentence Embeddings},
    author={Xianming Li and Zongxi Li and Jing Li and Haoran Xie and Qing Li},
    year={2024},
    eprint={2402.14776},
    archivePrefix={arXiv},
    primaryClass={cs.CL}
}
"""

LAYER_WEIGHTINGS = ("uniform", "log", "linear")


class LayerCache:
    """Stand-in for the Transformer module's ``forward``.

    With ``layer_idx`` None it runs the encoder with every hidden state kept and stores them in
    the features (``all_layer_embeddings``); with an index it returns that layer's hidden states
    as ``token_embeddings`` instead, without running the encoder.
    """

    def __init__(self, transformer: nn.Module) -> None:
        self.transformer = transformer
        self.layer_idx: int | None = None
        self.num_layers: int | None = None

    def set_layer_idx(self, layer_idx: int | None) -> None:
        self.layer_idx = layer_idx

    def __call__(self, features: dict[str, Tensor]) -> dict[str, Tensor]:
        if self.layer_idx is None:
            return self.run_all_layers(features)
        if "all_layer_embeddings" not in features:
            raise SentforgeError(
                "AdaptiveLayerLoss could not find the cached layer outputs: the wrapped loss must embed the same "
                "feature dicts on every call (losses that copy or split them, e.g. the Cached* losses, do not work "
                "inside AdaptiveLayerLoss). Use the loss without AdaptiveLayerLoss, or its non-cached version."
            )
        return {**features, "token_embeddings": features["all_layer_embeddings"][self.layer_idx]}

    def run_all_layers(self, features: dict[str, Tensor]) -> dict[str, Tensor]:
        encoder = self.transformer.auto_model
        inputs = {k: features[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in features}
        if "token_type_ids" in inputs and not _accepts_token_types(encoder):
            inputs.pop("token_type_ids")
        output = encoder(**inputs, output_hidden_states=True, return_dict=True)
        features["token_embeddings"] = output.last_hidden_state
        features["all_layer_embeddings"] = output.hidden_states  # the embedding layer's output first
        self.num_layers = len(output.hidden_states)
        return features


def _accepts_token_types(encoder: nn.Module) -> bool:
    """As the Transformer module: MPNet and configs without token types take no token_type_ids."""
    config = encoder.config
    return getattr(config, "type_vocab_size", 0) > 0 and config.model_type != "mpnet"


class EmbeddingRecorder:
    """Stand-in for the model's ``forward`` that keeps each output ``sentence_embedding``."""

    def __init__(self, forward: Callable) -> None:
        self.forward = forward
        self.embeddings: list[Tensor] = []

    def __call__(self, features: dict[str, Tensor], *args: Any, **kwargs: Any) -> dict[str, Tensor]:
        output = self.forward(features, *args, **kwargs)
        self.embeddings.append(output["sentence_embedding"])
        return output

    def take(self) -> Tensor:
        """The embeddings recorded since the last call, concatenated in call order."""
        embeddings = torch.cat(self.embeddings, dim=0)
        self.embeddings = []
        return embeddings


def unwrap_model(model: nn.Module) -> nn.Module:
    """The model inside DistributedDataParallel (``.module``) and torch.compile (``._orig_mod``) wrappers."""
    while not isinstance(model, nn.Sequential):
        inner = getattr(model, "_orig_mod", None) or getattr(model, "module", None)
        if inner is None:
            break
        model = inner
    return model


class AdaptiveLayerLoss(BaseLoss):
    """Wraps ``loss`` so it also trains the embeddings of earlier Transformer layers."""

    def __init__(
        self,
        model,
        loss: nn.Module,
        n_layers_per_step: int = 1,
        last_layer_weight: float = 1.0,
        prior_layers_weight: float = 1.0,
        kl_div_weight: float = 1.0,
        kl_temperature: float = 0.3,
        layer_weighting: Literal["uniform", "log", "linear"] | Callable[[int], float] = "uniform",
    ) -> None:
        super().__init__()
        self.model = model
        self.loss = loss
        self.n_layers_per_step = n_layers_per_step
        self.last_layer_weight = last_layer_weight
        self.prior_layers_weight = prior_layers_weight
        self.kl_div_weight = kl_div_weight
        self.kl_temperature = kl_temperature
        self.layer_weighting = layer_weighting
        if not callable(layer_weighting) and layer_weighting not in LAYER_WEIGHTINGS:
            raise ValueError(
                f'layer_weighting must be "uniform", "log", "linear", or a callable, but got {layer_weighting!r}.'
            )
        if not hasattr(unwrap_model(model)[0], "auto_model"):
            raise SentforgeError(
                "AdaptiveLayerLoss needs a model whose first module is a Transformer (it reads the encoder's "
                f"per-layer outputs), but the first module is {type(unwrap_model(model)[0]).__name__}."
            )
        if getattr(loss, "uses_gradient_cache", False):
            # Those losses backpropagate from a hook that runs after this loss has restored the model.
            warnings.warn(f"AdaptiveLayerLoss is not compatible with {loss.__class__.__name__}.", stacklevel=2)
        # The data the inner loss needs is what this loss needs.
        for name in ("label_kind", "label_range", "min_text_columns", "max_text_columns", "uses_in_batch_negatives"):
            setattr(self, name, getattr(loss, name, getattr(BaseLoss, name)))

    def requires_labels(self, num_text_columns: int) -> bool:
        inner = getattr(self.loss, "requires_labels", None)
        return inner(num_text_columns) if inner else self.label_kind is not LabelKind.NONE

    def get_layer_weight(self, layer_idx: int) -> float:
        """Weight of layer ``layer_idx``'s loss (0 is the embedding layer's output)."""
        if not isinstance(self.layer_weighting, str):
            return self.layer_weighting(layer_idx)
        if self.layer_weighting == "log":
            return 1.0 / (1.0 + math.log(1 + layer_idx))
        if self.layer_weighting == "linear":
            return 1.0 / (1 + layer_idx)
        return 1.0

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None) -> Tensor:
        model = unwrap_model(self.model)
        layers, recorder = LayerCache(model[0]), EmbeddingRecorder(model.forward)
        # One forward per column: the layer outputs are handed between calls through each column's dict.
        with (
            _forward_replaced(model[0], layers),
            _forward_replaced(model, recorder),
            embedding_override(_one_column_at_a_time(current_embedder())),
        ):
            return self._layer_losses(list(sentence_features), labels, layers, recorder)

    def _layer_losses(self, sentence_features, labels, layers: LayerCache, recorder: EmbeddingRecorder) -> Tensor:
        loss = self.loss(sentence_features, labels) * self.last_layer_weight
        if self.kl_temperature > 0:
            # The final layer is the teacher of the earlier ones: no gradient through it in the KL term.
            final = F.softmax(recorder.take() / self.kl_temperature, dim=-1).detach()
        if layers.num_layers is None:
            raise SentforgeError(
                f"AdaptiveLayerLoss: the wrapped {type(self.loss).__name__} never ran the model's Transformer."
            )
        layer_indices = range(layers.num_layers - 1)
        if 0 < self.n_layers_per_step < layers.num_layers - 1:
            layer_indices = random.sample(layer_indices, self.n_layers_per_step)
        for layer_idx in layer_indices:
            layers.set_layer_idx(layer_idx)
            layer_loss = self.loss(sentence_features, labels)
            weight = self.get_layer_weight(layer_idx)
            loss = loss + layer_loss * weight / len(layer_indices) * self.prior_layers_weight
            if self.kl_temperature > 0:
                log_probs = F.log_softmax(recorder.take() / self.kl_temperature, dim=-1)
                kl_div = F.kl_div(log_probs, final, reduction="batchmean")
                loss = loss + kl_div * self.kl_temperature * self.kl_div_weight
        return loss

    def get_config_dict(self) -> dict[str, Any]:
        if isinstance(self.layer_weighting, str):
            layer_weighting = self.layer_weighting
        else:
            layer_weighting = getattr(self.layer_weighting, "__name__", "custom")
        return {
            "loss": self.loss.__class__.__name__,
            "n_layers_per_step": self.n_layers_per_step,
            "last_layer_weight": self.last_layer_weight,
            "prior_layers_weight": self.prior_layers_weight,
            "kl_div_weight": self.kl_div_weight,
            "kl_temperature": self.kl_temperature,
            "layer_weighting": layer_weighting,
        }

    @property
    def citation(self) -> str:
        return LI_2DMSE_CITATION


@contextmanager
def _forward_replaced(module: nn.Module, forward: Callable) -> Iterator[None]:
    """``module.forward`` is ``forward`` inside the block (an instance attribute, removed afterwards)."""
    previous = vars(module).get("forward")
    module.forward = forward
    try:
        yield
    finally:
        if previous is None:
            del module.forward
        else:
            module.forward = previous


def _one_column_at_a_time(embed: Callable) -> Callable:
    """An embedder that hands ``embed`` one column per call, so columns are never merged into one forward."""

    def embed_each(model: nn.Module, features: list[dict[str, Tensor]]) -> list[Tensor]:
        return [embedding for column in features for embedding in embed(model, [column])]

    return embed_each
