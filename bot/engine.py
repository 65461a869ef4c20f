"""The conversation engine core: message in, replies and events out. No Flask, no channels.

``Engine`` ties together the NLU model, the knowledge base, the policy and the actions. It is built
once (``Engine.from_settings``) and shared by the CLI, the HTTP API and the channel workers.
Conversation state and tickets live in ``bot.conversation`` (database); this module is stateless.
"""

from __future__ import annotations

import copy
import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions as actions_pkg
from actions import resources as action_resources

from . import policy
from .config import Settings
from .knowledge import KnowledgeBase
from .nlu.model import ModelRegistry, NLUModel
from .responses import Responses

logger = logging.getLogger(__name__)

# "/faq/nghi_phep_nam", "/request_human": a button payload naming an intent directly (Rasa style).
_PAYLOAD_RE = re.compile(r"^/([a-z_]+(?:/[a-z0-9_]+)?)$")
PARSE_CACHE_SIZE = 4096
PAYLOAD_INTENTS = {"request_human", "feedback_good", "feedback_unclear", "greet", "ticket_status"}


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
    def __init__(self, model: NLUModel | None, kb: KnowledgeBase, responses: Responses, settings: Settings):
        self.kb = kb
        self.responses = responses
        self.settings = settings
        self._model = model
        self._model_lock = threading.Lock()
        # Parse results per text for the current model: lets the conversation service run the NLU
        # before it opens its write transaction, and serves repeated messages ("xin chào") cheaply.
        self._parse_cache: OrderedDict[str, dict] = OrderedDict()
        self._actions = {cls().name(): cls() for cls in _action_classes()}
        action_resources.configure(action_resources.Resources(kb, responses, settings))

    @classmethod
    def from_settings(cls, settings: Settings | None = None, model: NLUModel | None = None, load_model: bool = True) -> "Engine":
        """Load the knowledge base, replies and (unless given) the current model.

        Raises ``bot.nlu.model.ModelError`` with a clear message if no usable model exists and
        ``load_model`` is true.
        """
        settings = settings or Settings.load()
        kb = KnowledgeBase.load(settings["FAQ_DIR"])
        responses = Responses.load(Path(settings["NLU_DATA_DIR"]) / "responses.yml", settings.org_context())
        if model is None and load_model:
            model = ModelRegistry(settings["MODELS_DIR"]).load_current()
        return cls(model, kb, responses, settings)

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
            from .nlu.model import ModelNotFoundError, TRAIN_HINT

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

    def decide(self, parse: dict) -> policy.Decision:
        m = self._model
        if m is None:
            return policy.decide(parse, self.kb)
        return policy.decide(parse, self.kb, m.threshold, m.margin, m.clarify_floor)

    # -- acting ----------------------------------------------------------------------------------
    def run_action(self, name: str, parse: dict, sender_id: str, slots: dict | None = None) -> tuple[list[dict], list[dict]]:
        """Run one action in-process with a rasa-sdk tracker; returns (messages, events)."""
        tracker = Tracker(
            sender_id=sender_id,
            slots=dict(slots or {}),
            latest_message=parse,
            events=[],
            paused=False,
            followup_action=None,
            active_loop={},
            latest_action_name=None,
        )
        dispatcher = CollectingDispatcher()
        events = self._actions[name].run(dispatcher, tracker, {}) or []
        return dispatcher.messages, events

    def respond(self, text: str, sender_id: str = "cli", slots: dict | None = None, prepare=None) -> Turn:
        """Understand, decide and act. ``prepare(decision, slots)`` may add slots the chosen action
        needs (the conversation service looks tickets up only when the action uses them)."""
        parse = self.parse(text)
        decision = self.decide(parse)
        slots = dict(slots or {})
        if decision.handoff and decision.faq_id:
            slots["handoff_faq_id"] = decision.faq_id  # ActionHandoff sends this entry's answer first
        if prepare is not None:
            prepare(decision, slots)
        messages, events = self.run_action(decision.action, parse, sender_id, slots)
        return Turn(parse, decision, messages, events)

    def ask(self, text: str) -> Turn:
        """Stateless answer for ``python -m bot ask``: nothing is stored, no ticket is opened."""
        return self.respond(text, sender_id="ask", slots={"dry_run": True})


def _action_classes():
    return [
        actions_pkg.ActionAnswerFAQ, actions_pkg.ActionClarify, actions_pkg.ActionDefaultFallback, actions_pkg.ActionEmpty,
        actions_pkg.ActionFeedback, actions_pkg.ActionHandoff, actions_pkg.ActionSmalltalk, actions_pkg.ActionTicketStatus,
    ]
