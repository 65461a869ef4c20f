"""Facebook Messenger: webhook verification and parsing, and the Send API client.

Webhook: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>``. Every entry and
every messaging event of a batch is read; echoes, deliveries and reads are ignored.

Send API: ``POST {FACEBOOK_GRAPH_URL}/me/messages``. Bot replies use ``messaging_type: RESPONSE``
(the worker wrote within 24 h). Officer replies within 24 h also use RESPONSE; from 24 h up to 7 days
they use ``MESSAGE_TAG`` with tag ``HUMAN_AGENT``; later the send is refused with a reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import logging

import httpx

from .base import (
    IncomingMessage,
    PermanentDeliveryError,
    SendContext,
    SendResult,
    TransientDeliveryError,
    WindowClosedError,
    from_epoch_ms,
    split_text,
)

logger = logging.getLogger(__name__)

CHANNEL = "messenger"
MAX_TEXT = 2000
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
RESPONSE_WINDOW = dt.timedelta(hours=24)
HUMAN_AGENT_WINDOW = dt.timedelta(days=7)
# Graph API error codes that mean "try again later" (rate limits, temporary failures).
TRANSIENT_CODES = {1, 2, 4, 17, 32, 341, 613, 1200}


def verify_signature(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    """Constant-time check of ``X-Hub-Signature-256``."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    # bytes, not str: compare_digest refuses non-ASCII strings, and a forged header may carry any
    return hmac.compare_digest(expected.encode("ascii"), header[len("sha256="):].strip().lower().encode("utf-8", "replace"))


def parse_webhook(payload: dict) -> list[IncomingMessage]:
    """Translate a (possibly batched) webhook body into messages. Raises ``ValueError`` if the body
    is not a page webhook."""
    if not isinstance(payload, dict) or payload.get("object") != "page" or not isinstance(payload.get("entry"), list):
        raise ValueError("not a Messenger page webhook")
    out: list[IncomingMessage] = []
    for entry in payload["entry"]:
        if not isinstance(entry, dict):
            continue
        events = entry.get("messaging")
        for event in events if isinstance(events, list) else []:
            if not isinstance(event, dict):
                continue
            msg = _parse_event(event)
            if msg is not None:
                page = entry.get("id")  # several pages may share the webhook: the page is the receiving account
                out.append(dataclasses.replace(msg, account=str(page)) if isinstance(page, (str, int)) and str(page) else msg)
    return out


def _parse_event(event: dict) -> IncomingMessage | None:
    sender = str(_field(event, "sender").get("id") or "")
    if not sender:
        return None
    sent_at = from_epoch_ms(event.get("timestamp"))
    message = event.get("message")
    if isinstance(message, dict):
        if message.get("is_echo"):
            return None
        mid = str(message.get("mid") or "")
        if not mid:
            return None
        quick = message.get("quick_reply") or {}
        if isinstance(quick, dict) and quick.get("payload"):
            return IncomingMessage(CHANNEL, sender, mid, "postback", text=_text(message.get("text")), payload=str(quick["payload"]),
                                   sent_at=sent_at)
        if isinstance(message.get("text"), str):
            return IncomingMessage(CHANNEL, sender, mid, "text", text=message["text"], sent_at=sent_at)
        if message.get("attachments"):
            return IncomingMessage(CHANNEL, sender, mid, "attachment", sent_at=sent_at)
        return None
    postback = event.get("postback")
    if isinstance(postback, dict):
        payload = str(postback.get("payload") or "")
        # Postbacks carry an mid on current API versions; older ones are keyed by sender + time.
        mid = str(postback.get("mid") or f"pb:{sender}:{event.get('timestamp')}:{payload}")
        return IncomingMessage(CHANNEL, sender, mid, "postback", text=_text(postback.get("title")), payload=payload, sent_at=sent_at)
    return None  # delivery, read, reaction, optin…: nothing to answer


