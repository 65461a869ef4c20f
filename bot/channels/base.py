"""What every channel adapter shares: the incoming message shape and the sender contract.

Adapters only translate. Incoming: platform payload -> ``IncomingMessage``. Outgoing:
``OutboxMessage`` body -> platform request. They never decide what to say.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Protocol

MAX_INCOMING_TEXT = 20_000  # stored as is up to this length; the NLU sees at most MAX_MESSAGE_CHARS


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value):
    """Text that every database and encoder accepts: NUL removed, lone surrogates (invalid UTF-16
    halves that JSON can carry as "\\ud800") replaced by U+FFFD. Non-strings pass through."""
    if not isinstance(value, str):
        return value
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = _SURROGATE.sub("\ufffd", value)
    return value


def from_epoch_ms(ms) -> dt.datetime | None:
    """Platform timestamps (milliseconds since the epoch, number or string) as aware UTC."""
    try:
        return dt.datetime.fromtimestamp(int(ms) / 1000, tz=dt.timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


@dataclass(frozen=True)
class IncomingMessage:
    channel: str  # messenger | zalo | web
    sender_id: str
    message_id: str  # platform id; (channel, message_id) is unique
    kind: str  # text | postback | attachment | follow | unfollow
    text: str | None = None
    payload: str | None = None  # quick-reply / postback payload ("/faq/…")
    display_name: str | None = None
    sent_at: dt.datetime | None = None
    account: str | None = None  # the page / OA id that received it (``bot.units``); None: the only one
    unit_id: int | None = None  # the unit chosen by the web chat / REST client; None: from the account, else the root


@dataclass
class SendContext:
    """What a sender needs to know about the conversation to apply the platform's window rules."""

    last_user_message_at: dt.datetime | None
    replies_since_user_message: int
    author: str  # bot | officer
    now: dt.datetime
    account: str | None = None  # the page / OA to send through (``bot.unit_channels``); None: the global settings


@dataclass
class SendResult:
    platform_message_id: str | None = None


class DeliveryError(Exception):
    """Base class. ``reason`` is Vietnamese text for officers (no message content, no secrets)."""

    retryable = False

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class TransientDeliveryError(DeliveryError):
    """5xx, 429, timeouts, connection errors: retry with backoff."""

    retryable = True


class PermanentDeliveryError(DeliveryError):
    """The platform rejected the request (bad token, user blocked the page…): do not retry."""


class WindowClosedError(DeliveryError):
    """The platform's messaging window rules forbid this send; the reason says what to do instead."""


class ChannelSender(Protocol):
    channel: str

    def check_window(self, ctx: SendContext) -> None:
        """Raise ``WindowClosedError`` if a message may not be sent now."""

    def send(self, recipient_id: str, body: dict, ctx: SendContext) -> SendResult:
        """Deliver one reply; raise a ``DeliveryError`` subclass on failure."""


def split_text(text: str, limit: int) -> list[str]:
    """Split a long text into chunks of at most ``limit`` characters, on paragraph, line or
    sentence boundaries where possible (never inside a word unless a word is longer than ``limit``)."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for sep in ("\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " "):
            pos = window.rfind(sep)
            if pos > limit // 3:
                cut = pos + (1 if sep.strip() in (".", "?", "!", ";", ",") else 0)
                break
        if cut <= 0:
            cut = limit
        chunks.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        chunks.append(rest)
    return chunks
