"""The bot's custom actions (rasa-sdk ``Action`` classes)."""

from __future__ import annotations

import abc
import datetime as dt
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import policy
from bot.vntime import format_local

from .resources import Resources, for_action_server

BUTTON_HELPFUL = {"title": "Hữu ích 👍", "payload": "/feedback_good"}
BUTTON_UNCLEAR = {"title": "Chưa rõ, gặp cán bộ", "payload": "/feedback_unclear"}
BUTTON_OFFICER = {"title": "Gặp cán bộ", "payload": "/request_human"}
# Topics offered after a greeting (FAQ ids; missing ones are skipped).
GREETING_TOPICS = ("nghi_phep_nam", "luong_toi_thieu_vung", "bhxh_mot_lan", "bhtn", "thai_san_lao_dong_nu", "tro_cap_thoi_viec")
STATUS_LABELS = {
    "open": "đang chờ cán bộ tiếp nhận",
    "assigned": "cán bộ đang xử lý",
    "answered": "cán bộ đã trả lời",
    "resolved": "đã giải quyết xong",
    "closed": "đã đóng",
}


def _faq_button(entry) -> dict:
    return {"title": entry.label, "payload": f"/{entry.intent}"}


def _parse_of(tracker: Tracker) -> dict:
    return tracker.latest_message or {}


class BotAction(Action, abc.ABC):
    """An action that renders from the knowledge base and reply templates it is given.

    The engine passes its own ``Resources``; the rasa-sdk action server instantiates the class
    without arguments, and the resources are then loaded from the settings on first use.
    """

    def __init__(self, resources: Resources | None = None):
        self._resources = resources

    @abc.abstractmethod
    def name(self) -> str:
        """The action's Rasa name (abstract: the rasa-sdk executor skips this base class)."""

    @property
    def res(self) -> Resources:
        return self._resources or for_action_server()


class ActionAnswerFAQ(BotAction):
    def name(self) -> str:
        return policy.ACTION_ANSWER

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        res = self.res
        entry = res.kb.for_intent((_parse_of(tracker).get("intent") or {}).get("name"))
        if entry is None:
            return ActionDefaultFallback(self._resources).run(dispatcher, tracker, domain)
        buttons = [BUTTON_HELPFUL, BUTTON_UNCLEAR]
        if entry.calculator:
            buttons.append({"title": "Tính cho tôi", "payload": f"/calc/{entry.calculator}"})
        for rid in entry.related[:3]:
            related = res.kb.get(rid)
            if related is not None:
                buttons.append(_faq_button(related))
        dispatcher.utter_message(text=entry.render(res.responses.context), buttons=buttons)
        return [SlotSet("last_faq_id", entry.id)]


class ActionClarify(BotAction):
    def name(self) -> str:
        return policy.ACTION_CLARIFY

    def run(self, dispatcher, tracker, domain):
        res = self.res
        parse = _parse_of(tracker)
        top = float((parse.get("intent") or {}).get("confidence") or 0.0)
        options = policy._clarify_options(parse.get("intent_ranking") or [], res.kb, top)
        buttons = [_faq_button(res.kb.get(o)) for o in options] + [BUTTON_OFFICER]
        lines = [res.responses.text("utter_clarify")] + [f"• {res.kb.get(o).title}" for o in options]
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return [SlotSet("clarify_options", list(options))]


class ActionDefaultFallback(BotAction):
    def name(self) -> str:
        return policy.ACTION_FALLBACK

    def run(self, dispatcher, tracker, domain):
        res = self.res
        dispatcher.utter_message(text=res.responses.text("utter_fallback", sla_hours=res.settings["SLA_HOURS"]), buttons=[BUTTON_OFFICER])
        return []


class ActionEmpty(BotAction):
    def name(self) -> str:
        return policy.ACTION_EMPTY

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text=self.res.responses.text("utter_empty_message"))
        return []


class ActionSmalltalk(BotAction):
    def name(self) -> str:
        return policy.ACTION_SMALLTALK

    def run(self, dispatcher, tracker, domain):
        res = self.res
        intent = (_parse_of(tracker).get("intent") or {}).get("name")
        template = policy.SMALLTALK_INTENTS.get(intent, "utter_affirm_deny")
        buttons = None
        if intent == "greet":
            buttons = [_faq_button(res.kb.get(t)) for t in GREETING_TOPICS if res.kb.get(t)] + [BUTTON_OFFICER]
        elif intent == "bot_challenge":
            buttons = [BUTTON_OFFICER]
        dispatcher.utter_message(text=res.responses.text(template), buttons=buttons)
        return []


class ActionFeedback(BotAction):
    def name(self) -> str:
        return policy.ACTION_FEEDBACK

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text=self.res.responses.text("utter_feedback_good"))
        return [SlotSet("feedback", {"faq_id": tracker.get_slot("last_faq_id"), "helpful": True})]


