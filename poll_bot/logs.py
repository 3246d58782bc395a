"""Logging to stderr: plain lines by default, one JSON object per line with LOG_FORMAT=json.

Lines logged while a turn is handled carry its activity id and conversation id
(context variables set at the edge); lines outside a turn carry none. Every
line from every logger passes a redaction filter first, so bearer tokens,
JWTs and the configured app password never reach the output.
"""
from __future__ import annotations

import json
import logging
import os
import re
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Iterator, Mapping
from urllib.parse import quote, quote_plus

PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("plain", "json")
REDACTED = "[redacted]"
_BEARER = re.compile(r"(\bBearer\s+)[^\s'\",;]+", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+(\.[\w-]*)?")

_activity_id: ContextVar[str | None] = ContextVar("activity_id", default=None)
_conversation_id: ContextVar[str | None] = ContextVar("conversation_id", default=None)


@contextmanager
def log_context(activity_id: str | None = None, conversation_id: str | None = None) -> Iterator[None]:
    """Lines logged inside carry these ids (a task started inside keeps them unless it sets its own)."""
    tokens = _activity_id.set(activity_id or None), _conversation_id.set(conversation_id or None)
    try:
        yield
    finally:
        _activity_id.reset(tokens[0])
        _conversation_id.reset(tokens[1])


def configure_logging(env: Mapping[str, str] | None = None) -> None:
    """Send every logger's lines to stderr, formatted as LOG_FORMAT says, at LOG_LEVEL."""
    env = os.environ if env is None else env
    log_format = env.get("LOG_FORMAT", "plain").lower()
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be 'plain' or 'json', not {log_format!r}")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(PLAIN))
    handler.addFilter(Redact([env.get("MicrosoftAppPassword", "")]))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(env.get("LOG_LEVEL", "INFO").upper())


class Redact(logging.Filter):
    """Replaces secrets in a record's message and traceback before any formatter sees them."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        # A secret also appears URL-encoded in form bodies and query strings.
        forms = {form for secret in secrets if secret
                 for form in (secret, quote(secret, safe=""), quote_plus(secret))}
        self._secrets = sorted(forms, key=len, reverse=True)  # longest first: no half-replaced secret

    def redact(self, text: str) -> str:
        text = _BEARER.sub(rf"\g<1>{REDACTED}", text)
        text = _JWT.sub(REDACTED, text)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the turn's ids, and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, var in (("activity_id", _activity_id), ("conversation_id", _conversation_id)):
            if var.get() is not None:
                line[key] = var.get()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False)
