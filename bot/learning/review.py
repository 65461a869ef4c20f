"""The review queue of real questions, and the maintainer's labels on them.

The queue holds the worker messages the bot was unsure of or got wrong, newest first, one row per
message (a message found by several sources keeps the first of ``SOURCES``):

- ``officer_answered``: the question of a ticket an officer answered by hand (with the reply);
- ``feedback``: an answer the worker found unclear ("Chưa rõ" button, or 👎 feedback);
- ``clarified`` / ``fallback``: the bot asked "Ý bạn là…?" or said it could not answer;
- ``sample``: a reproducible sample (about ``SAMPLE_PER_MILLE``‰, chosen by the message id) of
  confident answers, to catch answers that were confident and wrong.

A labelled message leaves the queue. Texts are shown with phone and ID numbers masked
(``bot.logs.redact``); a label keeps that masked text, so it survives the purge of the message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ..logs import redact
from ..nlu import OUT_OF_SCOPE
from ..privacy import REDACTED_TEXTS
from ..storage.models import Feedback, Message, QuestionLabel, Ticket, utcnow
from . import Conflict, LearningError, NotFound
from .audit import record

SOURCES = ("officer_answered", "feedback", "clarified", "fallback", "sample")
SOURCE_LABELS = {
    "officer_answered": "Cán bộ trả lời",
    "feedback": "Người lao động chê",
    "clarified": "Bot hỏi lại",
    "fallback": "Bot không trả lời được",
    "sample": "Mẫu câu trả lời tự tin",
}
KINDS = ("intent", "new_question", "out_of_scope", "skip")
KIND_LABELS = {"intent": "Ý định", "new_question": "Câu hỏi mới", "out_of_scope": "Ngoài phạm vi", "skip": "Bỏ qua"}
# Kinds that become training examples in a retrain (out_of_scope only if the data has that intent).
TRAINABLE_KINDS = ("intent", "out_of_scope")
ACTION_LABELS = {"answer": "Trả lời", "clarify": "Hỏi lại", "fallback": "Không trả lời được", "handoff": "Chuyển cán bộ",
                 "smalltalk": "Giao tiếp", "form": "Hỏi thêm thông tin", "listen": "Chờ cán bộ", "attachment": "Tệp đính kèm"}
SAMPLE_PER_MILLE = 100
_SAMPLE_PRIME = 1009
SCAN_LIMIT = 500  # newest messages looked at per source


@dataclass
class QueueRow:
    message_id: int
    text: str  # masked
    source: str
    action: str | None
    intent: str | None
    confidence: float | None
    faq_id: str | None
    created_at: object
    officer_reply: str | None = None  # masked
    suggestions: list[tuple[str, float]] = field(default_factory=list)  # top 3 of the model in use

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source]

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action or "", self.action or "—")


def mask(text: str | None) -> str:
    return redact(text or "")


def _question(column):
    """Worker messages that are questions in words (no buttons, attachments or purged text)."""
    return and_(Message.direction == "in", Message.author == "worker", ~column.startswith("/"), ~column.startswith("["),
                column.not_in(REDACTED_TEXTS), func.length(column) > 0)


def _labelled():
    return select(QuestionLabel.message_id).where(QuestionLabel.message_id.is_not(None))


def _by_action(session: Session, action: str) -> dict[int, dict]:
    ids = session.scalars(select(Message.id).where(_question(Message.text), Message.action == action, Message.id.not_in(_labelled()))
                          .order_by(Message.id.desc()).limit(SCAN_LIMIT)).all()
    return {i: {} for i in ids}


def _sample(session: Session) -> dict[int, dict]:
    picked = (Message.id * 7919) % _SAMPLE_PRIME < _SAMPLE_PRIME * SAMPLE_PER_MILLE // 1000
    ids = session.scalars(select(Message.id).where(_question(Message.text), Message.action == "answer", picked,
                                                   Message.id.not_in(_labelled())).order_by(Message.id.desc()).limit(SCAN_LIMIT)).all()
    return {i: {} for i in ids}


def _answered_before(session: Session, conversation_id: int, before_id: int | None, at=None) -> int | None:
    """The last worker question the bot answered in a conversation, before a message id or a time."""
    stmt = select(Message.id).where(_question(Message.text), Message.conversation_id == conversation_id, Message.action == "answer")
    stmt = stmt.where(Message.id < before_id) if before_id is not None else stmt.where(Message.created_at <= at)
    return session.scalar(stmt.order_by(Message.id.desc()).limit(1))


def _feedback(session: Session) -> dict[int, dict]:
    """The answered question before each "Chưa rõ" press or 👎 feedback."""
    found: dict[int, dict] = {}
    unclear = session.execute(select(Message.id, Message.conversation_id).where(
        Message.direction == "in", Message.author == "worker", Message.intent == "feedback_unclear")
        .order_by(Message.id.desc()).limit(SCAN_LIMIT)).all()
    for mid, conv in unclear:
        question = _answered_before(session, conv, mid)
        if question is not None:
            found.setdefault(question, {})
    disliked = session.execute(select(Feedback.conversation_id, Feedback.created_at).where(
        Feedback.helpful.is_(False), Feedback.conversation_id.is_not(None)).order_by(Feedback.id.desc()).limit(SCAN_LIMIT)).all()
    for conv, at in disliked:
        question = _answered_before(session, conv, None, at)
        if question is not None:
            found.setdefault(question, {})
    return found


def _officer_answered(session: Session) -> dict[int, dict]:
    """Each ticket an officer replied to: its first question in words, with the officer's first reply."""
    found: dict[int, dict] = {}
    replies = session.execute(select(Message.ticket_id, func.min(Message.id)).where(
        Message.author == "officer", Message.ticket_id.is_not(None)).group_by(Message.ticket_id)
        .order_by(func.min(Message.id).desc()).limit(SCAN_LIMIT)).all()
    for ticket_id, reply_id in replies:
        question = session.scalar(select(Message.id).where(_question(Message.text), Message.ticket_id == ticket_id)
                                  .order_by(Message.id).limit(1))
        if question is None:  # handed off by a button: the question asked before it
            ticket = session.get(Ticket, ticket_id)
            question = session.scalar(select(Message.id).where(
                _question(Message.text), Message.conversation_id == ticket.conversation_id, Message.text == ticket.question,
                Message.created_at <= ticket.created_at).order_by(Message.id.desc()).limit(1))
        if question is not None:
            found.setdefault(question, {"reply_id": reply_id})
    return found


