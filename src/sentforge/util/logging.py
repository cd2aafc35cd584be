"""Logging helpers, as ``sentence_transformers.util.logging``."""

from __future__ import annotations

import logging

import tqdm

from ..errors import SentforgeError

__all__ = ["LoggingHandler", "install_logger"]


class LoggingHandler(logging.Handler):
    """A handler that prints through ``tqdm.write``, so log lines do not break progress bars."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__(level)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.tqdm.write(self.format(record))
            self.flush()
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


NOTICE_LEVEL = 25


def install_logger(given_logger: logging.Logger, level: int = logging.WARNING,
                   fmt: str = "%(levelname)s:%(name)s:%(message)s") -> None:
    """Colour ``given_logger``'s output with coloredlogs and add a NOTICE level (25) with ``logger.notice``."""
    try:
        import coloredlogs
    except ImportError as error:
        raise SentforgeError("install_logger needs the coloredlogs package: pip install coloredlogs") from error

    logging.addLevelName(NOTICE_LEVEL, "NOTICE")

    def notice(self, message, *args, **kwargs):
        if self.isEnabledFor(NOTICE_LEVEL):
            self._log(NOTICE_LEVEL, message, args, **kwargs)

    logging.Logger.notice = notice
    field_styles = coloredlogs.DEFAULT_FIELD_STYLES.copy()
    field_styles["asctime"] = {}
    level_styles = coloredlogs.DEFAULT_LEVEL_STYLES.copy()
    level_styles["debug"] = {"color": "white", "faint": True}
    level_styles["notice"] = {"color": "cyan", "bold": True}
    coloredlogs.install(logger=given_logger, level=level, use_chroot=False, fmt=fmt,
                        level_styles=level_styles, field_styles=field_styles)
