"""CachedGISTEmbedLoss: GISTEmbedLoss computed with GradCache, so batches (and thus the number of
in-batch negatives) can be much larger than what fits one forward.

The guide embeds each mini-batch once, without gradients; the model's embeddings follow the
usual GradCache steps (see :mod:`sentforge.losses.gradcache`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import torch
from torch import Tensor, nn

from .distributed import all_gather_with_grad, get_rank
from .gist import _to_device
from .gradcache import CachedLossMixin, minibatch_ranges, slice_features
from .mega_batch_margin import check_mini_batch_num_tokens


class CachedGISTEmbedLoss(CachedLossMixin):
    """(anchor, positive[, negative_1, ...]) rows, no labels; ``guide`` is a frozen SentenceTransformer."""

    min_text_columns = 2
    uses_in_batch_negatives = True

    def __init__(
        self,
        model,
        guide,
        temperature: float = 0.01,
        mini_batch_size: int = 32,
        mini_batch_num_tokens: int | None = None,
        show_progress_bar: bool = False,
        margin_strategy: Literal["absolute", "relative"] = "absolute",
        margin: float = 0.0,
        contrast_anchors: bool = True,
        contrast_positives: bool = True,
        gather_across_devices: bool = False,
    ) -> None:
        super().__init__()
        from transformers import PreTrainedTokenizerBase

        if not hasattr(model, "tokenizer") or not hasattr(guide, "tokenizer"):
            raise ValueError("Both the training model and the guiding model must have a tokenizer attribute.")
        if not isinstance(model.tokenizer, PreTrainedTokenizerBase) or not isinstance(
            guide.tokenizer, PreTrainedTokenizerBase
        ):
            raise ValueError(
                "Both the training model and the guiding model must use a PreTrainedTokenizer from transformers."
            )
        check_mini_batch_num_tokens(mini_batch_num_tokens)
        if margin_strategy not in ("absolute", "relative"):
            raise ValueError("margin_strategy must be 'absolute' or 'relative'.")
        self.model = model
        self.guide = guide
        self.temperature = temperature
        self.similarity_fct = nn.CosineSimilarity(dim=-1)
        self.mini_batch_size = mini_batch_size
        self.mini_batch_num_tokens = mini_batch_num_tokens
        self.show_progress_bar = show_progress_bar
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

    def embed_guide(self, features: dict[str, Tensor], begin: int, end: int) -> Tensor:
        """The guide's embeddings of rows ``begin:end`` (re-tokenized for the guide when needed)."""
        minibatch = slice_features(features, begin, end)
        with torch.no_grad():
            if self.must_retokenize:
                texts = self.tokenizer.batch_decode(minibatch["input_ids"], skip_special_tokens=True)
                minibatch = _to_device(self.guide.tokenize(texts), self.guide.device)
            return self.guide(minibatch)["sentence_embedding"].detach()

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        features = list(sentence_features)
        guide_reps = [
            [self.embed_guide(column, begin, end) for begin, end in self._ranges(column)] for column in features
        ]
        # The guide's embeddings travel in the labels slot: GradCache hands it to calculate_loss.
        return self.forward_cached(features, guide_reps)

    def _ranges(self, features: dict[str, Tensor]) -> list[tuple[int, int]]:
        return minibatch_ranges(features, self.mini_batch_size, self.mini_batch_num_tokens)

    def calculate_loss(
        self, reps: list[list[Tensor]], reps_guided: list[list[Tensor]], *, with_backward: bool = False
    ) -> Tensor:
        """GIST's guided InfoNCE over the whole batch, ``mini_batch_size`` anchors at a time."""
        if len(reps) != len(reps_guided):
            raise ValueError("reps and reps_guided must have the same length")
        anchors, anchors_guide = torch.cat(reps[0]), torch.cat(reps_guided[0])
        candidates = [torch.cat(r) for r in reps[1:]]
        candidates_guide = [torch.cat(r) for r in reps_guided[1:]]
        batch_size = anchors.size(0)
        offset = 0
        if self.gather_across_devices:
            # Only the candidates are gathered; this rank scores its own anchors against all of them.
            candidates = [all_gather_with_grad(c) for c in candidates]
            candidates_guide = [all_gather_with_grad(c) for c in candidates_guide]
            offset = get_rank() * batch_size
        targets = torch.arange(offset, offset + batch_size, device=anchors.device)

        total = []
        for begin in range(0, batch_size, self.mini_batch_size):
            end = begin + self.mini_batch_size
            guided_ap = self.sim_matrix(anchors_guide[begin:end], candidates_guide[0])
            threshold = self._threshold(guided_ap.diagonal(offset=offset + begin).view(-1, 1))
            rows = torch.arange(guided_ap.size(0), device=guided_ap.device)
            is_positive = torch.zeros_like(guided_ap, dtype=torch.bool)
            is_positive[rows, offset + begin + rows] = True

            ap = self.sim_matrix(anchors[begin:end], candidates[0])
            scores = [ap.masked_fill((guided_ap > threshold) & ~is_positive, -torch.inf)]
            if self.contrast_anchors:
                guided = self.sim_matrix(anchors_guide[begin:end], anchors_guide)
                aa = self.sim_matrix(anchors[begin:end], anchors).masked_fill(guided > threshold, -torch.inf)
                scores.append(aa.index_put((rows, begin + rows), aa.new_tensor(-torch.inf)))  # no self-negative
            if self.contrast_positives:
                local = slice(offset + begin, min(offset + end, offset + batch_size))
                guided = self.sim_matrix(candidates_guide[0][local], candidates_guide[0])
                pp = self.sim_matrix(candidates[0][local], candidates[0]).masked_fill(guided > threshold, -torch.inf)
                scores.append(pp.index_put((rows, offset + begin + rows), pp.new_tensor(-torch.inf)))
            for negatives, negatives_guide in zip(candidates[1:], candidates_guide[1:]):
                guided = self.sim_matrix(anchors_guide[begin:end], negatives_guide)
                negative_sims = self.sim_matrix(anchors[begin:end], negatives)
                scores.append(negative_sims.masked_fill(guided > threshold, -torch.inf))

            logits = torch.cat(scores, dim=1) / self.temperature
            chunk = self.cross_entropy_loss(logits, targets[begin:end]) * len(logits) / batch_size
            if with_backward:
                chunk.backward()
                chunk = chunk.detach()
            total.append(chunk)
        return sum(total)

    def _threshold(self, guided_positive: Tensor) -> Tensor:
        """Guide similarity above which a candidate counts as a false negative."""
        if self.margin_strategy == "absolute":
            return guided_positive - self.margin
        return guided_positive - guided_positive.abs() * self.margin

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "guide": self.guide,
            "temperature": self.temperature,
            "mini_batch_size": self.mini_batch_size,
            "mini_batch_num_tokens": self.mini_batch_num_tokens,
            "margin_strategy": self.margin_strategy,
            "margin": self.margin,
            "contrast_anchors": self.contrast_anchors,
            "contrast_positives": self.contrast_positives,
            "gather_across_devices": self.gather_across_devices,
        }
