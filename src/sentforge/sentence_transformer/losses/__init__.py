"""Drop-in path ``sentforge.sentence_transformer.losses``: :mod:`sentforge.losses` under the
sentence-transformers 6 name, with its per-loss submodules (``...losses.mse`` and so on)."""

from ... import losses as _losses
from ...losses import *  # noqa: F403
from ...module_aliases import register_module_aliases

_MODULES = (
    "adaptive_layer", "angle", "batch_all_triplet", "batch_hard_soft_margin_triplet", "batch_hard_triplet",
    "batch_semi_hard_triplet", "cached_gist_embed", "cached_multiple_negatives_ranking",
    "cached_multiple_negatives_symmetric_ranking", "contrastive", "contrastive_tension", "cosent",
    "cosine_similarity", "denoising_auto_encoder", "distill_kl_div", "embed_distill", "gist_embed",
    "global_orthogonal_regularization", "margin_mse", "matryoshka", "matryoshka_2d", "mega_batch_margin", "mse",
    "multiple_negatives_ranking", "multiple_negatives_symmetric_ranking", "online_contrastive", "softmax", "triplet",
)

__all__ = list(_losses.__all__)

register_module_aliases(__name__, {name: f"sentforge.losses.{name}" for name in _MODULES})
