"""Dialogue policy: from an NLU result (and a little state) to the next action.

This is the rule table of the product; it knows nothing about channels or storage.

=====================================  ==========================================
NLU result (and state)                 action
=====================================  ==========================================
a ticket is open, ``ticket_status``    ``action_ticket_status`` (code, status, deadline)
a ticket is open, anything else        ``action_listen``: the bot stays silent, the message
                                       joins the ticket for the officer
empty message                          ``action_empty`` (ask to type a question)
``/attachment`` (a file, a sticker)    ``action_attachment`` (ask for the question in words)
button payload ``/faq/<id>``           answer that entry (confidence 1)
``request_human``, ``complaint``       ``action_handoff``
``feedback_unclear`` (after answer)    ``action_handoff``
``feedback_good``                      ``action_feedback``
``ticket_status``                      ``action_ticket_status``
greet, goodbye, thanks, …              ``action_smalltalk``
low confidence, ``out_of_scope``       ``action_default_fallback`` (offers an officer)
FAQ intent, unsure or top-2 too close  ``action_clarify`` ("Ý bạn là…?") if above the clarify floor
FAQ intent, entry ``escalate: always`` ``action_handoff`` (with the entry's text)
FAQ intent, ``complaint`` runner-up    ``action_handoff``: sure of the FAQ intent, with the entry's
with at least ``COMPLAINT_SIGNAL``,    text (the rule now, an officer for the dispute); unsure, alone
or a dispute statement (see
``bot.nlu.dialogue_act``)
FAQ intent with a calculator, and the  ``action_calculate``: the worker's figure with its steps,
message states the worker's facts      assumptions and legal basis; ``action_form`` asks for the
(or asks for their own figure)         first missing fact (``bot.cases``)
a form is open: "thôi", "hủy"          ``action_form_cancel``
a form is open: the message gives a    ``action_calculate`` / ``action_form`` (next fact)
fact
a form is open: another confident      that question's row (the form is left)
question
a form is open: nothing usable         ``action_form`` again (at most twice), then fallback
FAQ intent                             ``action_answer_faq``
=====================================  ==========================================

Thresholds (confidence and margin) come from the model's metadata, chosen on held-out folds.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import cases
from .knowledge import KnowledgeBase
from .nlu import OUT_OF_SCOPE

SMALLTALK_INTENTS = {
    "greet": "utter_greet",
    "goodbye": "utter_goodbye",
    "thanks": "utter_thanks",
    "bot_challenge": "utter_bot_challenge",
    "affirm": "utter_affirm_deny",
    "deny": "utter_affirm_deny",
}
HANDOFF_INTENTS = ("request_human", "complaint", "feedback_unclear")
# A FAQ question that also reads like a dispute (complaint probability at least this much) goes to an
# officer: answered first when the bot is sure of the FAQ intent, without a guessed answer otherwise.
# On the calibration set this caught 4 of the 6 disputes the classifier put under a FAQ intent, for
# 1 extra ticket among 485 ordinary questions.
COMPLAINT_SIGNAL = 0.15

# Action names, shared with actions/ (rasa-sdk classes) and the public `ask --json` contract.
ACTION_ANSWER = "action_answer_faq"
ACTION_CLARIFY = "action_clarify"
ACTION_FALLBACK = "action_default_fallback"
ACTION_HANDOFF = "action_handoff"
ACTION_SMALLTALK = "action_smalltalk"
ACTION_STATUS = "action_ticket_status"
ACTION_FEEDBACK = "action_feedback"
ACTION_EMPTY = "action_empty"
ACTION_ATTACHMENT = "action_attachment"
ACTION_LISTEN = "action_listen"  # Rasa's name for "say nothing, wait for the user"
ACTION_CALCULATE = "action_calculate"
ACTION_FORM = "action_form"
ACTION_FORM_CANCEL = "action_form_cancel"

# The coarse kind reported by `ask --json` and the logs.
ACTION_KIND = {
    ACTION_ANSWER: "answer",
    ACTION_CLARIFY: "clarify",
    ACTION_FALLBACK: "fallback",
    ACTION_HANDOFF: "handoff",
    ACTION_SMALLTALK: "smalltalk",
    ACTION_STATUS: "smalltalk",
    ACTION_FEEDBACK: "smalltalk",
    ACTION_EMPTY: "fallback",
    ACTION_ATTACHMENT: "attachment",
    ACTION_LISTEN: "listen",
    ACTION_CALCULATE: "answer",
    ACTION_FORM: "form",
    ACTION_FORM_CANCEL: "form",
}
MAX_CLARIFY_OPTIONS = 3
# A clarify option must have at least this share of the top intent's confidence.
CLARIFY_MIN_RATIO = 0.25


@dataclass
class Decision:
    action: str
    intent: str | None
    confidence: float
    faq_id: str | None = None
    options: tuple[str, ...] = ()  # FAQ ids offered by clarify
    reason: str = ""
    case: cases.CasePlan | None = None  # the worker's own case (calculate / form)

    @property
    def handoff(self) -> bool:
        return self.action == ACTION_HANDOFF

    @property
    def kind(self) -> str:
        if self.action == ACTION_CALCULATE and self.case is not None and self.case.calculation is None:
            return "form"  # a number to check: no figure given
        return ACTION_KIND[self.action]


def decide(parse: dict, kb: KnowledgeBase, threshold: float = 0.0, margin: float = 0.0, clarify_floor: float | None = None,
           ticket_open: bool = False, form: dict | None = None) -> Decision:
    """Choose the next action for one parsed message (Rasa parse dict with ``intent_ranking``).

    ``threshold``, ``margin`` and ``clarify_floor`` come from the model metadata; ``ticket_open``
    says the worker already waits for an officer; ``form`` is the open form (``bot.cases``), if any. A request for a person or a dispute is handed
    off whenever it is the top intent, whatever the confidence: a needless ticket costs an officer
    a minute, a missed one leaves a worker without help.
    """
    intent = (parse.get("intent") or {}).get("name")
    confidence = float((parse.get("intent") or {}).get("confidence") or 0.0)
    ranking = parse.get("intent_ranking") or []
    text = (parse.get("text") or "").strip()
    floor = threshold if clarify_floor is None else clarify_floor

    if ticket_open:
        if intent == "ticket_status" and confidence >= threshold:
            return Decision(ACTION_STATUS, intent, confidence)
        return Decision(ACTION_LISTEN, intent, confidence, reason="ticket_open")
    if form:
        return _decide_in_form(parse, form, lambda: decide(parse, kb, threshold, margin, clarify_floor), threshold)
    if not text:
        return Decision(ACTION_EMPTY, None, 0.0, reason="empty")
    if intent == "attachment":
        return Decision(ACTION_ATTACHMENT, intent, confidence)
    if intent and intent.startswith("calc/"):  # the "Tính cho tôi" button under an answer
        entry = kb.with_calculator(intent[len("calc/"):])
        if entry is not None:
            plan = cases.start(parse, entry.calculator, entry.id)
            return _case_decision(plan, intent, confidence, entry.id, "case")
    if intent in HANDOFF_INTENTS and confidence > 0.0:
        return Decision(ACTION_HANDOFF, intent, confidence, reason=intent)
    if intent == "feedback_good":
        return Decision(ACTION_FEEDBACK, intent, confidence)
    if intent == "ticket_status" and confidence >= threshold:
        return Decision(ACTION_STATUS, intent, confidence)
    if intent in SMALLTALK_INTENTS and confidence >= threshold:
        return Decision(ACTION_SMALLTALK, intent, confidence)

    entry = kb.for_intent(intent)
    if entry is None or intent == OUT_OF_SCOPE or confidence == 0.0:
        return Decision(ACTION_FALLBACK, intent, confidence, reason="out_of_scope" if intent == OUT_OF_SCOPE else "no_faq")
    second = float(ranking[1]["confidence"]) if len(ranking) > 1 else 0.0
    complaint = max((float(r["confidence"]) for r in ranking if r["name"] == "complaint"), default=0.0)
    dispute = complaint >= COMPLAINT_SIGNAL or bool(parse.get("dispute_statement"))
    # The "answered" rule (not out of scope, confidence >= threshold, top-1 minus top-2 >= margin) is
    # the same in three places that must agree: here, bot/nlu/tuning.py (choosing the thresholds on
    # held-out folds) and bot/nlu/calibration.py (choosing them on the calibration set).
    if confidence < threshold or confidence - second < margin:
        if dispute:  # unsure, and it reads like a dispute: an officer, not a guess
            return Decision(ACTION_HANDOFF, intent, confidence, reason="complaint_signal")
        plan = _case_despite_doubt(parse, ranking, kb, confidence, floor)
        if plan is not None:
            return _case_decision(plan, intent, confidence, plan.faq_id, "case_unsure")
        options = _clarify_options(ranking, kb, confidence) if confidence >= floor else []
        if options:
            return Decision(ACTION_CLARIFY, intent, confidence, options=tuple(options),
                            reason="ambiguous" if confidence >= threshold else "low_confidence")
        return Decision(ACTION_FALLBACK, intent, confidence, reason="low_confidence")
    if entry.escalate == "always":
        return Decision(ACTION_HANDOFF, intent, confidence, faq_id=entry.id, reason="escalate_always")
    if dispute:
        return Decision(ACTION_HANDOFF, intent, confidence, faq_id=entry.id, reason="complaint_signal")
    if entry.calculator and cases.states_case(parse, entry.calculator):
        return _case_decision(cases.start(parse, entry.calculator, entry.id), intent, confidence, entry.id, "case")
    return Decision(ACTION_ANSWER, intent, confidence, faq_id=entry.id)


def _case_despite_doubt(parse: dict, ranking: list[dict], kb: KnowledgeBase, top: float, floor: float) -> cases.CasePlan | None:
    """The classifier hesitates between entries, but the worker's numbers settle it: every close
    candidate computes with the same calculator (overtime on a weekday or on a holiday), or the top
    candidate's calculator has every fact it needs and no other candidate's could compute."""
    entry = kb.for_intent((parse.get("intent") or {}).get("name"))
    if entry is None or not entry.calculator or top < floor or not cases.states_case(parse, entry.calculator):
        return None
    text = parse.get("whole_text") or parse.get("text") or ""
    mine = cases.refine(entry.calculator, text)
    others = set()
    same_topic = True
    for item in ranking[1:]:
        other = kb.for_intent(item["name"])
        if float(item["confidence"]) < CLARIFY_MIN_RATIO * top:
            break
        if other is None or item["name"] == OUT_OF_SCOPE:
            continue
        same_topic = same_topic and other.topic == entry.topic
        others.add(cases.refine(other.calculator, text) if other.calculator else None)
    plan = cases.start(parse, entry.calculator, entry.id)
    if others <= {mine} or same_topic:
        return plan
    if plan.done and not any(c and c != mine and cases.states_case(parse, c) and cases.start(parse, c).done for c in others):
        return plan
    return None


def _case_decision(plan: cases.CasePlan, intent: str | None, confidence: float, faq_id: str | None, reason: str) -> Decision:
    action = ACTION_CALCULATE if plan.done else ACTION_FORM
    return Decision(action, intent, confidence, faq_id=faq_id, reason=reason, case=plan)


def _decide_in_form(parse: dict, form: dict, without_form, threshold: float) -> Decision:
    """The rows for a message that arrives while a form is open."""
    intent = (parse.get("intent") or {}).get("name")
    confidence = float((parse.get("intent") or {}).get("confidence") or 0.0)
    faq_id = form.get("faq_id")
    if cases.is_cancel(parse.get("text") or ""):
        return Decision(ACTION_FORM_CANCEL, intent, confidence, reason="form_cancelled")
    plan = cases.continue_form(form, parse)
    if plan is not None:
        return _case_decision(plan, intent, confidence, faq_id, "form")
    # Nothing usable for the form: another question (or a request for a person) leaves it.
    otherwise = without_form()
    if otherwise.action in (ACTION_HANDOFF, ACTION_STATUS, ACTION_CALCULATE, ACTION_FORM) or (
        otherwise.action in (ACTION_ANSWER, ACTION_SMALLTALK) and otherwise.confidence >= threshold
    ):
        return otherwise
    plan = cases.reask(form)
    if plan is None:
        return Decision(ACTION_FALLBACK, intent, confidence, reason="form_given_up")
    return Decision(ACTION_FORM, intent, confidence, faq_id=faq_id, reason="form_reask", case=plan)


def _clarify_options(ranking: list[dict], kb: KnowledgeBase, top: float) -> list[str]:
    options = []
    for item in ranking:
        entry = kb.for_intent(item["name"])
        if entry is None:
            continue
        if float(item["confidence"]) < CLARIFY_MIN_RATIO * top:
            break
        options.append(entry.id)
        if len(options) == MAX_CLARIFY_OPTIONS:
            break
    return options
