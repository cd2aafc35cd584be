"""A training recipe chosen from the data: batch size, epochs, learning rate, warmup, loss and its
scale, Matryoshka dimensions and hard-negative mining, each written down with its reason.

The rules follow the data's shape (see :class:`DataProfile`): the task (which the columns and the
label kind give), the row count and the texts' lengths. Options the user gives always win: a value
set on the command line is kept and the reason says so.

=============  =====================================================================================
task           recipe
=============  =====================================================================================
pairs          MultipleNegativesRankingLoss (scale 20) + mined hard negatives, Matryoshka [d, d/2, d/4]
triplets       MultipleNegativesRankingLoss (scale 20), Matryoshka [d, d/2, d/4]
scored-pairs   CoSENTLoss (CosineSimilarityLoss when the scores take only a few values), batch 16
binary-pairs   OnlineContrastiveLoss (only the pairs the model still gets wrong), batch 32
=============  =====================================================================================

Epochs come from a budget of optimisation steps: small sets get several passes, large sets one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .data_profile import DataProfile

WARMUP_RATIO = 0.1
RANKING_SCALE = 20.0
"""MultipleNegativesRankingLoss's scale (1 / temperature 0.05), the value its retrieval models use."""
TARGET_STEPS = {"pairs": 100, "triplets": 100, "scored-pairs": 1200, "binary-pairs": 400}
"""Optimisation steps each task is given: epochs = steps / batches per epoch, within MAX_EPOCHS."""
MAX_EPOCHS = {"pairs": 4, "triplets": 4, "scored-pairs": 4, "binary-pairs": 4}
LARGE_SET_ROWS = 10_000
"""From this many rows a smaller learning rate keeps the many steps from drifting off the base model."""
CACHED_BATCH_ROWS = 50_000
"""From this many retrieval rows the batch grows to 128 through CachedMultipleNegativesRankingLoss."""
MATRYOSHKA_FRACTIONS = (1, 2, 4)
"""Matryoshka dimensions: the full dimension, a half and a quarter."""
FEW_SCORE_VALUES = 5
"""Scores with at most this many distinct values are coarse: a regression loss uses every pair."""


@dataclass
class RecipeChoice:
    """The recipe chosen from the data, before and after the user's options are applied."""

    args: dict[str, Any]
    loss: str
    loss_params: dict[str, Any] = field(default_factory=dict)
    matryoshka: bool = False
    mine: bool = False
    negatives_per_row: int = 0
    reasons: list[str] = field(default_factory=list)
    kept: dict[str, Any] = field(default_factory=dict)
    """Training arguments the user set, which win over the chosen values."""
    profile: DataProfile | None = None
    loss_reason: str = ""

    @property
    def reason(self) -> str:
        return " ".join(self.reasons)

    def summary(self) -> str:
        """One line: the values in use (the user's where given)."""
        args = {**self.args, **self.kept}
        parts = [
            f"batch {args.get('per_device_train_batch_size')}",
            _epochs(args.get("num_train_epochs")),
            f"lr {args.get('learning_rate'):g}",
            f"warmup {args.get('warmup_ratio'):g}",
            self.loss + (f" (scale {self.loss_params['scale']:g})" if "scale" in self.loss_params else ""),
        ]
        if self.matryoshka:
            parts.append("Matryoshka dims full, 1/2, 1/4")
        if self.mine:
            parts.append(f"{self.negatives_per_row} mined hard negative(s) per pair")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for metrics.json's ``recipe_choice``."""
        return {
            "args": {**self.args, **self.kept},
            "chosen_args": dict(self.args),
            "user_args": dict(self.kept),
            "loss": self.loss,
            "loss_params": dict(self.loss_params),
            "matryoshka": self.matryoshka,
            "mine_hard_negatives": self.mine,
            "negatives_per_row": self.negatives_per_row,
            "data": self.profile.describe() if self.profile else None,
            "reason": self.reason,
        }


def _epochs(value: Any) -> str:
    return f"{_number(value)} epoch" + ("" if value == 1 else "s")


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def choose_recipe(profile: DataProfile, user_args: dict[str, Any] | None = None, *, mine: bool = True,
                  user_loss: str | None = None) -> RecipeChoice:
    """The recipe for data of this ``profile``; ``user_args`` (given training arguments) win, and a
    ``user_loss`` other than auto keeps the loss as named (no Matryoshka wrapper around it)."""
    rules = {"pairs": _retrieval, "triplets": _triplets, "scored-pairs": _scores, "binary-pairs": _binary}
    choice = rules.get(profile.task, _retrieval)(profile)
    choice.profile = profile
    choice.loss_reason = choice.reasons[0]
    choice.reasons.insert(0, f"Data: {profile.describe()}.")
    _set_epochs(choice, profile, user_args or {})
    if not mine and choice.mine:
        choice.mine, choice.negatives_per_row = False, 0
        choice.reasons.append("No hard-negative mining (--no-mine).")
    if user_loss and user_loss.lower() != "auto":
        choice.loss, choice.loss_params, choice.matryoshka = user_loss, {}, False
        choice.loss_reason = "named by --loss."
        choice.reasons.append(f"Loss {user_loss} as named by --loss (no Matryoshka wrapper).")
    _keep_user_args(choice, user_args or {})
    return choice