_FINDERS = {
    "officer_answered": _officer_answered,
    "feedback": _feedback,
    "clarified": lambda s: _by_action(s, "clarify"),
    "fallback": lambda s: _by_action(s, "fallback"),
    "sample": _sample,
}


def queue(session: Session, parse_many=None, source: str | None = None, limit: int = 100) -> list[QueueRow]:
    """The unlabelled messages to review, newest first (of one ``source``, or all).

    ``parse_many`` is the model in use (``NLUModel.parse_many``): each row gets its top 3 intents
    with confidences, parsed now rather than as stored, so they show what the model would say today."""
    if source is not None and source not in SOURCES:
        raise LearningError(f"Nguồn không hợp lệ: {source!r}.")
    picked: dict[int, tuple[str, dict]] = {}
    for name in (source,) if source else SOURCES:
        for mid, extra in _FINDERS[name](session).items():
            picked.setdefault(mid, (name, extra))
    labelled = set(session.scalars(select(QuestionLabel.message_id).where(QuestionLabel.message_id.in_(list(picked)))).all())
    ids = sorted((m for m in picked if m not in labelled), reverse=True)[:limit]
    messages = {m.id: m for m in session.scalars(select(Message).where(Message.id.in_(ids))).all()}
    reply_ids = [extra["reply_id"] for _, extra in picked.values() if "reply_id" in extra]
    replies = dict(session.execute(select(Message.id, Message.text).where(Message.id.in_(reply_ids))).all()) if reply_ids else {}
    rows = []
    for mid in ids:
        m = messages[mid]
        name, extra = picked[mid]
        reply = replies.get(extra.get("reply_id"))
        rows.append(QueueRow(mid, mask(m.text), name, m.action, m.intent, m.confidence, m.faq_id, m.created_at,
                             mask(reply) if reply is not None else None))
    if parse_many is not None and rows:
        for row, parsed in zip(rows, parse_many([messages[r.message_id].text for r in rows])):
            row.suggestions = list(parsed.ranking[:3])
    return rows


