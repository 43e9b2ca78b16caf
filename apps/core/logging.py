"""structlog configuration: JSON lines, request id bound from context, PII masked."""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

import structlog

from apps.core.masking import mask_value

# Keys structlog and logging use for bookkeeping; their values are not user data. (A rendered
# `exception` is: its message may quote a mobile number or an IntegrityError's key values.)
_UNMASKED_KEYS = frozenset({"timestamp", "level", "logger", "request_id", "correlation_id"})


def mask_pii(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask phones, e-mails, PAN, GSTIN, bank accounts, JWTs and OTPs."""
    for key, value in list(event_dict.items()):
        if key in _UNMASKED_KEYS:
            continue
        event_dict[key] = mask_value(value, key=None if key == "event" else key)
    return event_dict


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]


def build_json_formatter() -> structlog.stdlib.ProcessorFormatter:
    """The formatter of every handler: stdlib records and structlog events alike end as JSON."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            mask_pii,
            structlog.processors.JSONRenderer(),
        ],
    )


def configure_structlog() -> None:
    structlog.configure(
        processors=[
            *_shared_processors(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


# Loggers that write one INFO line per task step (beat sending, worker receiving and finishing,
# django-structlog's enqueued/received/succeeded) and the request's start (its finish is logged).
QUIET_LOGGERS = (
    "celery.beat",
    "celery.worker.strategy",
    "celery.app.trace",
    "django_structlog.celery.receivers",
    "django_structlog.middlewares.request",
)


class QuietConsole(logging.Filter):
    """Below WARNING, drops the lines of periodic task runs and of a request's start, so an idle
    console stays quiet (the relay alone runs every 2 s) and a request is one line
    (`request_finished`: method, path, status, duration). Failures, retries and every other task's
    lines stay; a periodic task's own log lines (e.g. a sweep that found work) stay too."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        self._periodic: tuple[str, ...] | None = None

    def periodic_tasks(self) -> tuple[str, ...]:
        if self._periodic is None:
            from django.conf import settings

            specs = getattr(settings, "PERIODIC_TASKS", {})
            self._periodic = tuple(sorted({str(spec["task"]) for spec in specs.values()}))
        return self._periodic

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        if record.name == "django_structlog.middlewares.request":
            return not (isinstance(record.msg, dict) and record.msg.get("event") == "request_started")
        message = str(record.msg) if isinstance(record.msg, dict) else record.getMessage()
        return not any(task in message for task in self.periodic_tasks())


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


__all__ = [
    "QUIET_LOGGERS",
    "QuietConsole",
    "build_json_formatter",
    "configure_structlog",
    "get_logger",
    "logging",
    "mask_pii",
]


class MaskCredentialsInUrls(logging.Filter):
    """Masks credentials carried in a URL's query string (`?ticket=...`, `?token=...`) in lines of
    loggers that print request paths themselves: uvicorn's websocket line
    (`"WebSocket /ws/v1/stream/?ticket=..." [accepted]`). A realtime ticket is single-use and lives
    30 s, but it is a bearer credential while it lives, and no secret is written to a log."""

    _CREDENTIAL_RE = re.compile(r"\b(ticket|token|access_token|code)=[^&\s\"']+", re.IGNORECASE)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self._CREDENTIAL_RE.sub(r"\1=***", message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
