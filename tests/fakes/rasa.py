"""A local fake Rasa server (real HTTP, recording requests): its REST channel, NLU, tracker and status.

``FakeRasa(script)`` answers ``POST /webhooks/rest/webhook`` with ``script(message) -> (intent,
replies)`` and remembers the intent for ``GET /conversations/<sender>/tracker``. The real Rasa runs
in tests/test_rasa_integration.py; this fake only lets the fast tier test our side of the protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote

from tests.fakes.servers import FakeServer


def _default_script(message: str):
    return "greet", [{"text": "Xin chào từ Rasa"}]


@dataclass
class FakeRasa(FakeServer):
    script: object = _default_script
    latest: dict = field(default_factory=dict)

    def respond(self, rec):
        if rec.method == "POST" and rec.path == "/webhooks/rest/webhook":
            body = rec.json()
            intent, replies = self.script(body["message"])
            self.latest[body["sender"]] = {"text": body["message"], "intent": {"name": intent, "confidence": 0.9}}
            if intent.startswith("faq/"):
                self.latest[body["sender"]] = {"text": body["message"], "intent": {"name": "faq", "confidence": 0.9},
                                               "response_selector": {"faq": {"response": {"intent_response_key": intent}}}}
            return 200, [{"recipient_id": body["sender"], **r} for r in replies]
        if rec.method == "GET" and rec.path.startswith("/conversations/") and rec.path.endswith("/tracker"):
            sender = unquote(rec.path[len("/conversations/"):-len("/tracker")])
            return 200, {"sender_id": sender, "latest_message": self.latest.get(sender, {})}
        if rec.method == "POST" and rec.path == "/model/parse":  # NLU only, as `rasa run --enable-api`
            text = rec.json()["text"]
            intent, _ = self.script(text)
            if intent.startswith("faq/"):
                return 200, {"text": text, "intent": {"name": "faq", "confidence": 0.97}, "entities": [],
                             "response_selector": {"faq": {"response": {"intent_response_key": intent, "confidence": 0.97}}}}
            return 200, {"text": text, "intent": {"name": intent, "confidence": 0.97}, "entities": []}
        if rec.method == "GET" and rec.path == "/status":
            return 200, {"model_file": "models/model.tar.gz", "model_id": "x"}
        return 404, {"error": "not found"}
