"""Drop-in path ``sentforge.base.losses``: GradCache helpers (``gradcache``) and ``embed_columns``
(``merged_forward``)."""

from ...losses.gradcache import CachedLossMixin, RandContext
from ...module_aliases import register_module_aliases

__all__ = ["CachedLossMixin", "RandContext"]

register_module_aliases(
    __name__, {"gradcache": "sentforge.losses.gradcache", "merged_forward": "sentforge.losses.base"}
)
