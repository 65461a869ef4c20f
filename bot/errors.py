"""Errors the package raises for its callers to report; ``bot/web/errors.py`` maps them to HTTP responses."""

from __future__ import annotations


class APIError(Exception):
    """A refusal to show an API client: a Vietnamese ``message``, an HTTP ``status`` and a short ``code``."""

    status = 400
    code = "bad_request"
    headers: dict[str, str] | None = None  # extra response headers (e.g. Retry-After)

    def __init__(self, message: str, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
