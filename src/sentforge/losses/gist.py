"""GISTEmbedLoss: in-batch negatives ranking where a guide model vetoes likely false negatives.

A candidate the guide finds more similar to the anchor than the anchor's own positive (minus a
margin) is dropped from the softmax, instead of being pushed away as a negative.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from .base import BaseLoss, embed_columns
from .distributed import all_gather_with_grad, get_rank

GIST_CITATION = """
@misc{solatorio2024gistembed,
    title={GISTEmbed: Guided In-sample Selection of Training Negatives for Text Embedding Fine-tuning},
    author={Aivin V. Solatorio},
    year={2024},
    eprint={2402.16829},
    archivePrefix={arXiv},
    primaryClass={cs.LG}
}
"""


def _to_device(features: dict[str, Any], device) -> dict[str, Any]:
    return {k: v.to(device) if isinstance(v, Tensor) else v for k, v in features.items()}


class GISTEmbedLoss(BaseLoss):
    """(anchor, positive[, negative]) rows, no labels; ``guide`` is a frozen SentenceTransformer."""

    min_text_columns = 2
    max_text_columns = 3
    uses_in_batch_negatives = True

    def __init__(
        self,
        model,
        guide,
        temperature: float = 0.01,
        margin_strategy: str = "absolute",
        margin: float = 0.0,
        contrast_anchors: bool = True,
        contrast_positives: bool = True,
        gather_across_devices: bool = False,
    ) -> None:
        super().__init__()
        if margin_strategy not in ("absolute", "relative"):
            raise ValueError("margin_strategy must be 'absolute' or 'relative'.")
        if not hasattr(model, "tokenizer") or not hasattr(guide, "tokenizer"):
            raise ValueError("Both the training model and the guiding model must have a tokenizer attribute.")
        self.model = model
        self.guide = guide
        self.temperature = temperature
        self.similarity_fct = nn.CosineSimilarity(dim=-1)
        self.must_retokenize = (
            model.tokenizer.get_vocab() != guide.tokenizer.get_vocab() or guide.max_seq_length < model.max_seq_length
        )
        if self.must_retokenize:
            self.tokenizer = model.tokenizer
        self.margin_strategy = margin_strategy
        self.margin = margin
        self.contrast_anchors = contrast_anchors
        self.contrast_positives = contrast_positives
        self.gather_across_devices = gather_across_devices
        self.cross_entropy_loss = nn.CrossEntropyLoss()

    def sim_matrix(self, embed1: Tensor, embed2: Tensor) -> Tensor:
        return self.similarity_fct(embed1.unsqueeze(1), embed2.unsqueeze(0))

    def _guide_features(self, sentence_features: list[dict[str, Tensor]]) -> list[dict[str, Tensor]]:
        if not self.must_retokenize:
            return [dict(features) for features in sentence_features]
        texts = [self.tokenizer.batch_decode(f["input_ids"], skip_special_tokens=True) for f in sentence_features]
        return [_to_device(self.guide.tokenize(batch), self.guide.device) for batch in texts]

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        sentence_features = list(sentence_features)
        guide_features = self._guide_features(sentence_features)  # copies: the guide must not see
        embeddings = embed_columns(self.model, sentence_features)  # the model's outputs
        with torch.no_grad():
            guide_embeddings = embed_columns(self.guide, guide_features)
        if len(embeddings) not in (2, 3):
            raise ValueError(f"Expected 2 or 3 embeddings, got {len(embeddings)}")
        return self.compute_loss_from_embeddings(embeddings, guide_embeddings)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], guide_embeddings: list[Tensor]) -> Tensor:
        anchor, positive, negative = (*embeddings, None)[:3]
        anchor_guide, positive_guide, negative_guide = (*guide_embeddings, None)[:3]
        batch_size = anchor.size(0)
        offset = 0
        if self.gather_across_devices:
            # Only the candidates are gathered; this rank scores its own anchors against all of them.
            offset = get_rank() * batch_size
            positive, positive_guide = all_gather_with_grad(positive), all_gather_with_grad(positive_guide)
            if negative is not None:
                negative, negative_guide = all_gather_with_grad(negative), all_gather_with_grad(negative_guide)

        guided_ap = self.sim_matrix(anchor_guide, positive_guide)
        guided_positive = guided_ap.diagonal(offset=offset).view(-1, 1)
        if self.margin_strategy == "absolute":
            threshold = guided_positive - self.margin
        else:
            threshold = guided_positive - guided_positive.abs() * self.margin

        def suppress(guided: Tensor, sim: Tensor, keep: Tensor | None = None) -> Tensor:
            mask = guided > threshold
            if keep is not None:
                mask = mask & ~keep
            return sim.masked_fill(mask, -torch.inf)

        rows = torch.arange(batch_size, device=anchor.device)
        is_positive = torch.zeros_like(guided_ap, dtype=torch.bool)
        is_positive[rows, offset + rows] = True
        scores = [suppress(guided_ap, self.sim_matrix(anchor, positive), keep=is_positive)]
        if self.contrast_anchors:
            scores.append(suppress(self.sim_matrix(anchor_guide, anchor_guide), self.sim_matrix(anchor, anchor)))
        if self.contrast_positives:
            local = slice(offset, offset + batch_size)
            scores.append(
                suppress(
                    self.sim_matrix(positive_guide[local], positive_guide),
                    self.sim_matrix(positive[local], positive),
                )
            )
        if negative is not None:
            scores.append(suppress(self.sim_matrix(anchor_guide, negative_guide), self.sim_matrix(anchor, negative)))
        logits = torch.cat(scores, dim=1) / self.temperature
        return self.cross_entropy_loss(logits, offset + rows)

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "guide": self.guide,
            "temperature": self.temperature,
            "margin_strategy": self.margin_strategy,
            "margin": self.margin,
            "contrast_anchors": self.contrast_anchors,
            "contrast_positives": self.contrast_positives,
            "gather_across_devices": self.gather_across_devices,
        }

    @property
    def citation(self) -> str:
        return GIST_CITATION
