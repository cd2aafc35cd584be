"""The speed layer: faster paths that give the same results as the plain ones, each with its own switch.

``configure``, ``switched`` and ``settings`` (``switches.py``) turn tricks off and show their state;
``private_apis.py`` lists the private torch and transformers APIs these paths rely on.
"""

from .switches import TRICKS, configure, enabled, settings, switched

__all__ = ["TRICKS", "configure", "enabled", "settings", "switched"]
