"""Comments under the fanpage's posts (Webhooks for Pages, field ``feed``).

In: the Messenger webhook (same endpoint, same ``X-Hub-Signature-256``) also carries
``entry[].changes[]`` with ``field: "feed"``. ``parse_feed`` reads the comment changes;
``accept_changes`` stores one ``FacebookComment`` row per comment id (unique: a redelivery is
stored once) and returns an ``IncomingMessage`` for each new comment, which the webhook puts in the
inbox with the Messenger events of the same delivery. The page's own comments, edits, hides and
other items are ignored; a ``remove``/``hide`` marks the comment removed and cancels its replies
that have not left yet.

Decide (``turn``, called by the dialogue for inbox events of channel ``fb_comment``): the comment is
understood by the same NLU and policy as a message, then

* a general FAQ question: the full answer as a Private Reply (Send API, ``recipient.comment_id``),
  and, once that private reply is delivered, a short public reply under the comment saying so.
  The public reply waits for the private one: if the platform refuses the private reply for good,
  the public one is dropped (it would claim a message that never arrived);
* a personal case, dispute, request for an officer, or a question the bot cannot answer: a ticket
  (same 24-hour queue as Messenger) and ONLY a private reply with the ticket code;
* not a question (praise, tags, emoji, thanks): nothing;
* older than 7 days (no private reply allowed): a generic public reply inviting the worker to
  message the page, or nothing when public replies are off for the page.

Out: ``bot.channels.comments.CommentSender`` is the outbox's sender for channel ``fb_comment``
(recipient = comment id); ``after_settle`` records what the platform said.
The platform allows ONE private reply per comment within 7 days; a refusal (already replied,
blocked, permissions, comment gone) is permanent: recorded on the comment row, on the ticket as a
``TicketEvent``, and never retried. 5xx/429/rate limits are retried by the outbox as usual.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from . import policy, units
from .channels.base import IncomingMessage, clean_text
from .channels.comments import CHANNEL, PRIVATE_REPLY_WINDOW, fit, graph_id
from .storage.models import Conversation, FacebookComment, Message, OutboxMessage, Ticket, utcnow

logger = logging.getLogger(__name__)

PUBLIC_FAQ_TEXT = "Công đoàn đã nhắn riêng cho bạn câu trả lời chi tiết, bạn vui lòng kiểm tra tin nhắn của trang nhé."
PUBLIC_OLD_TEXT = "Chào bạn, bạn vui lòng nhắn tin trực tiếp cho trang để Công đoàn hỗ trợ cụ thể hơn nhé."
PRIVATE_FAQ_INTRO = "Chào bạn, Công đoàn xin trả lời câu hỏi bạn đã bình luận trên trang:"
PRIVATE_TICKET_TEXT = (
    "Chào bạn, Công đoàn đã nhận được câu hỏi bạn bình luận trên trang và chuyển cho cán bộ phụ trách, "
    "mã phiếu {code}. Cán bộ sẽ trả lời bạn trong vòng {hours} giờ qua tin nhắn. Nếu cần bổ sung thông tin, "
    "bạn cứ trả lời ngay tin nhắn này."
)

_QUESTION = re.compile(
    r"\?|\b(không|ko|hok|chưa|sao|thế nào|như nào|bao nhiêu|bao lâu|mấy|gì|nào|đâu|khi nào|được không|"
    r"hỏi|giúp|tư vấn|làm sao|có phải|phải không)\b",
    re.IGNORECASE,
)
_TICKET_ACTIONS = (policy.ACTION_HANDOFF, policy.ACTION_CALCULATE, policy.ACTION_FORM)
_MAYBE_TICKET_ACTIONS = (policy.ACTION_FALLBACK, policy.ACTION_CLARIFY)


def public_replies_enabled(settings, page_id: str | None, session: Session | None = None) -> bool:
    """Whether comments on this page get public replies: off for every page with
    ``FACEBOOK_COMMENT_PUBLIC_REPLIES``, off for the pages listed in
    ``FACEBOOK_COMMENT_PUBLIC_REPLIES_OFF_PAGES`` (the single page of the global settings), and off
    for a registered page whose account says so (``units account set … --no-public-replies``)."""
    if not settings.get("FACEBOOK_COMMENT_PUBLIC_REPLIES", True):
        return False
    off = {p.strip() for p in str(settings.get("FACEBOOK_COMMENT_PUBLIC_REPLIES_OFF_PAGES") or "").split(",") if p.strip()}
    if (page_id or "") in off:
        return False
    return True if session is None else units.public_replies_enabled(session, page_id)


# --- parsing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedComment:
    """One comment change of a ``feed`` webhook."""

    page_id: str
    verb: str  # add | edited | remove | hide | unhide | …
    comment_id: str
    post_id: str | None = None
    parent_id: str | None = None
    from_id: str | None = None
    from_name: str | None = None
    text: str | None = None
    created_time: dt.datetime | None = None
    permalink: str | None = None


def parse_feed(payload: dict) -> list[FeedComment]:
    """The comment changes of a page webhook (already checked to be one); anything malformed is
    skipped, the rest kept."""
    out = []
    for entry in payload.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        page_id = graph_id(entry.get("id"))
        changes = entry.get("changes")
        for change in changes if isinstance(changes, list) else []:
            if not isinstance(change, dict) or change.get("field") != "feed":
                continue
            comment = _parse_change(page_id, change.get("value"))
            if comment is not None:
                out.append(comment)
    return out


def _parse_change(page_id: str | None, value) -> FeedComment | None:
    if not page_id or not isinstance(value, dict) or value.get("item") != "comment":
        return None
    verb, comment_id = value.get("verb"), graph_id(value.get("comment_id"))
    if not isinstance(verb, str) or not comment_id:
        return None
    sender = value.get("from") if isinstance(value.get("from"), dict) else {}
    post = value.get("post") if isinstance(value.get("post"), dict) else {}
    permalink = clean_text(post.get("permalink_url")) if isinstance(post.get("permalink_url"), str) else None
    if not (permalink and permalink.startswith("https://") and len(permalink) <= 500 and not any(ch.isspace() for ch in permalink)):
        permalink = None
    name = sender.get("name")
    return FeedComment(
        page_id=page_id, verb=verb[:20], comment_id=comment_id,
        post_id=graph_id(value.get("post_id")) or graph_id(post.get("id")), parent_id=graph_id(value.get("parent_id")),
        from_id=graph_id(sender.get("id")), from_name=clean_text(name)[:200] if isinstance(name, str) else None,
        text=value.get("message") if isinstance(value.get("message"), str) else None,
        created_time=_time(value.get("created_time")), permalink=permalink,
    )


def _time(value) -> dt.datetime | None:
    """``created_time``: Unix seconds (an int, as the feed webhook sends it) or an ISO 8601 string."""
    try:
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
        if isinstance(value, str):
            parsed = dt.datetime.fromisoformat(value.replace("+0000", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None
    return None


# --- accepting ---------------------------------------------------------------------------------------


def accept_changes(db, changes: list[FeedComment], now: dt.datetime | None = None) -> list[IncomingMessage]:
    """Store the comment rows; returns the inbox messages for the comments to answer (the inbox
    dedupes them on the comment id too). A removed comment is marked so, and its replies that have
    not left yet are cancelled."""
    now = now or utcnow()
    out = []
    if not changes:
        return out
    with db.session() as session:
        for c in changes:
            try:
                if c.verb == "add":
                    if c.from_id and c.from_id == c.page_id:
                        continue  # the page's own comment (an officer answering by hand, or our public reply)
                    if not (c.text or "").strip():
                        continue  # a sticker or photo alone: nothing to answer
                    with session.begin_nested():
                        session.execute(db.insert_ignoring(FacebookComment, _row(c, now), ["comment_id"]))
                    out.append(IncomingMessage(CHANNEL, c.comment_id, c.comment_id, "text", text=c.text, display_name=c.from_name,
                                               sent_at=c.created_time, account=c.page_id))
                elif c.verb in ("remove", "hide"):
                    with session.begin_nested():
                        _mark_removed(db, session, c, now)
                # edited, unhide, reactions…: nothing to do (an edit is not a new question)
            except (DataError, IntegrityError) as exc:  # like the inbox: skip it, keep the others
                logger.error("comment change refused by the database (%s); the other events are kept", type(exc.orig).__name__)
    return out


def _row(c: FeedComment, now: dt.datetime, removed: bool = False) -> dict:
    return {"comment_id": c.comment_id, "page_id": c.page_id, "post_id": c.post_id, "parent_id": c.parent_id,
            "permalink": c.permalink, "created_time": c.created_time, "received_at": now,
            "removed_at": now if removed else None, "private_reply": "none", "public_reply": "none"}


def _mark_removed(db, session: Session, c: FeedComment, now: dt.datetime) -> None:
    session.execute(db.insert_ignoring(FacebookComment, _row(c, now, removed=True), ["comment_id"]))
    row = session.scalars(select(FacebookComment).where(FacebookComment.comment_id == c.comment_id)).one()
    if row.removed_at is None:
        row.removed_at = now
    if row.public_reply == "planned":
        row.public_reply = "dropped"
    cancelled = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.channel == CHANNEL, OutboxMessage.recipient_id == c.comment_id, OutboxMessage.status == "pending")
        .values(status="refused", last_error="Bình luận đã bị xóa hoặc ẩn nên không gửi trả lời.")
    ).rowcount
    if cancelled:
        logger.info("comment removed: %s queued replies cancelled", cancelled)


# --- deciding ---------------------------------------------------------------------------------------


def classify(decision: policy.Decision, text: str) -> str:
    """``faq`` (answer privately, say so publicly), ``ticket`` (private reply with the code only)
    or ``ignore``.

    Comments are noisier than messages (tags, "đã xem", "hay quá"), and a wrong public answer is
    seen by everyone: a comment must look like a question, or say at least three words that are
    not just a tagged name, before the NLU's verdict counts."""
    if not is_substantive(text):
        return "ignore"
    if decision.action in _TICKET_ACTIONS:
        return "ticket"
    if decision.action == policy.ACTION_ANSWER and decision.faq_id:
        return "faq"
    if decision.action in _MAYBE_TICKET_ACTIONS and looks_like_question(text):
        return "ticket"
    return "ignore"


