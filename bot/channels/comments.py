"""Replies to comments under the fanpage's posts (the outbox's sender for channel ``fb_comment``;
recipient = the comment id). What to answer is decided in ``bot.comments``.

* private: ``POST /me/messages`` with ``recipient: {"comment_id": …}``. ONE message per comment,
  within 7 days of it (``SendContext.last_user_message_at`` is the comment's time); the answer
  returns the commenter's PSID (``recipient_id``), kept to continue in Messenger.
* public: ``POST /{comment-id}/comments`` with ``message``.

Error 10900 (already replied), 551, permissions and a comment gone are permanent; 5xx, 429 and
rate-limit codes are transient (the outbox retries them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from .base import PermanentDeliveryError, SendContext, SendResult, TransientDeliveryError, WindowClosedError, clean_text, split_text
from .messenger import TRANSIENT_CODES

CHANNEL = "fb_comment"
PRIVATE_REPLY_WINDOW = dt.timedelta(days=7)
MAX_PRIVATE_TEXT = 2000  # one message only: the answer must fit in it
MAX_PUBLIC_TEXT = 8000
MAX_ID = 200
# Graph error code of a second private reply to the same comment.
ALREADY_REPLIED = 10900
PRIVATE_CUT = "\n\n(Câu trả lời còn dài, bạn nhắn tin cho trang để xem tiếp nhé.)"


def graph_id(value) -> str | None:
    """A Graph id: a short string or number, nothing else."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = clean_text(str(value)).strip()
    return text if text and len(text) <= MAX_ID else None


def fit(text: str, tail: str = "") -> str:
    """The private reply is one message: ``text`` is cut at the platform limit (saying so) so that
    ``tail`` (the privacy notice) still fits after it."""
    text, tail = text.strip(), f"\n\n{tail.strip()}" if tail.strip() else ""
    limit = MAX_PRIVATE_TEXT - len(tail)
    if len(text) > limit:
        text = split_text(text, limit - len(PRIVATE_CUT))[0] + PRIVATE_CUT
    return text + tail


@dataclass
class CommentSendResult(SendResult):
    comment_reply: str = "private"
    recipient_id: str | None = None  # the worker's PSID, returned for a private reply


class CommentSender:
    """Replies to comments: ``POST /me/messages`` with ``recipient.comment_id`` (private) and
    ``POST /{comment-id}/comments`` (public)."""

    channel = CHANNEL

    def __init__(self, graph_url: str, page_access_token: str, client: httpx.Client | None = None, timeout: float = 10.0):
        self.graph_url = graph_url.rstrip("/")
        self.token = page_access_token
        self.client = client or httpx.Client(timeout=timeout)

    def check_window(self, ctx: SendContext) -> None:
        """The private reply's window: 7 days from the comment (``last_user_message_at``)."""
        if ctx.last_user_message_at is None or ctx.now - ctx.last_user_message_at > PRIVATE_REPLY_WINDOW:
            raise WindowClosedError("Đã quá 7 ngày kể từ khi người lao động bình luận nên Facebook không cho phép nhắn riêng nữa.")

    def send(self, recipient_id: str, body: dict, ctx: SendContext) -> SendResult:
        kind = "public" if body.get("comment_reply") == "public" else "private"
        text = (body.get("text") or "").strip() or "…"
        try:
            if kind == "public":
                data = self._post(f"/{quote(recipient_id, safe='_')}/comments", {"message": text[:MAX_PUBLIC_TEXT]})
                return CommentSendResult(platform_message_id=graph_id(data.get("id")), comment_reply="public")
            self.check_window(ctx)
            data = self._post("/me/messages", {"recipient": {"comment_id": recipient_id}, "message": {"text": fit(text)}})
            return CommentSendResult(platform_message_id=graph_id(data.get("message_id")), comment_reply="private",
                                     recipient_id=graph_id(data.get("recipient_id")))
        except (TransientDeliveryError, PermanentDeliveryError, WindowClosedError) as exc:
            exc.comment_reply = kind
            raise

    def _post(self, path: str, payload: dict) -> dict:
        try:
            response = self.client.post(f"{self.graph_url}{path}", params={"access_token": self.token}, json=payload)
        except httpx.TimeoutException:
            raise TransientDeliveryError("Facebook không phản hồi (quá thời gian chờ); hệ thống sẽ tự gửi lại.") from None
        except httpx.HTTPError as exc:
            raise TransientDeliveryError(f"Không kết nối được Facebook ({type(exc).__name__}); hệ thống sẽ tự gửi lại.") from None
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if response.status_code == 200 and "error" not in data:
            return data
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        code, subcode = error.get("code"), error.get("error_subcode")
        detail = f"HTTP {response.status_code}, code {code}" + (f"/{subcode}" if subcode else "")
        if response.status_code >= 500 or response.status_code == 429 or code in TRANSIENT_CODES:
            raise TransientDeliveryError("Facebook tạm thời lỗi; hệ thống sẽ tự gửi lại.", detail)
        if code == ALREADY_REPLIED:
            exc = PermanentDeliveryError("Facebook báo bình luận này đã được nhắn riêng một lần; không thể nhắn riêng thêm.", detail)
            exc.already_replied = True
            raise exc
        if code == 10 or subcode == 2018278:
            raise WindowClosedError("Facebook từ chối vì đã quá thời hạn nhắn riêng cho bình luận này.", detail)
        if code == 190:
            raise PermanentDeliveryError("Mã truy cập trang (FACEBOOK_PAGE_ACCESS_TOKEN) không hợp lệ hoặc đã hết hạn.", detail)
        if code == 551:
            raise PermanentDeliveryError("Người viết bình luận hiện không nhận tin nhắn từ trang.", detail)
        if code in (3, 200, 230) or (isinstance(code, int) and 200 <= code < 300):
            raise PermanentDeliveryError("Trang chưa có quyền trả lời bình luận (cần pages_messaging và pages_manage_engagement).",
                                         detail)
        if code == 100:
            raise PermanentDeliveryError("Facebook không tìm thấy bình luận (có thể đã bị xóa hoặc ẩn).", detail)
        raise PermanentDeliveryError("Facebook từ chối trả lời bình luận.", detail)
