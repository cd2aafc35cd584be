"""A recipe chosen from the data (batch, epochs, lr, warmup, loss, Matryoshka, mining), written down with
its reason; the user's options win."""

from __future__ import annotations

import pytest

from sentforge.errors import SentforgeError
from sentforge.pipeline.data_profile import DataProfile
from sentforge.pipeline.plan import build_plan
from sentforge.pipeline.recipe_choice import choose_recipe
from sentforge.pipeline.recipe_search import candidate_recipes


def profile(task: str, rows: int, tokens=(20.0, 200.0), distinct: int = 0) -> DataProfile:
    columns = ("a", "b", "c")[: len(tokens)]
    return DataProfile(rows, task, columns, tuple(tokens), distinct)


def test_retrieval_pairs_get_mnrl_mined_negatives_matryoshka_and_several_epochs() -> None:
    recipe = choose_recipe(profile("pairs", 827))
    assert recipe.loss == "MultipleNegativesRankingLoss" and recipe.loss_params == {"scale": 20.0}
    assert recipe.mine and recipe.negatives_per_row == 1 and recipe.matryoshka
    assert recipe.args["per_device_train_batch_size"] == 32 and recipe.args["num_train_epochs"] > 1
    assert recipe.args["warmup_ratio"] == 0.1
    assert "827 rows" in recipe.reason and "steps per epoch" in recipe.reason
    record = recipe.to_dict()
    assert record["reason"] == recipe.reason and record["args"]["learning_rate"] == recipe.args["learning_rate"]


def test_large_sets_train_one_epoch_and_very_large_retrieval_sets_use_gradient_caching() -> None:
    triplets = choose_recipe(profile("triplets", 17_330, (15.0, 15.0, 15.0)))
    assert triplets.args["num_train_epochs"] == 1 and triplets.args["per_device_train_batch_size"] == 32
    big = choose_recipe(profile("pairs", 80_000))
    assert big.loss == "CachedMultipleNegativesRankingLoss" and big.args["per_device_train_batch_size"] == 128
    assert big.args["learning_rate"] < choose_recipe(profile("pairs", 800)).args["learning_rate"]


def test_score_losses_follow_the_label_kind() -> None:
    graded = choose_recipe(profile("scored-pairs", 5_000, (12.0, 12.0), distinct=140))
    assert graded.loss == "CoSENTLoss" and not graded.mine and not graded.matryoshka
    coarse = choose_recipe(profile("scored-pairs", 5_000, (12.0, 12.0), distinct=3))
    assert coarse.loss == "CosineSimilarityLoss" and "only 3 values" in coarse.reason
    assert choose_recipe(profile("binary-pairs", 3_000, (20.0, 20.0), distinct=2)).loss == "OnlineContrastiveLoss"


def test_options_the_user_gives_win_and_are_named_in_the_reason() -> None:
    user = {"per_device_train_batch_size": 8, "learning_rate": 1e-4}
    recipe = choose_recipe(profile("pairs", 827), user, mine=False, user_loss="TripletLoss")
    assert recipe.kept == user and recipe.to_dict()["args"]["per_device_train_batch_size"] == 8
    assert "Your options win" in recipe.reason and "--no-mine" in recipe.reason
    assert not recipe.mine and recipe.loss == "TripletLoss" and not recipe.matryoshka
    assert "104 steps per epoch at batch 8" in recipe.reason  # epochs follow the user's batch size


def test_plan_remembers_which_arguments_the_user_set() -> None:
    plan = build_plan("pairs.csv", None, {"lr": 3e-5, "no_mine": True, "search": 2})
    assert plan.given_args == {"learning_rate"} and not plan.mine and plan.search == 2
    assert plan.chooses_recipe
    with pytest.raises(SentforgeError, match="--search"):
        build_plan("pairs.csv", None, {"search": -1})


def test_search_candidates_start_with_the_chosen_recipe_and_keep_the_users_lr() -> None:
    recipe = choose_recipe(profile("scored-pairs", 5_000, (12.0, 12.0), distinct=140))
    candidates = candidate_recipes(recipe, "scored-pairs", 4)
    assert candidates[0] is recipe and [c.loss for c in candidates[1:3]] == ["AnglELoss", "CosineSimilarityLoss"]
    assert len(candidates) == 4 and candidates[3].args["learning_rate"] == recipe.args["learning_rate"] * 2
    fixed_lr = choose_recipe(profile("pairs", 800), {"learning_rate": 1e-5})
    assert all(c.args["learning_rate"] == fixed_lr.args["learning_rate"] for c in candidate_recipes(fixed_lr, "pairs", 5))
