"""The REST channel (Rasa's ``POST /webhooks/rest/webhook``), also used by the web chat widget.

Unlike Messenger and Zalo, replies are *pulled*: the answer is returned in the HTTP response, and
officers' later replies are fetched by polling. So the outbox marks bot replies on this channel as
sent at once, and officer replies wait in the outbox until the widget fetches them.
"""

from __future__ import annotations

import uuid

from .base import MAX_INCOMING_TEXT, IncomingMessage

CHANNEL = "web"
MAX_SENDER_CHARS = 200


class InvalidMessage(ValueError):
    """A malformed REST request; ``message`` is Vietnamese for the client, ``code`` names the fault."""

    def __init__(self, message: str, code: str = "invalid_field"):
        super().__init__(message)
        self.message = message
        self.code = code


def parse_message(body: dict) -> IncomingMessage:
    """``{"sender": "...", "message": "...", "metadata": {"message_id", "name"}}`` → IncomingMessage.

    Without a ``metadata.message_id`` every request is a new message; with one, a retried request
    is recognised (the inbox stores it once and the same answer is returned).
    """
    if not isinstance(body, dict):
        raise InvalidMessage("Cần gửi một đối tượng JSON.", "invalid_json")
    sender = body.get("sender")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        raise InvalidMessage(f"Trường 'sender' phải là chuỗi không rỗng (tối đa {MAX_SENDER_CHARS} ký tự).")
    text = body.get("message")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InvalidMessage("Trường 'message' phải là chuỗi.")
    if len(text) > MAX_INCOMING_TEXT:
        raise InvalidMessage(f"Trường 'message' dài quá {MAX_INCOMING_TEXT} ký tự.", "too_long")
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    message_id = str(metadata.get("message_id") or uuid.uuid4().hex)[:200]
    payload = text.strip() if text.strip().startswith("/") else None
    return IncomingMessage(CHANNEL, sender.strip(), message_id, "postback" if payload else "text", text=text, payload=payload,
                           display_name=str(metadata.get("name") or "")[:200] or None)


def reply_json(recipient_id: str, replies: list[dict]) -> list[dict]:
    """Rasa's REST answer: one object per reply, ``buttons`` only when there are some."""
    return [{"recipient_id": recipient_id, "text": r["text"], **({"buttons": r["buttons"]} if r.get("buttons") else {})}
            for r in replies]
