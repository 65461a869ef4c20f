"""Logging set-up for the server and the worker: no secret and no personal data in any log line.

``configure(settings)`` installs one handler whose ``Redactor`` filter rewrites every record,
including exception tracebacks and records of third-party libraries, before it is written:

- secrets from the settings (tokens, app secrets, passwords) become ``***``;
- ``access_token=…`` in URLs becomes ``access_token=***`` (Graph API calls carry the page token there);
- phone numbers and ID-card numbers become placeholders.

The code itself never logs a worker's message text (only ids and error class names), and the
database engine hides SQL parameters in exceptions (``hide_parameters``), so a failed INSERT of a
message does not quote it. httpx logs every request URL at INFO: it is kept at WARNING.
"""

from __future__ import annotations

import logging
import re
import sys

_SECRET_SETTING = re.compile(r"SECRET|TOKEN|PASSWORD|KEY")
_ACCESS_TOKEN = re.compile(r"(access_token=)[^&\s'\"]+", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+")
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.-]?\d){8,10}(?!\d)")
_ID_NUMBER = re.compile(r"(?<!\d)(?:\d{12}|\d{9})(?!\d)")
QUIET_LOGGERS = ("httpx", "httpcore", "urllib3", "werkzeug")


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    text = _ACCESS_TOKEN.sub(r"\1***", text)
    text = _BEARER.sub(r"\1***", text)
    text = _PHONE.sub("[số điện thoại]", text)
    return _ID_NUMBER.sub("[số giấy tờ]", text)


class Redactor(logging.Filter):
    def __init__(self, secrets: tuple[str, ...] = ()):
        super().__init__()
        self.secrets = tuple(sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            message = str(record.msg)
        record.msg, record.args = redact(message, self.secrets), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def secrets_of(settings) -> tuple[str, ...]:
    values = []
    for name in settings:
        if _SECRET_SETTING.search(name):
            value = settings[name]
            if isinstance(value, str) and value:
                values.append(value)
    return tuple(values)


def configure(settings, stream=None, level: str | None = None) -> logging.Handler:
    """Route all logging through one redacting handler (to stderr unless ``stream`` is given)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(Redactor(secrets_of(settings)))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, str(level or settings["LOG_LEVEL"]).upper(), logging.INFO))
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    return handler