def _field(obj: dict, name: str) -> dict:
    """A nested object of the event, or {} when it is missing or not an object."""
    value = obj.get(name)
    return value if isinstance(value, dict) else {}


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def messages(body: dict) -> list[dict]:
    """A reply as Messenger messages: the text split at the platform's limit, the quick replies
    (cut to its limits) on the last part."""
    chunks = split_text(body.get("text") or "", MAX_TEXT) or ["…"]
    quick = [
        {"content_type": "text", "title": b["title"][:MAX_QUICK_REPLY_TITLE], "payload": b["payload"][:1000]}
        for b in (body.get("buttons") or [])[:MAX_QUICK_REPLIES]
    ]
    out = []
    for i, chunk in enumerate(chunks):
        message: dict = {"text": chunk}
        if quick and i == len(chunks) - 1:
            message["quick_replies"] = quick
        out.append(message)
    return out


class MessengerSender:
    channel = CHANNEL

    def __init__(self, graph_url: str, page_access_token: str, client: httpx.Client | None = None, timeout: float = 10.0):
        self.graph_url = graph_url.rstrip("/")
        self.token = page_access_token
        self.client = client or httpx.Client(timeout=timeout)

    # -- window rules -----------------------------------------------------------------------------
    def messaging_type(self, ctx: SendContext) -> dict:
        last = ctx.last_user_message_at
        if last is None:
            raise WindowClosedError("Người lao động chưa từng nhắn tin cho trang nên không thể gửi tin nhắn.")
        age = ctx.now - last
        if age <= RESPONSE_WINDOW:
            return {"messaging_type": "RESPONSE"}
        if ctx.author == "officer" and age <= HUMAN_AGENT_WINDOW:
            return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
        if ctx.author == "officer":
            raise WindowClosedError(
                "Đã quá 7 ngày kể từ tin nhắn cuối của người lao động nên Messenger không cho phép gửi. "
                "Hãy liên hệ qua số điện thoại hoặc kênh khác nếu người lao động đã để lại."
            )
        raise WindowClosedError("Đã quá 24 giờ kể từ tin nhắn cuối của người lao động; bot không được gửi tin tự động.")

    def check_window(self, ctx: SendContext) -> None:
        self.messaging_type(ctx)

    # -- sending ----------------------------------------------------------------------------------
    def build_requests(self, recipient_id: str, body: dict, ctx: SendContext) -> list[dict]:
        mode = self.messaging_type(ctx)
        return [{"recipient": {"id": recipient_id}, **mode, "message": message} for message in messages(body)]

    def send(self, recipient_id: str, body: dict, ctx: SendContext) -> SendResult:
        requests = self.build_requests(recipient_id, body, ctx)
        if len(requests) > 1:  # a long answer arrives in parts: show "typing…" meanwhile
            self._post({"recipient": {"id": recipient_id}, "sender_action": "typing_on"}, best_effort=True)
        last_id = None
        for req in requests:
            data = self._post(req)
            last_id = data.get("message_id") or last_id
        return SendResult(platform_message_id=last_id)

    def _post(self, payload: dict, best_effort: bool = False) -> dict:
        try:
            response = self.client.post(f"{self.graph_url}/me/messages", params={"access_token": self.token}, json=payload)
        except httpx.TimeoutException:
            if best_effort:
                return {}
            raise TransientDeliveryError("Messenger không phản hồi (quá thời gian chờ); hệ thống sẽ tự gửi lại.") from None
        except httpx.HTTPError as exc:
            if best_effort:
                return {}
            raise TransientDeliveryError(f"Không kết nối được Messenger ({type(exc).__name__}); hệ thống sẽ tự gửi lại.") from None
        if best_effort:
            return {}
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code == 200 and "error" not in data:
            return data
        error = data.get("error") if isinstance(data, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        detail = f"HTTP {response.status_code}, code {code}"
        if response.status_code >= 500 or response.status_code == 429 or code in TRANSIENT_CODES:
            raise TransientDeliveryError("Messenger tạm thời lỗi; hệ thống sẽ tự gửi lại.", detail)
        if code == 10 or (isinstance(error, dict) and error.get("error_subcode") == 2018278):
            raise WindowClosedError("Messenger từ chối vì đã quá thời hạn nhắn tin cho người này.", detail)
        if code == 190:
            raise PermanentDeliveryError("Mã truy cập trang (FACEBOOK_PAGE_ACCESS_TOKEN) không hợp lệ hoặc đã hết hạn.", detail)
        if code == 551:
            raise PermanentDeliveryError("Người nhận hiện không nhận tin nhắn từ trang (đã chặn hoặc không liên hệ được).", detail)
        raise PermanentDeliveryError("Messenger từ chối tin nhắn.", detail)
