"""Structured JSON logs (structlog) with the request id bound per request and PII masked."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import structlog
from structlog.types import EventDict, WrappedLogger

from mercato.core.security import mask_email, mask_free_text, mask_phone, mask_text


def _mask_address(value: str | None) -> str | None:
    return mask_text(value, keep=3)


def _mask_id_number(value: str | None) -> str | None:
    return mask_text(value, keep=2)


_PII_KEYS: dict[str, Callable[[str | None], str | None]] = {
    "phone": mask_phone,
    "mobile": mask_phone,
    "email": mask_email,
    "recipient": mask_text,
    "name": mask_text,
    "address": _mask_address,
    "detail": _mask_address,
    "id_number": _mask_id_number,
}
_SECRET_KEYS = {"password", "token", "code", "secret", "authorization", "cookie", "otp"}


# Request ids, trace ids and hashes are opaque identifiers, never personal data: their digit runs
# must stay intact so that log lines can still be correlated.
_IDENTIFIER_SUFFIXES = ("_id", "_ids", "_hash", "_digest", "_sha", "_uuid")
_IDENTIFIER_KEYS = {"id", "uuid", "hash", "digest", "sha", "etag", "trace", "span", "traceparent"}


def _is_identifier_key(lowered: str) -> bool:
    return lowered in _IDENTIFIER_KEYS or lowered.endswith(_IDENTIFIER_SUFFIXES)


def mask_pii(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Mask personal data and drop secrets from every log record."""
    for key, value in list(event_dict.items()):
        lowered = key.lower()
        if any(word in lowered for word in _SECRET_KEYS) and lowered not in {"event", "status_code"}:
            event_dict[key] = "[redacted]"
        elif lowered in _PII_KEYS and isinstance(value, str):
            event_dict[key] = _PII_KEYS[lowered](value)
        elif isinstance(value, str) and key != "event" and not _is_identifier_key(lowered):
            event_dict[key] = mask_free_text(value)
    return event_dict


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    """Configure structlog and the standard library to write one JSON object per line."""
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        mask_pii,
        structlog.processors.format_exc_info,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level, logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    # Taskiq logs every scheduled send and run at INFO (the outbox job runs every 2 s): keep its
    # warnings and errors only, unless Mercato itself is at DEBUG.
    if getattr(logging, level, logging.INFO) > logging.DEBUG:
        logging.getLogger("taskiq").setLevel(logging.WARNING)
