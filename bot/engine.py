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
import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions as actions_pkg
from actions.resources import Resources

from . import policy
from .config import Settings
from .nlu.model import TRAIN_HINT, ModelNotFoundError, ModelRegistry, NLUModel

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


@dataclass
class Turn:
    """The outcome of one message: what the bot says and what happened."""

    parse: dict
    decision: policy.Decision
    messages: list[dict]
    events: list[dict] = field(default_factory=list)

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
        }


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
            if name in PAYLOAD_INTENTS or self.kb.for_intent(name) is not None:
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
        result = model.parse(text).to_rasa()
        with self._model_lock:
            if model is self._model:
                self._parse_cache[text] = copy.deepcopy(result)
                if len(self._parse_cache) > PARSE_CACHE_SIZE:
                    self._parse_cache.popitem(last=False)
        return result

    def decide(self, parse: dict, ticket_open: bool = False) -> policy.Decision:
        m = self._model
        if m is None:
            return policy.decide(parse, self.kb, ticket_open=ticket_open)
        return policy.decide(parse, self.kb, m.threshold, m.margin, m.clarify_floor, ticket_open=ticket_open)

    def understand(self, text: str, ticket_open: bool = False, parse: dict | None = None) -> Understanding:
        """NLU (unless ``parse`` of this very text is given) and the policy's decision."""
        parse = parse if parse is not None and parse.get("text") == text else self.parse(text)
        return Understanding(parse, self.decide(parse, ticket_open))

    # -- acting ----------------------------------------------------------------------------------
    def act(self, understood: Understanding, slots: dict | None = None, sender_id: str = "cli") -> Turn:
        """Run the decided action in-process with a rasa-sdk tracker.

        ``slots`` carry what the action renders: the conversation's persistent slots and, for a
        hand-off or a status question, the ticket (``ticket_code``, ``ticket_status``,
        ``ticket_due_at``). Without a ticket, the hand-off action renders a preview.
        """
        decision = understood.decision
        slots = dict(slots or {})
        if decision.handoff and decision.faq_id:
            slots["handoff_faq_id"] = decision.faq_id  # ActionHandoff sends this entry's answer first
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
        events = self._actions[decision.action].run(dispatcher, tracker, {}) or []
        return Turn(understood.parse, decision, dispatcher.messages, events)

    def respond(self, text: str, sender_id: str = "cli", slots: dict | None = None) -> Turn:
        """Understand and act, with no conversation behind it: ``ask``, ``shell``, benchmarks."""
        return self.act(self.understand(text), slots, sender_id)

    def ask(self, text: str) -> Turn:
        """Stateless answer for ``python -m bot ask``: nothing is stored, no ticket is opened."""
        return self.respond(text, sender_id="ask")