def _without_mentions(text: str) -> list[str]:
    """The words of a comment, without "@Tagged Name" mentions."""
    out, in_mention = [], False
    for word in (text or "").split():
        if word.startswith("@"):
            in_mention = True
            continue
        if in_mention and word[:1].isupper():
            continue
        in_mention = False
        out.append(word)
    return out


def is_substantive(text: str) -> bool:
    if looks_like_question(text):
        return True
    words = [w for w in _without_mentions(text) if any(ch.isalpha() for ch in w)]
    if len(words) < 3:
        return False  # "ok", "đã xem", "hay quá"
    return not (len(words) <= 6 and all(w[0].isupper() for w in words))  # a tagged name ("Nguyễn Văn Bình")


def looks_like_question(text: str) -> bool:
    words = " ".join(_without_mentions(text))
    if not any(ch.isalpha() for ch in words):
        return False  # emoji, tags, punctuation only
    return bool(_QUESTION.search(words))


def turn(dialogue, session: Session, event, early: dict | None):
    """Decide and book the replies for one comment (inside the dialogue's transaction)."""
    from .dialogue import PRIVACY_NOTICE_SLOT, Outcome
    from .handoff import tickets

    now = dialogue.clock()
    row = session.scalars(select(FacebookComment).where(FacebookComment.comment_id == event.platform_message_id)).first()
    if row is None:  # stored by an older delivery path: keep what the event knows
        row = FacebookComment(comment_id=event.platform_message_id, page_id="", created_time=event.sent_at, received_at=now,
                              private_reply="none", public_reply="none")
        session.add(row)
    if row.decision is not None:
        return Outcome(event.id, action=row.decision, duplicate=True)
    if row.removed_at is not None:
        row.decision = "removed"
        return Outcome(event.id, action="removed")

    conv = dialogue._load_state(session, event, now)
    notice_due = bool((conv.slots or {}).get(PRIVACY_NOTICE_SLOT))
    conv.slots = {}  # one comment, one exchange: no dialogue state to keep
    row.conversation_id = conv.id
    text = (event.text or "")[: dialogue.max_message_chars]
    incoming = Message(conversation_id=conv.id, direction="in", author="worker", text=event.text or "", created_at=now)
    session.add(incoming)
    understood = dialogue.engine.understand(text, parse=early) if text.strip() else None
    kind = classify(understood.decision, text) if understood is not None else "ignore"
    if understood is not None:
        d = understood.decision
        incoming.intent, incoming.confidence, incoming.action, incoming.faq_id = d.intent, d.confidence, d.kind, d.faq_id
    settings = dialogue.engine.settings
    public_on = public_replies_enabled(settings, row.page_id, session)
    created = row.created_time or event.sent_at or event.received_at or now

    if kind == "ignore":
        row.decision = "ignore"
        incoming.action = "ignored"  # not a question: not counted as one in the reports and the KPI
        return Outcome(event.id, action="ignore")
    if now - created > PRIVATE_REPLY_WINDOW:
        row.decision = "old"
        incoming.action = "comment_old"
        if not public_on:
            return Outcome(event.id, action="old")
        _queue(session, row, conv, None, "public", PUBLIC_OLD_TEXT, now)
        row.public_reply = "queued"
        return Outcome(event.id, [{"text": PUBLIC_OLD_TEXT, "public": True}], action="old")

    org = units.placeholders(session, conv.unit_id, settings)  # the page's unit: its name, hotline…
    if kind == "faq":
        answer = dialogue.engine.act(understood, {}, sender_id=conv.user_id, org=org)
        body = "\n\n".join(m["text"] for m in answer.messages if m.get("text"))
        private = fit(f"{PRIVATE_FAQ_INTRO}\n\n{body}", _notice(dialogue, org) if notice_due else "")
        _queue(session, row, conv, None, "private", private, now)
        row.decision, row.private_reply = "faq", "queued"
        if public_on:
            row.public_reply, row.public_text = "planned", PUBLIC_FAQ_TEXT
        return Outcome(event.id, [{"text": private}], action="faq")

    d = understood.decision
    entry = dialogue.engine.kb.get(d.faq_id) if d.faq_id else None
    if d.action == policy.ACTION_HANDOFF:
        reason = d.reason or d.intent
    else:
        reason = "comment_question" if d.action in _MAYBE_TICKET_ACTIONS else "comment_personal"
    ticket = tickets.open_ticket(session, conv, tickets.HandOff(question=event.text or "", reason=reason,
                                                                topic=entry.topic if entry else None, confidence=d.confidence),
                                 now, dialogue.sla_hours)
    incoming.ticket_id = ticket.id
    tickets.log(session, ticket, "system", "from_comment", comment_id=row.comment_id, post_id=row.post_id)
    private = fit(PRIVATE_TICKET_TEXT.format(code=ticket.code, hours=dialogue.sla_hours), _notice(dialogue, org) if notice_due else "")
    _queue(session, row, conv, ticket, "private", private, now)
    row.decision, row.ticket_id, row.private_reply = "ticket", ticket.id, "queued"
    return Outcome(event.id, [{"text": private}], action="ticket", ticket_code=ticket.code)


