"""``action_handoff`` as the Rasa action server runs it: the ticket is opened in our queue first.

In our own engine the dialogue opens the ticket (``bot.handoff.tickets.open_ticket``) and the
action only renders it. A Rasa bot has no such dialogue: Rasa calls ``action_handoff`` on the action
server (``python -m rasa_sdk --actions actions``), which imports every module of this package; the
class below is a subclass of ``ActionHandoff``, so rasa-sdk registers it last and it serves
``action_handoff`` there. It opens the ticket in the database of ``DATABASE_URL`` (the one our
server and dashboard use) with the ``SLA_HOURS`` deadline, then renders the usual reply with the
ticket code. The in-process engine never imports this module (``actions.ACTIONS`` lists the plain
``ActionHandoff``), so the rule "actions only render" holds there; this module is the one exception,
named in docs/architecture.md and tests/test_architecture.py.

Which conversation: ``BOT_ENGINE=rasa`` (``bot.rasa.dialogue``) sends our channel and user id as the
message's metadata, so the ticket joins the worker's conversation and an officer's reply reaches the
worker on Messenger or Zalo. A message that reached Rasa some other way (Rasa's own channels) gets
a conversation named after Rasa's input channel and sender id. While that conversation has an open
ticket, a second hand-off reuses it: a retried message never opens two tickets.
"""

from __future__ import annotations

import functools
import logging

from rasa_sdk.events import SlotSet

from bot.config import Settings
from bot.handoff import tickets
from bot.storage import Database
from bot.storage.models import Conversation, Message, utcnow

from .actions import ActionHandoff

logger = logging.getLogger(__name__)

# Rasa's input channel names -> ours (an officer's reply goes out through our channel of that name).
RASA_CHANNELS = {"facebook": "messenger", "rest": "web", "zalo": "zalo", "socketio": "web"}


@functools.lru_cache(maxsize=1)
def _database(url: str) -> Database:
    return Database(url)


def conversation_key(tracker) -> tuple[str, str, str | None]:
    """(channel, user id, display name) of the tracker's conversation in our database."""
    meta = (tracker.latest_message or {}).get("metadata") or {}
    if meta.get("channel") and meta.get("user_id"):
        return str(meta["channel"])[:20], str(meta["user_id"])[:200], meta.get("display_name")
    channel = tracker.get_latest_input_channel() or "rasa"
    return RASA_CHANNELS.get(channel, channel)[:20], str(tracker.sender_id)[:200], None


def open_for(tracker, settings: Settings) -> dict:
    """Open (or find the open) ticket of the tracker's conversation; its slots."""
    db = _database(settings["DATABASE_URL"])
    channel, user_id, name = conversation_key(tracker)
    latest = tracker.latest_message or {}
    intent = (latest.get("intent") or {})
    ours = bool((latest.get("metadata") or {}).get("channel"))
    now = utcnow()
    with db.session() as session:
        # A conversation this hand-off creates for our own channels still owes the privacy notice
        # (the slot bot.dialogue's turn reads: it opens the first reply).
        session.execute(db.insert_ignoring(
            Conversation, {"channel": channel, "user_id": user_id, "display_name": name,
                           "slots": {"privacy_notice_due": True} if ours else {},
                           "replies_since_user_message": 0, "followed": True, "created_at": now, "last_activity_at": now},
            ["channel", "user_id"]))
        conv = session.query(Conversation).filter_by(channel=channel, user_id=user_id).one()
        ticket = tickets.open_ticket_for(session, conv.id)
        if ticket is None:
            if not ours and latest.get("text"):
                # Rasa's own channels: our transcript has nothing yet; the question starts it.
                session.add(Message(conversation_id=conv.id, direction="in", author="worker", text=latest["text"][:4000],
                                    intent=intent.get("name"), confidence=intent.get("confidence"), action="handoff",
                                    created_at=now))
                session.flush()
            reason = intent.get("name") or "rasa"
            handoff = tickets.HandOff(question=latest.get("text") or "", reason="fallback" if reason == "nlu_fallback" else reason,
                                      confidence=intent.get("confidence"))
            ticket = tickets.open_ticket(session, conv, handoff, now, int(settings["SLA_HOURS"]))
            logger.info("rasa hand-off: ticket %s opened (%s)", ticket.code, channel)
        return tickets.slots_for(ticket)


class ActionHandoffToQueue(ActionHandoff):
    """``action_handoff`` on the rasa-sdk action server: open the ticket, then tell its code.

    Built without arguments by rasa-sdk (resources from the environment's settings, like every
    action there); tests pass ``Resources`` for another database. Our engine never builds it."""

    def run(self, dispatcher, tracker, domain):
        slots = open_for(tracker, self.res.settings)
        tracker.slots.update(slots)
        events = super().run(dispatcher, tracker, domain)
        return [SlotSet(name, value) for name, value in slots.items()] + list(events)
