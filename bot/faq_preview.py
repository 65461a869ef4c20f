"""How an FAQ answer will look on Messenger and Zalo, for the browser editor.

The answer is rendered by the bot's own action (``ActionAnswerFAQ``: placeholders filled with the
organisation's settings, the feedback, calculator and related buttons) and cut by each channel's own
code (``bot.channels.messenger.messages``, ``ZaloSender.render_text``), so the preview cannot drift
from what is sent.
"""

from __future__ import annotations

import dataclasses

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionAnswerFAQ
from actions.resources import Resources

from .channels import messenger, zalo
from .knowledge import FAQEntry, KnowledgeBase


def reply(resources: Resources, entry: FAQEntry) -> dict:
    """The bot's reply to a question answered by ``entry``: ``{"text", "buttons"}``."""
    kb = KnowledgeBase([e for e in resources.kb.entries if e.id != entry.id] + [entry])
    action = ActionAnswerFAQ(dataclasses.replace(resources, kb=kb))
    parse = {"text": entry.title, "intent": {"name": entry.intent, "confidence": 1.0}, "entities": []}
    tracker = Tracker(sender_id="preview", slots={}, latest_message=parse, events=[], paused=False, followup_action=None,
                      active_loop={}, latest_action_name=None)
    dispatcher = CollectingDispatcher()
    action.run(dispatcher, tracker, {})
    message = dispatcher.messages[0]
    return {"text": message.get("text") or "", "buttons": message.get("buttons") or []}


def preview(resources: Resources, entry: FAQEntry) -> dict:
    """``{"messenger": [{"text", "buttons": [titles]}], "zalo": [texts]}``: the parts each platform shows."""
    body = reply(resources, entry)
    return {
        "messenger": [{"text": m["text"], "buttons": [q["title"] for q in m.get("quick_replies", [])]} for m in messenger.messages(body)],
        "zalo": zalo.ZaloSender.render_text(body),
        "messenger_limit": messenger.MAX_TEXT,
        "zalo_limit": zalo.MAX_TEXT,
    }