def _notice(dialogue, org: dict) -> str:
    """The privacy notice (Luật BVDLCN 2025) owed on first contact: it closes the private reply."""
    days = dialogue.engine.settings.get("RETENTION_DAYS", 0)
    responses = dialogue.engine.responses
    return (responses.text("utter_privacy_notice", retention_days=days, **org) if days > 0
            else responses.text("utter_privacy_notice_no_limit", **org))


def _queue(session: Session, row: FacebookComment, conv: Conversation, ticket: Ticket | None, kind: str, text: str,
           now: dt.datetime) -> None:
    """One outbox row per (comment, kind): the unique dedupe key makes a second one impossible."""
    msg = Message(conversation_id=conv.id, ticket_id=ticket.id if ticket else None, direction="out", author="bot",
                  text=text if kind == "private" else f"[Trả lời công khai dưới bình luận] {text}", action=f"comment_{kind}",
                  created_at=now)
    session.add(msg)
    session.flush()
    session.add(OutboxMessage(dedupe_key=f"fbc:{row.comment_id}:{kind}"[:120], channel=CHANNEL, recipient_id=row.comment_id,
                              conversation_id=conv.id, ticket_id=ticket.id if ticket else None, message_id=msg.id, author="bot",
                              account_external_id=row.page_id,
                              body={"text": text, "buttons": [], "comment_reply": kind}, status="pending",
                              next_attempt_at=now, created_at=now))


