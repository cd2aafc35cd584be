"""Drop-in path ``sentforge.sentence_transformer.modules`` (the old ``models``): the module classes."""

from ... import models as _models
from ...models import *  # noqa: F403
from ...module_aliases import register_module_aliases

__all__ = list(_models.__all__)

# ``normalize`` is the pre-6 path of base.modules.normalize.
register_module_aliases(__name__, {"pooling": "sentforge.modules.pooling", "normalize": "sentforge.modules.normalize"})
