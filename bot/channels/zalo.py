"""Zalo Official Account: webhook verification and parsing, the message API and token refresh.

Webhook: ``X-ZEvent-Signature: mac=<hex SHA-256(app_id + raw body + timestamp + OA secret key)>``
(a plain hash, not an HMAC); ``timestamp`` is the event's own field. The OA's own ``oa_send_*``
events are echoes and ignored.

Replies: ``POST {ZALO_API_URL}/v3.0/oa/message/cs`` with the ``access_token`` header. Zalo answers
HTTP 200 with ``{"error": 0, ...}`` on success and a negative ``error`` otherwise. The access token
is refreshed with the refresh token (``POST {ZALO_OAUTH_URL}/v4/oa/access_token``) shortly before it
expires or when Zalo rejects it; the new pair is stored.

Customer-service window: at most 8 replies within 48 h of the worker's last message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import threading
from collections.abc import Callable

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

CHANNEL = "zalo"
MAX_TEXT = 2000
CS_WINDOW = dt.timedelta(hours=48)
CS_MAX_REPLIES = 8
REFRESH_MARGIN = dt.timedelta(minutes=10)
TOKEN_ERRORS = {-216, -124}  # access token invalid / expired
TRANSIENT_ERRORS = {-32, -50}  # rate limit, internal


def expected_signature(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    digest = hashlib.sha256(app_id.encode() + raw_body + str(timestamp).encode() + oa_secret_key.encode()).hexdigest()
    return "mac=" + digest


def verify_signature(app_id: str, oa_secret_key: str, raw_body: bytes, timestamp, header: str | None) -> bool:
    if not app_id or not oa_secret_key or not header or timestamp in (None, ""):
        return False
    expected = expected_signature(app_id, raw_body, str(timestamp), oa_secret_key)
    return hmac.compare_digest(expected.encode("utf-8"), header.strip().encode("utf-8", "replace"))


def parse_event(event: dict) -> IncomingMessage | None:
    """Translate one webhook event. Raises ``ValueError`` when it is not a Zalo event."""
    if not isinstance(event, dict) or not isinstance(event.get("event_name"), str):
        raise ValueError("not a Zalo OA event")
    name = event["event_name"]
    sent_at = from_epoch_ms(event.get("timestamp"))
    if name.startswith("oa_send_"):
        return None  # our own messages, echoed back
    if name in ("follow", "unfollow"):
        follower = str(_field(event, "follower").get("id") or "")
        if not follower:
            return None
        return IncomingMessage(CHANNEL, follower, f"{name}:{follower}:{event.get('timestamp')}", name, sent_at=sent_at)
    if not name.startswith("user_"):
        return None
    sender = str(_field(event, "sender").get("id") or "")
    message = _field(event, "message")
    msg_id = str(message.get("msg_id") or "")
    if not sender or not msg_id:
        return None
    if name == "user_send_text":
        return IncomingMessage(CHANNEL, sender, msg_id, "text", text=str(message.get("text") or ""), sent_at=sent_at)
    if name.startswith("user_send_"):
        return IncomingMessage(CHANNEL, sender, msg_id, "attachment", sent_at=sent_at)
    return None  # user_seen_message, user_received_message, reactions…


def account_of(event: dict) -> str | None:
    """The OA an event is for: ``oa_id`` (follow events), else the recipient of a user's message."""
    if not isinstance(event, dict):
        return None
    oa = event.get("oa_id") or _field(event, "recipient").get("id")
    return str(oa) if isinstance(oa, (str, int)) and str(oa) else None


def _field(event: dict, name: str) -> dict:
    """A nested object of the event, or {} when it is missing or not an object."""
    value = event.get(name)
    return value if isinstance(value, dict) else {}


class TokenStore:
    """Where the rotating token pair lives; the default keeps it in memory (tests, first start)."""

    def __init__(self, access_token: str, refresh_token: str, expires_at: dt.datetime | None = None):
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.expires_at = expires_at

    def load(self) -> tuple[str, str, dt.datetime | None]:
        return self.access_token, self.refresh_token, self.expires_at

    def save(self, access_token: str, refresh_token: str, expires_at: dt.datetime | None) -> None:
        self.access_token, self.refresh_token, self.expires_at = access_token, refresh_token, expires_at