def _retrieval(profile: DataProfile) -> RecipeChoice:
    cached = profile.rows >= CACHED_BATCH_ROWS
    batch = 128 if cached else 64 if profile.rows >= 4 * 1024 else 32
    lr = 2e-5 if profile.rows >= LARGE_SET_ROWS else 5e-5
    loss = "CachedMultipleNegativesRankingLoss" if cached else "MultipleNegativesRankingLoss"
    params: dict[str, Any] = {"scale": RANKING_SCALE}
    if cached:
        params["mini_batch_size"] = 32
    reasons = [
        f"Positive pairs: {loss} with scale {RANKING_SCALE:g} (temperature {1 / RANKING_SCALE:g}) learns from the "
        "other rows of the batch as negatives"
        + ("; a batch of 128 through gradient caching (mini-batches of 32) gives many negatives within memory." if cached
           else f"; batch {batch}, as large as the data keeps steps for (plain, no gradient cache: it would cost a "
                "second forward pass for no gain at this batch size)."),
        "Hard negatives mined with the base model from the training positives (one per pair, positive-aware: "
        "candidates above 95% of the pair's positive score are taken as unlabelled positives and skipped) give "
        "each row a close wrong answer to tell apart.",
        f"Learning rate {lr:g}: " + ("many rows, so a small step size." if lr < 5e-5 else
                                     "few rows, so a larger step size to move in few steps."),
        "Matryoshka dimensions (full, 1/2, 1/4): the embedding can be cut for a smaller index.",
    ]
    return RecipeChoice(_args(batch, lr), loss, params, matryoshka=True, mine=True, negatives_per_row=1,
                        reasons=reasons)


def _triplets(profile: DataProfile) -> RecipeChoice:
    batch = 32
    lr = 2e-5 if profile.rows >= 4 * LARGE_SET_ROWS else 5e-5
    reasons = [
        f"Triplets: MultipleNegativesRankingLoss with scale {RANKING_SCALE:g} uses each row's negative on top of the "
        f"in-batch negatives; batch {batch}: each row already brings a hard negative, so twice the steps of batch "
        "64 pay more than twice the in-batch negatives (NLI's held-out triplets: 0.915 against 0.909).",
        f"Learning rate {lr:g}.",
        "Matryoshka dimensions (full, 1/2, 1/4): the embedding can be cut for a smaller index.",
    ]
    return RecipeChoice(_args(batch, lr), "MultipleNegativesRankingLoss", {"scale": RANKING_SCALE},
                        matryoshka=True, reasons=reasons)


def _scores(profile: DataProfile) -> RecipeChoice:
    batch, lr = 16, 2e-5
    if 0 < profile.distinct_labels <= FEW_SCORE_VALUES:
        loss, params = "CosineSimilarityLoss", {}
        why = (f"the scores take only {profile.distinct_labels} values, so most pairs in a batch tie for a ranking "
               "loss: CosineSimilarityLoss regresses each pair's cosine onto its score instead.")
    else:
        loss, params = "CoSENTLoss", {"scale": RANKING_SCALE}
        why = (f"graded scores ({profile.distinct_labels} values): CoSENTLoss (scale {RANKING_SCALE:g}) ranks the pairs "
               "of each batch by score, which is what the Spearman correlation measures.")
    reasons = [f"Scored pairs: {why}", f"Batch {batch} and learning rate {lr:g}: many small steps on the scores."]
    return RecipeChoice(_args(batch, lr), loss, params, reasons=reasons)


def _binary(profile: DataProfile) -> RecipeChoice:
    batch, lr = 32, 2e-5
    reasons = [
        "0/1 labels: OnlineContrastiveLoss learns only from the pairs the model still gets wrong in each batch "
        "(positives far apart, negatives close together), the ones that decide the classification.",
        f"Batch {batch} and learning rate {lr:g}.",
    ]
    return RecipeChoice(_args(batch, lr), "OnlineContrastiveLoss", {}, reasons=reasons)


def _args(batch: int, lr: float) -> dict[str, Any]:
    return {"per_device_train_batch_size": batch, "learning_rate": lr, "warmup_ratio": WARMUP_RATIO}


def _set_epochs(choice: RecipeChoice, profile: DataProfile, user_args: dict[str, Any]) -> None:
    if "num_train_epochs" in user_args:
        return  # the user's count wins; "Your options win" says so
    batch = int(user_args.get("per_device_train_batch_size", choice.args["per_device_train_batch_size"]))
    per_epoch = max(1, math.ceil(profile.rows / batch))
    target, most = TARGET_STEPS.get(profile.task, 100), MAX_EPOCHS.get(profile.task, 4)
    epochs = min(most, max(1, math.ceil(target / per_epoch)))
    choice.args["num_train_epochs"] = epochs
    choice.reasons.append(
        f"{epochs} epoch{'s' if epochs > 1 else ''}: {per_epoch} steps per epoch at batch {batch}, for about "
        f"{target} steps in all (at most {most} epochs); the best epoch on the held-out data is kept."
    )


def _keep_user_args(choice: RecipeChoice, user_args: dict[str, Any]) -> None:
    kept = {key: value for key, value in user_args.items()
            if key in choice.args or key in ("max_steps", "num_train_epochs")}
    choice.kept = kept
    if kept:
        names = ", ".join(f"{key}={_number(value)}" for key, value in kept.items())
        choice.reasons.append(f"Your options win: {names}.")