# --- labels ------------------------------------------------------------------------------------


def known_intents(kb, model) -> list[str]:
    """The intents a label may name: every FAQ entry's and every intent the model in use knows."""
    names = {entry.intent for entry in kb.entries}
    if model is not None:
        names.update(getattr(model, "intents", []))
    return sorted(names)


def label(session: Session, message_id: int, kind: str, intent: str | None, officer: str, *, intents: list[str] | set[str],
          source: str | None = None) -> QuestionLabel:
    """Label one worker message (or change its label while no model has trained on it)."""
    if kind not in KINDS:
        raise LearningError(f"Loại nhãn không hợp lệ: {kind!r}. Chọn một trong: ý định, câu hỏi mới, ngoài phạm vi, bỏ qua.")
    intent = (intent or "").strip() or None
    if kind == "intent":
        if intent is None:
            raise LearningError("Hãy chọn một mục câu hỏi thường gặp hoặc ý định cho câu hỏi này.")
        if intent not in intents:
            raise LearningError(f"Không có ý định '{intent}'. Hãy chọn một mục trong danh sách.")
    elif kind == "out_of_scope":
        intent = OUT_OF_SCOPE
    else:
        intent = None
    if source is not None and source not in SOURCES:
        raise LearningError(f"Nguồn không hợp lệ: {source!r}.")
    message = session.get(Message, message_id)
    if message is None or message.direction != "in" or message.author != "worker":
        raise NotFound(f"Không có tin nhắn của người lao động số {message_id}.")
    row = session.scalar(select(QuestionLabel).where(QuestionLabel.message_id == message_id))
    before = None
    if row is None:
        row = QuestionLabel(message_id=message_id, text=mask(message.text), source=source or "sample")
        session.add(row)
    else:
        if row.used_in_model:
            raise Conflict(f"Câu hỏi này đã được dùng để huấn luyện mô hình {row.used_in_model}; không đổi nhãn được nữa.")
        before = {"kind": row.label_kind, "intent": row.intent}
        if source:
            row.source = source
    row.label_kind, row.intent, row.labelled_by, row.labelled_at = kind, intent, officer, utcnow()
    session.flush()
    record(session, officer, "label", f"message:{message_id}", {"label_id": row.id, "kind": kind, "intent": intent, "before": before})
    return row


def labels(session: Session, pending_only: bool = False, trainable_only: bool = False) -> list[QuestionLabel]:
    stmt = select(QuestionLabel).order_by(QuestionLabel.id)
    if pending_only:
        stmt = stmt.where(QuestionLabel.used_in_model.is_(None))
    if trainable_only:
        stmt = stmt.where(QuestionLabel.label_kind.in_(TRAINABLE_KINDS))
    return list(session.scalars(stmt).all())


def counts(session: Session) -> dict[str, int]:
    """Labels by kind, and how many are pending (accepted, not yet in a model) and trainable."""
    out = dict(session.execute(select(QuestionLabel.label_kind, func.count()).group_by(QuestionLabel.label_kind)).all())
    out["pending_trainable"] = len(labels(session, pending_only=True, trainable_only=True))
    return out


def labels_yaml(rows: list[QuestionLabel]) -> str:
    """Accepted labels (kinds that become examples) as Rasa 3.x NLU YAML, one block per intent."""
    import yaml

    by_intent: dict[str, list[str]] = {}
    for row in rows:
        if row.label_kind in TRAINABLE_KINDS and row.intent and row.text.strip():
            texts = by_intent.setdefault(row.intent, [])
            text = " ".join(row.text.split())
            if text not in texts:
                texts.append(text)
    doc = {"version": "3.1", "nlu": [{"intent": intent, "examples": "".join(f"- {t}\n" for t in texts)}
                                     for intent, texts in sorted(by_intent.items())]}
    header = "# Câu hỏi thật đã gắn nhãn trên trang «Học từ câu hỏi thật» (python -m bot labels export).\n"
    return header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1000)
