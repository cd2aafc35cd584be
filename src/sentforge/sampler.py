"""Drop-in path `sentforge.sampler` (as `sentence_transformers.sampler`): the batch samplers."""

from .base.sampler import *  # noqa: F401,F403
from .base.sampler import __all__  # noqa: F401
