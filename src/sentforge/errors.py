"""The one exception type users see: what is wrong, and how to fix it."""

from __future__ import annotations


class SentforgeError(ValueError):
    """A problem the user can fix (bad file, missing column, unknown model...).

    The message always says what is wrong and what to do about it. The CLI prints it
    without a traceback and exits with status 2.
    """