class ActionHandoff(BotAction):
    """Tell the worker their question went to an officer: the ticket code and the deadline.

    The ticket itself is opened by ``bot.handoff.tickets.open_ticket`` before this action runs, and
    reaches it as the slots ``ticket_code`` and ``ticket_due_at``. Without them (``python -m bot
    ask``, ``shell``) no code is promised: the worker would be told what *would* happen.
    """

    def name(self) -> str:
        return policy.ACTION_HANDOFF

    def run(self, dispatcher, tracker, domain):
        res = self.res
        intent = (_parse_of(tracker).get("intent") or {}).get("name")
        sla = int(res.settings["SLA_HOURS"])
        # The entry's text comes first when the policy handed off *with* an answer (slot handoff_faq_id:
        # a sure FAQ question that also reads like a dispute) or the entry is `escalate: always`.
        faq_id = tracker.get_slot("handoff_faq_id")
        entry = res.kb.get(faq_id) if faq_id else res.kb.for_intent(intent)
        preface = entry.render(res.responses.context) if entry is not None and (faq_id or entry.escalate == "always") else None
        code, due = tracker.get_slot("ticket_code"), tracker.get_slot("ticket_due_at")
        if code and due:
            text = res.responses.text("utter_handoff", ticket_code=code, sla_hours=sla,
                                      due_at=format_local(dt.datetime.fromisoformat(due)))
        else:
            text = res.responses.text("utter_handoff_preview", sla_hours=sla)
        dispatcher.utter_message(text=f"{preface}\n\n{text}" if preface else text)
        return []


class ActionAttachment(BotAction):
    def name(self) -> str:
        return policy.ACTION_ATTACHMENT

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text=self.res.responses.text("utter_attachment"))
        return []


class ActionTicketStatus(BotAction):
    def name(self) -> str:
        return policy.ACTION_STATUS

    def run(self, dispatcher, tracker, domain):
        res = self.res
        code = tracker.get_slot("ticket_code")
        status = tracker.get_slot("ticket_status")
        if not code or status in (None, "resolved", "closed"):
            dispatcher.utter_message(text=res.responses.text("utter_no_ticket"))
            return []
        due = tracker.get_slot("ticket_due_at")
        due_text = format_local(dt.datetime.fromisoformat(due)) if due else "—"
        dispatcher.utter_message(
            text=res.responses.text("utter_ticket_status", ticket_code=code, status=STATUS_LABELS.get(status, status), due_at=due_text)
        )
        return []



def _date_vi(iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


class ActionCalculate(BotAction):
    """The worker's own figure (slot ``case``, computed by ``bot.cases``): the figure, the steps,
    the assumptions and the legal basis; or, for an impossible number, a request to check it."""

    def name(self) -> str:
        return policy.ACTION_CALCULATE

    def run(self, dispatcher, tracker, domain):
        res = self.res
        case = tracker.get_slot("case") or {}
        calc = case.get("calculation")
        if calc is None:
            text = case.get("invalid") or res.responses.text("utter_form_check_number")
            dispatcher.utter_message(text=f"{text}\n{res.responses.text('utter_form_correct_hint')}", buttons=[BUTTON_OFFICER])
            return [SlotSet("form", case.get("form"))]
        lines = [calc["summary"]]
        if calc.get("steps"):
            lines.append("Cách tính:")
            lines += [f"• {step}" for step in calc["steps"]]
        if calc.get("assumptions"):
            lines.append("Mình đã giả định:")
            lines += [f"• {a}" for a in calc["assumptions"]]
        lines.append(res.responses.text("utter_calculation_offer"))
        lines.append(f"Căn cứ: {calc['legal_basis']} (cập nhật {_date_vi(calc['as_of'])}).")
        buttons = [BUTTON_HELPFUL, BUTTON_UNCLEAR]
        entry = res.kb.get(case.get("faq_id")) if case.get("faq_id") else None
        if entry is not None:
            buttons.append({"title": "Xem quy định", "payload": f"/{entry.intent}"})
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return [SlotSet("form", None), SlotSet("last_faq_id", case.get("faq_id"))]


class ActionForm(BotAction):
    """Ask for the next fact the calculation needs (one question at a time)."""

    def name(self) -> str:
        return policy.ACTION_FORM

    def run(self, dispatcher, tracker, domain):
        res = self.res
        case = tracker.get_slot("case") or {}
        question = case.get("question") or ""
        if case.get("reasks"):
            text = f"{res.responses.text('utter_form_reask')} {question}"
        elif case.get("first_question"):
            text = f"{res.responses.text('utter_form_intro', title=case.get('title', '').lower())}\n{question}"
        else:
            text = question
        buttons = [{"title": label, "payload": label} for label, _ in case.get("choices") or []]
        dispatcher.utter_message(text=text, buttons=buttons or None)
        return [SlotSet("form", case.get("form"))]


class ActionFormCancel(BotAction):
    def name(self) -> str:
        return policy.ACTION_FORM_CANCEL

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text=self.res.responses.text("utter_form_cancelled"))
        return [SlotSet("form", None)]