class ZaloSender:
    channel = CHANNEL

    def __init__(
        self,
        api_url: str,
        oauth_url: str,
        app_id: str,
        app_secret: str,
        tokens: TokenStore,
        client: httpx.Client | None = None,
        timeout: float = 10.0,
        clock: Callable[[], dt.datetime] | None = None,
    ):
        self.api_url = api_url.rstrip("/")
        self.oauth_url = oauth_url.rstrip("/")
        self.app_id = app_id
        self.app_secret = app_secret
        self.tokens = tokens
        self.client = client or httpx.Client(timeout=timeout)
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self._lock = threading.Lock()

    # -- window rules -----------------------------------------------------------------------------
    def check_window(self, ctx: SendContext) -> None:
        last = ctx.last_user_message_at
        if last is None:
            raise WindowClosedError("Người dùng Zalo chưa nhắn tin cho OA nên không thể gửi tin tư vấn.")
        if ctx.now - last > CS_WINDOW:
            raise WindowClosedError(
                "Đã quá 48 giờ kể từ tin nhắn cuối của người lao động nên Zalo không cho gửi tin tư vấn. "
                "Hãy chờ người lao động nhắn lại, hoặc liên hệ qua số điện thoại nếu có."
            )
        if ctx.replies_since_user_message >= CS_MAX_REPLIES:
            raise WindowClosedError(
                f"Đã gửi đủ {CS_MAX_REPLIES} tin tư vấn kể từ tin nhắn cuối của người lao động; "
                "Zalo chỉ cho gửi tiếp khi người lao động nhắn lại."
            )

    # -- tokens -----------------------------------------------------------------------------------
    def access_token(self) -> str:
        with self._lock:
            access, refresh, expires_at = self.tokens.load()
            if expires_at is not None and refresh and self.clock() >= expires_at - REFRESH_MARGIN:
                return self._refresh_locked(refresh)
            return access

    def refresh(self) -> str:
        with self._lock:
            return self._refresh_locked(self.tokens.load()[1])

    def _refresh_locked(self, refresh_token: str) -> str:
        if not refresh_token:
            raise PermanentDeliveryError("Mã truy cập Zalo đã hết hạn và chưa cấu hình ZALO_REFRESH_TOKEN.")
        try:
            response = self.client.post(
                f"{self.oauth_url}/v4/oa/access_token",
                headers={"secret_key": self.app_secret},
                data={"refresh_token": refresh_token, "app_id": self.app_id, "grant_type": "refresh_token"},
            )
        except httpx.HTTPError as exc:
            raise TransientDeliveryError(f"Không làm mới được mã truy cập Zalo ({type(exc).__name__}); sẽ thử lại.") from None
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code >= 500:
            raise TransientDeliveryError("Máy chủ Zalo lỗi khi làm mới mã truy cập; sẽ thử lại.", f"HTTP {response.status_code}")
        if not data.get("access_token"):
            raise PermanentDeliveryError(
                "Zalo từ chối làm mới mã truy cập: cần cấp lại ZALO_ACCESS_TOKEN và ZALO_REFRESH_TOKEN.",
                f"HTTP {response.status_code}, error {data.get('error')}",
            )
        try:
            lifetime = int(data.get("expires_in") or 0)
        except (TypeError, ValueError):
            lifetime = 0
        expires_at = self.clock() + dt.timedelta(seconds=lifetime) if lifetime else None
        self.tokens.save(data["access_token"], data.get("refresh_token") or refresh_token, expires_at)
        logger.info("Zalo access token refreshed")
        return data["access_token"]

    # -- sending ----------------------------------------------------------------------------------
    @staticmethod
    def render_text(body: dict) -> list[str]:
        """Zalo customer-service text has no quick replies: FAQ options become numbered lines
        the worker can answer with a number."""
        text = body.get("text") or ""
        options = [b["title"] for b in (body.get("buttons") or []) if str(b.get("payload", "")).startswith("/faq/")]
        if options and body.get("numbered_options"):
            text += "\n" + "\n".join(f"{i}. {title}" for i, title in enumerate(options, start=1))
            text += "\nBạn trả lời bằng số tương ứng nhé."
        return split_text(text, MAX_TEXT) or ["…"]

    def send(self, recipient_id: str, body: dict, ctx: SendContext) -> SendResult:
        self.check_window(ctx)
        last_id = None
        for chunk in self.render_text(body):
            data = self._post_message(recipient_id, chunk)
            last_id = str((data.get("data") or {}).get("message_id") or "") or last_id
        return SendResult(platform_message_id=last_id)

    def _post_message(self, recipient_id: str, text: str) -> dict:
        payload = {"recipient": {"user_id": recipient_id}, "message": {"text": text}}
        data = self._post_once(payload, self.access_token())
        if data.get("error") in TOKEN_ERRORS:
            data = self._post_once(payload, self.refresh())
        error = data.get("error")
        if error in (0, "0"):
            return data
        detail = f"error {error}"
        if error in TOKEN_ERRORS:
            raise PermanentDeliveryError("Mã truy cập Zalo không hợp lệ kể cả sau khi làm mới.", detail)
        if error in TRANSIENT_ERRORS:
            raise TransientDeliveryError("Zalo tạm thời từ chối (giới hạn tần suất); hệ thống sẽ tự gửi lại.", detail)
        if error in (-213, -230, -224):
            raise WindowClosedError("Zalo không cho gửi tin tư vấn cho người này (chưa quan tâm OA hoặc quá thời hạn tương tác).", detail)
        raise PermanentDeliveryError("Zalo từ chối tin nhắn.", detail)

    def _post_once(self, payload: dict, token: str) -> dict:
        try:
            response = self.client.post(f"{self.api_url}/v3.0/oa/message/cs", headers={"access_token": token}, json=payload)
        except httpx.TimeoutException:
            raise TransientDeliveryError("Zalo không phản hồi (quá thời gian chờ); hệ thống sẽ tự gửi lại.") from None
        except httpx.HTTPError as exc:
            raise TransientDeliveryError(f"Không kết nối được Zalo ({type(exc).__name__}); hệ thống sẽ tự gửi lại.") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientDeliveryError("Zalo tạm thời lỗi; hệ thống sẽ tự gửi lại.", f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise TransientDeliveryError("Zalo trả về dữ liệu không đọc được; hệ thống sẽ tự gửi lại.", f"HTTP {response.status_code}") from None
        if not isinstance(data, dict):
            raise PermanentDeliveryError("Zalo trả về dữ liệu không hợp lệ.", f"HTTP {response.status_code}")
        return data