# --- after a send -----------------------------------------------------------------------------------


def after_settle(session: Session, row_id: int, outcome, status: str, now: dt.datetime) -> None:
    """Called by the outbox (same transaction) when a comment reply is sent, refused or failed."""
    from .handoff import tickets

    out = session.get(OutboxMessage, row_id)
    row = session.scalars(select(FacebookComment).where(FacebookComment.comment_id == out.recipient_id)).first() if out else None
    if row is None:
        return
    kind = getattr(outcome, "comment_reply", "private")
    if kind == "public":
        row.public_reply = "sent" if status == "sent" else "failed"
        return
    if status == "sent":
        row.private_reply, row.private_error = "sent", None
        psid = getattr(outcome, "recipient_id", None)
        if psid:
            row.messenger_psid = clean_text(str(psid))[:200]
        if row.public_reply == "planned" and row.removed_at is None and row.public_text:
            conv = session.get(Conversation, row.conversation_id) if row.conversation_id else None
            if conv is not None:
                _queue(session, row, conv, None, "public", row.public_text, now)
                row.public_reply = "queued"
        return
    reason = getattr(outcome, "reason", "") + (f" ({outcome.detail})" if getattr(outcome, "detail", "") else "")
    row.private_reply = "already" if getattr(outcome, "already_replied", False) else "failed"
    row.private_error = reason[:1000]
    if row.public_reply == "planned":
        row.public_reply = "dropped"  # it would announce a private message that never arrived
    ticket = session.get(Ticket, out.ticket_id or row.ticket_id) if (out.ticket_id or row.ticket_id) else None
    if ticket is not None:
        tickets.log(session, ticket, "system", "private_reply_refused", reason=reason[:500], status=status)
    logger.warning("private reply to a comment %s: %s", status, getattr(outcome, "detail", "") or reason)


