"""The conversation engine core: message in, replies out. No Flask, no channels, no storage.

``Engine`` ties together the NLU model, the knowledge base, the policy and the actions, in two
steps: ``understand(text)`` (NLU, then the policy's decision) and ``act(understood, slots)`` (run
the chosen rasa-sdk action, which only renders what it is given). The dialogue
(``bot.dialogue``) does the bookkeeping between the two, such as opening a ticket. ``respond``
does both for the stateless CLI (``ask``, ``shell``). Built once (``Engine.from_settings``) and
shared by the CLI, the HTTP API and the workers.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions as actions_pkg
from actions.resources import Resources

from . import policy
from .config import Settings
from .nlu import segment
from .nlu.entities import EntityExtractor
from .nlu.metrics import NLU_SECONDS
from .nlu.model import TRAIN_HINT, ModelNotFoundError, ModelRegistry, NLUModel
from .responses import Responses

logger = logging.getLogger(__name__)

# "/faq/nghi_phep_nam", "/request_human": a button payload naming an intent directly (Rasa style).
_PAYLOAD_RE = re.compile(r"^/([a-z_]+(?:/[a-z0-9_]+)?)$")
PARSE_CACHE_SIZE = 4096
PAYLOAD_INTENTS = {"request_human", "feedback_good", "feedback_unclear", "greet", "ticket_status", "attachment"}


@dataclass(frozen=True)
class Understanding:
    """What the bot made of one message: the Rasa-style parse and the policy's decision."""

    parse: dict
    decision: policy.Decision
    # Further questions of a long message, answered after the first (each with its own parse).
    also: tuple[Understanding, ...] = ()


@dataclass
class Turn:
    """The outcome of one message: what the bot says and what happened."""

    parse: dict
    decision: policy.Decision
    messages: list[dict]
    events: list[dict] = field(default_factory=list)
    also: tuple[policy.Decision, ...] = ()

    @property
    def text(self) -> str:
        return "\n\n".join(m.get("text") or "" for m in self.messages if m.get("text"))

    def slot_updates(self) -> dict:
        return {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}

    def to_ask_json(self) -> dict:
        """The public ``python -m bot ask --json`` object."""
        return {
            "text": self.text,
            "intent": self.decision.intent,
            "confidence": round(self.decision.confidence, 4),
            "action": self.decision.kind,
            "faq_id": self.decision.faq_id if self.decision.kind == "answer" or self.decision.faq_id else None,
            "handoff": self.decision.handoff,
            "buttons": [b for m in self.messages for b in (m.get("buttons") or [])],
            "entities": [{k: e[k] for k in ("entity", "value", "start", "end", "extractor", "role") if k in e}
                         for e in self.parse.get("entities") or []],
            "calculation": self._calculation(),
            "form": self._form(),
            "also": [{"intent": d.intent, "action": d.kind, "faq_id": d.faq_id} for d in self.also],
        }

    def _calculation(self) -> dict | None:
        case = self.decision.case
        if case is None or case.calculation is None:
            return None
        calc = case.calculation
        return {"calculator": calc.kind, "value": calc.value, "unit": calc.unit, "eligible": calc.eligible,
                "legal_basis": calc.legal_basis, "as_of": calc.as_of.isoformat()}

    def _form(self) -> dict | None:
        case = self.decision.case
        if case is None or case.calculation is not None:
            return None
        return {"calculator": case.calculator, "asking": case.asking, "facts": dict(case.facts), "invalid": case.invalid}


