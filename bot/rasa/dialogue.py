"""``BOT_ENGINE=rasa``: our channels, inbox, outbox, queue and dashboard; a Rasa server says what to say.

``RasaDialogue`` replaces the native turn (``bot.dialogue.Dialogue``) and keeps everything around
it: the inbox row is claimed and marked done in one transaction with the transcript and the outbox
rows, replies are keyed by event so a retried event never sends twice, and a message sent while the
worker's ticket is open joins that ticket (officers have taken over; Rasa is not asked).

For everything else, Rasa is asked through its REST channel, ``POST {RASA_URL}/webhooks/rest/webhook``
with ``sender`` = ``<channel>:<user id>`` and our channel and user id as ``metadata`` (our action
server opens the ticket of a hand-off in that conversation: ``actions/handoff_queue.py``). The call is
made *before* the write transaction, since Rasa may call our action server, which writes to the same
database. Rasa's intent for the transcript and the dashboard is read from the conversation tracker
(``GET /conversations/<sender>/tracker``, needs ``--enable-api``); without it the turn still counts.

Rasa down, slow or answering an error: the event fails like any failed turn and the inbox retries it
with backoff (``bot.inbox``); on its last attempt the message is handed off to an officer instead
(a ticket with the 24-hour deadline, ``reason=rasa_unavailable``), so no message is lost or left
unanswered.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from urllib.parse import quote

import httpx
from sqlalchemy import select

from .. import comments, policy, units
from ..dialogue import PRIVACY_NOTICE_SLOT, Dialogue, Outcome
from ..engine import Turn
from ..handoff import tickets
from ..inbox import MAX_ATTEMPTS
from ..storage.models import Conversation, InboxEvent, utcnow
from ..vntime import format_local

logger = logging.getLogger(__name__)

# Rasa's action (as our transcript names it) from the intent it recognised.
_KINDS = {"nlu_fallback": policy.ACTION_HANDOFF, "request_human": policy.ACTION_HANDOFF, "complaint": policy.ACTION_HANDOFF,
          "ticket_status": policy.ACTION_STATUS, "out_of_scope": policy.ACTION_FALLBACK}


class RasaUnavailable(RuntimeError):
    """The Rasa server could not answer (down, timed out, or an error status)."""


class RasaClient:
    """Rasa's HTTP API: the REST channel, the tracker, ``/model/parse``."""

    def __init__(self, url: str, http: httpx.Client, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.http = http
        self.timeout = timeout

    def _post(self, path: str, body: dict):
        try:
            response = self.http.post(self.url + path, json=body, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"Rasa ({self.url}) không trả lời: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise RasaUnavailable(f"Rasa ({self.url}) trả lỗi HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise RasaUnavailable(f"Rasa ({self.url}) trả về nội dung không phải JSON") from None

    def webhook(self, sender: str, message: str, metadata: dict | None = None) -> list[dict]:
        """What the bot says to ``message``: Rasa's list of ``{"text", "buttons", …}``."""
        replies = self._post("/webhooks/rest/webhook", {"sender": sender, "message": message, "metadata": metadata or {}})
        if not isinstance(replies, list):
            raise RasaUnavailable(f"Rasa ({self.url}) trả về dữ liệu không đúng dạng")
        return [r for r in replies if isinstance(r, dict)]

    def parse(self, text: str) -> dict:
        return self._post("/model/parse", {"text": text})

    def status(self) -> dict:
        """For ``/readyz``: does the Rasa server answer, with which model (``GET /status``)."""
        try:
            response = self.http.get(self.url + "/status", timeout=min(self.timeout, 5.0))
        except httpx.HTTPError as exc:
            return {"ok": False, "version": None, "error": f"Không kết nối được Rasa ({self.url}): {type(exc).__name__}"}
        if response.status_code != 200:
            return {"ok": False, "version": None, "error": f"Rasa ({self.url}) trả lỗi HTTP {response.status_code}"}
        try:
            model = (response.json() or {}).get("model_file")
        except ValueError:
            model = None
        return {"ok": True, "version": model and str(model).rsplit("/", 1)[-1], "error": None, "engine": "rasa"}

    def latest_message(self, sender: str) -> dict:
        """The tracker's latest user message (intent, response selector), or {} when unavailable."""
        try:
            response = self.http.get(f"{self.url}/conversations/{quote(sender, safe='')}/tracker", params={"include_events": "NONE"},
                                     timeout=self.timeout)
            if response.status_code == 200:
                return (response.json() or {}).get("latest_message") or {}
        except (httpx.HTTPError, ValueError):
            pass
        return {}


@dataclass
class _Peek:
    channel: str
    sender_id: str
    kind: str
    text: str | None
    payload: str | None
    display_name: str | None
    attempts: int
    ticket_open: bool


def rasa_sender(channel: str, user_id: str) -> str:
    return f"{channel}:{user_id}"


def full_intent(latest: dict) -> tuple[str | None, float]:
    """The intent Rasa recognised, with a retrieval intent's sub-intent (``faq/<id>``)."""
    intent = latest.get("intent") or {}
    name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
    selector = ((latest.get("response_selector") or {}).get(name or "") or {}).get("response") or {}
    if selector.get("intent_response_key"):
        name = selector["intent_response_key"]
    return name, confidence


class RasaDialogue(Dialogue):
    def __init__(self, *args, rasa: RasaClient, **kwargs):
        super().__init__(*args, **kwargs)
        self.rasa = rasa

    def process(self, event_id: int, text: str | None = None) -> Outcome | None:
        peek = self._peek(event_id)
        if peek is None:
            return None
        if peek.channel == comments.CHANNEL:
            # A fanpage comment is one exchange with its own replies (private, public, ticket code:
            # bot.comments); Rasa's NLU sorts it (``_parse_early``), our turn writes the replies.
            return super().process(event_id, peek.text)
        replies, latest, unavailable = None, {}, False
        if not peek.ticket_open and peek.kind not in ("unfollow", "attachment"):
            sender = rasa_sender(peek.channel, peek.sender_id)
            try:
                replies = self.rasa.webhook(sender, self._rasa_input(peek), {
                    "channel": peek.channel, "user_id": peek.sender_id, "display_name": peek.display_name})
            except RasaUnavailable as exc:
                if peek.attempts + 1 < MAX_ATTEMPTS:
                    logger.warning("inbox event %s: %s; retried later", event_id, exc)
                    self.inbox.record_failure(event_id, exc)
                    raise
                logger.error("inbox event %s: %s on the last attempt; handed off to an officer", event_id, exc)
                unavailable = True
            else:
                latest = self.rasa.latest_message(sender)
        try:
            with self.db.session() as session, session.no_autoflush:
                event = self.inbox.claim(session, event_id)
                if event is None:
                    return None
                outcome = self._rasa_turn(session, event, replies, latest, unavailable)
                self.inbox.mark_done(session, event)
                return outcome
        except Exception as exc:
            logger.exception("processing inbox event %s failed", event_id)
            self.inbox.record_failure(event_id, exc)
            raise

    # -- steps ------------------------------------------------------------------------------------
    def _parse_before_claim(self) -> bool:
        return True  # an HTTP call to Rasa: never inside the write transaction

    def _batch_turns(self) -> bool:
        return False  # each event makes HTTP calls to Rasa before its own transaction

    def _parse_early(self, event_id: int, text: str | None = None) -> dict | None:
        """Rasa's understanding of a comment (``POST /model/parse``) in our parse format. Rasa down:
        the event is retried like a message; on its last attempt our own model decides."""
        text = (text or "")[: self.max_message_chars]
        if not text.strip():
            return None
        try:
            parsed = self.rasa.parse(text)
        except RasaUnavailable as exc:
            with self.db.read() as session:
                attempts = session.scalar(select(InboxEvent.attempts).where(InboxEvent.id == event_id)) or 0
            if attempts + 1 < MAX_ATTEMPTS:
                logger.warning("inbox event %s: %s; retried later", event_id, exc)
                self.inbox.record_failure(event_id, exc)
                raise
            return None
        name, confidence = full_intent(parsed if isinstance(parsed, dict) else {})
        if name is None:
            return None
        return {"text": text, "intent": {"name": name, "confidence": confidence},
                "intent_ranking": [{"name": name, "confidence": confidence}], "entities": []}

    def _peek(self, event_id: int) -> _Peek | None:
        """The pending event and whether its conversation already waits for an officer (a read)."""
        with self.db.read() as session:
            event = session.scalar(select(InboxEvent).where(InboxEvent.id == event_id, InboxEvent.status == "pending"))
            if event is None:
                return None
            conv_id = session.scalar(select(Conversation.id).where(Conversation.channel == event.channel,
                                                                   Conversation.user_id == event.sender_id))
            ticket = tickets.open_ticket_for(session, conv_id) if conv_id is not None else None
            received = _aware(event.received_at) if event.received_at else None
            # A ticket opened for THIS event (a retry after Rasa's hand-off) does not silence it.
            ticket_open = ticket is not None and event.kind != "follow" and (
                received is None or _aware(ticket.created_at) < received)
            return _Peek(event.channel, event.sender_id, event.kind, event.text, event.payload, event.display_name,
                         event.attempts, ticket_open)

    def _rasa_input(self, peek: _Peek) -> str:
        if peek.kind == "follow":
            return "/greet"
        if peek.payload and peek.payload.startswith("/"):
            return peek.payload
        return (peek.text or "")[: self.max_message_chars]

    def _rasa_turn(self, session, event: InboxEvent, replies: list[dict] | None, latest: dict, unavailable: bool) -> Outcome:
        now = self.clock()
        conv, incoming = self._open_turn(session, event, now)
        if incoming is None:
            return Outcome(event.id)
        slots = dict(conv.slots or {})
        ticket = tickets.open_ticket_for(session, conv.id)
        received = _aware(event.received_at) if event.received_at else now
        if ticket is not None and event.kind != "follow" and _aware(ticket.created_at) < received:
            incoming.ticket_id = ticket.id  # officers have it: the message joins the ticket, no reply
            incoming.action = policy.ACTION_KIND[policy.ACTION_LISTEN]
            tickets.worker_follow_up(session, ticket, now)
            return Outcome(event.id, action="listen", ticket_code=ticket.code)

        intent, confidence = full_intent(latest)
        messages: list[dict]
        if unavailable:
            handoff = tickets.HandOff(question=event.text or "", reason="rasa_unavailable")
            ticket = ticket or tickets.open_ticket(session, conv, handoff, now, self.sla_hours)
            action = policy.ACTION_HANDOFF
            messages = [{"text": self.engine.responses.text(
                "utter_handoff", ticket_code=ticket.code, sla_hours=self.sla_hours, due_at=format_local(_aware(ticket.due_at)),
                **units.placeholders(session, conv.unit_id, self.engine.settings))}]
        elif event.kind == "attachment":
            action, messages = policy.ACTION_ATTACHMENT, [{"text": self.engine.responses.text("utter_attachment")}]
        else:
            if ticket is not None:  # opened by our action server during this turn
                action = policy.ACTION_HANDOFF
            elif intent and intent.startswith("faq/"):
                action = policy.ACTION_ANSWER
            elif intent in policy.SMALLTALK_INTENTS:
                action = policy.ACTION_SMALLTALK
            else:
                action = _KINDS.get(intent or "", policy.ACTION_FALLBACK)
                if action == policy.ACTION_HANDOFF:
                    action = policy.ACTION_FALLBACK  # Rasa chose no hand-off action: no ticket exists
            messages = [_reply(r) for r in replies or []]
        if ticket is not None:
            incoming.ticket_id = ticket.id
        incoming.intent, incoming.confidence = intent, confidence if intent else None
        incoming.action = policy.ACTION_KIND[action]
        incoming.faq_id = intent[len("faq/"):] if intent and intent.startswith("faq/") else None
        decision = policy.Decision(action, intent, confidence, faq_id=incoming.faq_id, reason="rasa")
        turn = Turn({"text": event.text or "", "intent": {"name": intent, "confidence": confidence}}, decision, messages)
        if slots.pop(PRIVACY_NOTICE_SLOT, False):
            self._add_privacy_notice(turn, units.placeholders(session, conv.unit_id, self.engine.settings))
        if action == policy.ACTION_ANSWER:
            slots["last_faq_id"] = incoming.faq_id
        conv.slots = {k: v for k, v in slots.items() if k == "last_faq_id"}
        return self._write_replies(session, event, conv, turn, now, ticket)


def _reply(message: dict) -> dict:
    """A Rasa bot message as our reply (text and quick-reply buttons; an image becomes its link)."""
    text = message.get("text") or ""
    if message.get("image"):
        text = f"{text}\n{message['image']}".strip()
    buttons = [{"title": str(b.get("title", ""))[:80], "payload": str(b.get("payload", ""))[:300]}
               for b in message.get("buttons") or [] if isinstance(b, dict) and b.get("title")]
    return {"text": text, "buttons": buttons}


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def build(db, engine, inbox, settings, http: httpx.Client, **kwargs) -> RasaDialogue:
    """The turn of ``BOT_ENGINE=rasa`` (``bot.runtime`` calls this)."""
    client = RasaClient(settings["RASA_URL"], http, settings["RASA_TIMEOUT_SECONDS"])
    return RasaDialogue(db, engine, inbox, rasa=client, **kwargs)


__all__ = ["RasaClient", "RasaDialogue", "RasaUnavailable", "build", "utcnow"]