# --- officers ------------------------------------------------------------------------------------------


class CommentReplyRefused(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def comment_for_ticket(session: Session, ticket: Ticket, lock: bool = False) -> FacebookComment | None:
    stmt = select(FacebookComment).where(FacebookComment.ticket_id == ticket.id)
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def officer_reply_target(session: Session, ticket: Ticket, conv: Conversation) -> tuple[str, str, Conversation]:
    """Where an officer's reply to a comment ticket goes: the comment's private reply if none was
    used yet; else the worker's Messenger conversation once they have written there; else refused."""
    row = comment_for_ticket(session, ticket, lock=True)
    if row is None:
        return ticket.channel, ticket.user_id, conv
    if row.removed_at is not None:
        raise CommentReplyRefused("Bình luận này đã bị xóa hoặc ẩn nên không thể nhắn riêng cho người viết.")
    if row.private_reply in ("none", "failed"):
        row.private_reply = "queued"
        return CHANNEL, row.comment_id, conv
    once = ("Facebook chỉ cho phép trang nhắn riêng MỘT lần cho mỗi bình luận, và lần đó đã được dùng"
            + (" (đang gửi)." if row.private_reply == "queued" else "."))
    if row.messenger_psid:
        messenger = session.scalars(select(Conversation).where(Conversation.channel == "messenger",
                                                               Conversation.user_id == row.messenger_psid)).first()
        if messenger is not None and messenger.last_user_message_at is not None:
            return "messenger", row.messenger_psid, messenger
        raise CommentReplyRefused(f"{once} Người lao động chưa nhắn lại cho trang qua Messenger; khi họ nhắn lại, "
                                  "bạn trả lời tiếp được tại đây và tin sẽ đi qua Messenger.")
    raise CommentReplyRefused(f"{once} Hệ thống chưa biết tài khoản Messenger của người này nên chưa thể gửi tiếp; "
                              "hãy chờ họ nhắn cho trang qua Messenger.")


PRIVATE_LABELS_VI = {
    "none": "chưa gửi (cán bộ trả lời phiếu này sẽ gửi thành tin nhắn riêng)",
    "queued": "đang gửi",
    "sent": "đã gửi (Facebook chỉ cho phép một tin nhắn riêng cho mỗi bình luận)",
    "failed": "Facebook từ chối",
    "already": "Facebook báo bình luận đã được nhắn riêng trước đó",
}


def comment_view(session: Session, ticket: Ticket) -> dict | None:
    """What the ticket page shows about the comment behind a ticket."""
    row = comment_for_ticket(session, ticket)
    if row is None:
        return None
    private = PRIVATE_LABELS_VI.get(row.private_reply, row.private_reply)
    if row.private_error and row.private_reply in ("failed", "already"):
        private += f": {row.private_error}"
    if not row.messenger_psid:
        messenger = "chưa biết (biết được khi tin nhắn riêng đến nơi)"
    elif session.scalar(select(Conversation.id).where(Conversation.channel == "messenger", Conversation.user_id == row.messenger_psid,
                                                      Conversation.last_user_message_at.is_not(None))) is not None:
        messenger = "người hỏi đã nhắn cho trang; câu trả lời tiếp theo của cán bộ sẽ đi qua Messenger"
    else:
        messenger = "người hỏi chưa nhắn lại cho trang qua Messenger"
    return {"link": post_link(row), "private_label": private, "removed": row.removed_at is not None, "messenger_label": messenger}


def post_link(row: FacebookComment) -> str | None:
    if row.permalink:
        return row.permalink
    if row.post_id:
        return f"https://www.facebook.com/{quote(row.post_id, safe='_')}"
    return None