class Engine:
    def __init__(self, model: NLUModel | None, resources: Resources):
        self.resources = resources
        self._model = model
        self._model_lock = threading.Lock()
        # Parse results per text for the current model: the dialogue runs the NLU before it opens
        # its write transaction (``parse`` then ``understand(parse=…)``), and repeated messages
        # ("xin chào") are served cheaply.
        self._parse_cache: OrderedDict[str, dict] = OrderedDict()
        self._actions = {action.name(): action for action in (cls(resources) for cls in actions_pkg.ACTIONS)}
        self._org_actions: dict[tuple, dict] = {}  # per unit's placeholders (``_actions_for``)
        self.entities = EntityExtractor(resources.places)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, model: NLUModel | None = None, load_model: bool = True) -> Engine:
        """Load the knowledge base, replies and (unless given) the current model.

        Raises ``bot.nlu.model.ModelError`` with a clear message if no usable model exists and
        ``load_model`` is true.
        """
        resources = Resources.load(settings or Settings.load())
        if model is None and load_model:
            model = ModelRegistry(resources.settings["MODELS_DIR"]).load_current()
        return cls(model, resources)

    @property
    def kb(self):
        return self.resources.kb

    def set_knowledge(self, kb) -> None:
        """Answer from another knowledge base (the FAQ edited in the browser); a turn under way keeps
        the one it started with, since the actions hold their own resources."""
        resources = dataclasses.replace(self.resources, kb=kb)
        actions = {action.name(): action for action in (cls(resources) for cls in actions_pkg.ACTIONS)}
        self.resources, self._actions, self._org_actions = resources, actions, {}

    @property
    def responses(self):
        return self.resources.responses

    @property
    def settings(self) -> Settings:
        return self.resources.settings

    # -- model -----------------------------------------------------------------------------------
    @property
    def model(self) -> NLUModel | None:
        return self._model

    def set_model(self, model: NLUModel) -> None:
        with self._model_lock:
            self._model = model
            self._parse_cache.clear()

    # -- understanding ---------------------------------------------------------------------------
    def parse(self, text: str) -> dict:
        """Rasa-style parse dict. Button payloads ("/faq/x") bypass the classifier."""
        text = text if isinstance(text, str) else ""
        payload = _PAYLOAD_RE.match(text.strip())
        if payload:
            name = payload.group(1)
            known = name in PAYLOAD_INTENTS or self.kb.for_intent(name) is not None
            if known or (name.startswith("calc/") and self.kb.with_calculator(name[len("calc/"):]) is not None):
                return {"text": text, "intent": {"name": name, "confidence": 1.0},
                        "intent_ranking": [{"name": name, "confidence": 1.0}], "entities": []}
        model = self._model
        if model is None:
            raise ModelNotFoundError(f"Chưa nạp mô hình NLU. Hãy huấn luyện mô hình bằng lệnh: {TRAIN_HINT}")
        with self._model_lock:
            cached = self._parse_cache.get(text)
            if cached is not None:
                self._parse_cache.move_to_end(text)
                return copy.deepcopy(cached)
        started = time.perf_counter()
        result = model.parse(text).to_rasa()
        result["entities"] = self.entities.extract(text)
        NLU_SECONDS.observe(time.perf_counter() - started)
        with self._model_lock:
            if model is self._model:
                self._parse_cache[text] = copy.deepcopy(result)
                if len(self._parse_cache) > PARSE_CACHE_SIZE:
                    self._parse_cache.popitem(last=False)
        return result

    def decide(self, parse: dict, ticket_open: bool = False, form: dict | None = None) -> policy.Decision:
        m = self._model
        if m is None:
            return policy.decide(parse, self.kb, ticket_open=ticket_open, form=form)
        return policy.decide(parse, self.kb, m.threshold, m.margin, m.clarify_floor, ticket_open=ticket_open, form=form)

    def understand(self, text: str, ticket_open: bool = False, parse: dict | None = None, form: dict | None = None) -> Understanding:
        """NLU and entities (unless ``parse`` of this very text is given) and the policy's decision;
        ``form`` is the open form of the conversation (``bot.cases``), if any."""
        parse = parse if parse is not None and parse.get("text") == text else self.parse(text)
        understood = Understanding(parse, self.decide(parse, ticket_open, form))
        if ticket_open or form or text.startswith("/") or not segment.is_long(text):
            return understood
        return self._read_long(understood)

    def _read_long(self, whole: Understanding) -> Understanding:
        """A long message, question by question: the story may bury the question, or ask two.

        The whole message's decision stands when it hands off (a dispute, a request for a person)
        or when no single question reads better. Otherwise the best-understood question leads;
        every other question is answered too if understood, or, if a real question the bot is
        unsure of, the first answer goes with a hand-off so that no question is silently dropped.
        """
        asked = segment.questions(whole.parse["text"])
        if len(asked) < 2 and (not asked or asked[0].strip() == whole.parse["text"].strip()):
            return whole
        parts = []
        for question in asked:
            parse = dict(self.parse(question))
            parse["entities"] = whole.parse.get("entities") or []  # the story's facts belong to every question
            parse["whole_text"] = whole.parse["text"]
            parts.append(Understanding(parse, self.decide(parse)))
        if whole.decision.handoff:
            return whole
        good = (policy.ACTION_ANSWER, policy.ACTION_CALCULATE, policy.ACTION_FORM)
        confident = [p for p in parts if p.decision.action in good or p.decision.handoff and p.decision.reason in policy.HANDOFF_INTENTS]
        if whole.decision.action in good:
            lead = whole
        elif confident:
            lead = max(confident, key=lambda p: p.decision.confidence)
            if lead.decision.handoff:
                return lead
        else:
            return whole
        seen = {lead.decision.faq_id}
        also, unsure = [], []
        for part in parts:
            d = part.decision
            if d.action in good and d.faq_id not in seen:
                seen.add(d.faq_id)
                also.append(part)
            elif d.action in (policy.ACTION_CLARIFY, policy.ACTION_FALLBACK) and segment.is_real_question(part.parse["text"]):
                unsure.append(part)
        if unsure and lead.decision.action == policy.ACTION_ANSWER:
            d = lead.decision
            handoff = policy.Decision(policy.ACTION_HANDOFF, d.intent, d.confidence, faq_id=d.faq_id, reason="second_question")
            return Understanding(whole.parse, handoff, tuple(also))
        return Understanding(lead.parse if lead is not whole else whole.parse, lead.decision, tuple(also))

    # -- acting ----------------------------------------------------------------------------------
    def _actions_for(self, org: dict | None) -> dict:
        """The actions rendering with a unit's placeholders ({org_name}, {hotline}…), built once per unit."""
        if not org or org == self.resources.responses.context:
            return self._actions
        key = tuple(sorted(org.items()))
        actions = self._org_actions.get(key)
        if actions is None:
            base = self.resources
            responses = Responses(base.responses.templates, {**base.responses.context, **org})
            resources = dataclasses.replace(base, responses=responses)
            actions = {action.name(): action for action in (cls(resources) for cls in actions_pkg.ACTIONS)}
            if len(self._org_actions) >= 256:
                self._org_actions.clear()
            self._org_actions[key] = actions
        return actions

    def act(self, understood: Understanding, slots: dict | None = None, sender_id: str = "cli", org: dict | None = None) -> Turn:
        """Run the decided action in-process with a rasa-sdk tracker.

        ``slots`` carry what the action renders: the conversation's persistent slots and, for a
        hand-off or a status question, the ticket (``ticket_code``, ``ticket_status``,
        ``ticket_due_at``). Without a ticket, the hand-off action renders a preview. ``org``: the
        placeholders of the conversation's unit (``bot.units.placeholders``), else the settings'.
        """
        all_actions = self._actions_for(org)
        decision = understood.decision
        slots = dict(slots or {})
        if decision.handoff and decision.faq_id:
            slots["handoff_faq_id"] = decision.faq_id  # ActionHandoff sends this entry's answer first
        if decision.case is not None:
            slots["case"] = decision.case.to_slot()  # ActionCalculate / ActionForm render it
        if decision.action == policy.ACTION_LISTEN:
            return Turn(understood.parse, decision, [], [])
        tracker = Tracker(
            sender_id=sender_id,
            slots=slots,
            latest_message=understood.parse,
            events=[],
            paused=False,
            followup_action=None,
            active_loop={},
            latest_action_name=None,
        )
        dispatcher = CollectingDispatcher()
        events = all_actions[decision.action].run(dispatcher, tracker, {}) or []
        for more in understood.also:
            extra = dict(slots)
            extra.pop("case", None)
            if more.decision.case is not None:
                extra["case"] = more.decision.case.to_slot()
            more_tracker = Tracker(sender_id=sender_id, slots=extra, latest_message=more.parse, events=[], paused=False,
                                   followup_action=None, active_loop={}, latest_action_name=None)
            events += [e for e in all_actions[more.decision.action].run(dispatcher, more_tracker, {}) or []
                       if e.get("name") != "form" or not any(x.get("name") == "form" for x in events)]
        return Turn(understood.parse, decision, dispatcher.messages, events, tuple(u.decision for u in understood.also))

    def respond(self, text: str, sender_id: str = "cli", slots: dict | None = None) -> Turn:
        """Understand and act, with no conversation behind it: ``ask``, ``shell``, benchmarks."""
        return self.act(self.understand(text), slots, sender_id)

    def ask(self, text: str) -> Turn:
        """Stateless answer for ``python -m bot ask``: nothing is stored, no ticket is opened."""
        return self.respond(text, sender_id="ask")
