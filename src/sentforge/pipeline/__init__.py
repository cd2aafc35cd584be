"""The `sentforge train` pipeline without a terminal: plan -> prepare -> choose -> doctor -> train -> card.

Everything it has to say goes through a :class:`Reporter`; the command line prints it, Python
callers may collect it or ignore it. ``train(...)`` and ``check(...)`` run it in one call.
"""

from .api import check, plan_for, train
from .preflight import Preflight, preflight
from .reporter import ListReporter, NullReporter, Reporter

__all__ = ["ListReporter", "NullReporter", "Preflight", "Reporter", "check", "plan_for", "preflight", "train"]
