"""The `sentforge train` pipeline without a terminal: plan -> prepare -> choose -> doctor -> train -> card.

Everything it has to say goes through a :class:`Reporter`; the command line prints it, Python
callers may collect it or ignore it.
"""

from sentforge.pipeline.preflight import Preflight, preflight
from sentforge.pipeline.reporter import NullReporter, Reporter

__all__ = ["NullReporter", "Preflight", "Reporter", "preflight"]
