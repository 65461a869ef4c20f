"""A scripted stand-in for the NLU model, for the fast test tier.

The dialogue, channels, queue and dashboard are tested with it: their behaviour must not depend on
what a trained classifier happens to predict. The real model is tested in the slow tier (tests
using ``project_models_dir``) and measured by ``benchmarks/``.
"""

from __future__ import annotations

from dataclasses import dataclass

# The first rule whose phrase occurs in the lower-cased message names the intent; the runner-up
# gets the rest of the probability mass. Anything else is out of scope.
RULES = (
    ("gặp cán bộ", "request_human"),
    ("nợ lương", "complaint"),
    ("tai nạn", "complaint"),
    ("nghỉ việc riêng", "faq/nghi_viec_rieng"),
    ("nghỉ phép", "faq/nghi_phep_nam"),
    ("lương tối thiểu", "faq/luong_toi_thieu_vung"),
    ("xin chào", "greet"),
    ("hi", "greet"),
    ("cảm ơn", "thanks"),
    ("trạng thái", "ticket_status"),
    ("đến đâu rồi", "ticket_status"),
)
RUNNER_UP = {"faq/nghi_phep_nam": "faq/nghi_viec_rieng"}


@dataclass
class _Parse:
    text: str
    ranking: list[tuple[str, float]]

    def to_rasa(self) -> dict:
        name, confidence = self.ranking[0]
        return {"text": self.text, "intent": {"name": name, "confidence": confidence},
                "intent_ranking": [{"name": n, "confidence": c} for n, c in self.ranking], "entities": [],
                "dispute_statement": False}


class ScriptedNLU:
    """Duck-types ``bot.nlu.model.NLUModel``: ``parse``, ``version`` and the policy thresholds."""

    version = "scripted-nlu"

    def __init__(self, confidence: float = 0.9, threshold: float = 0.5, margin: float = 0.1, clarify_floor: float = 0.2):
        self.confidence = confidence
        self.threshold = threshold
        self.margin = margin
        self.clarify_floor = clarify_floor
        self.calls: list[str] = []

    def parse(self, text: str) -> _Parse:
        self.calls.append(text)
        lowered = text.lower()
        if not lowered.strip():
            return _Parse(text, [("out_of_scope", 0.0)])
        for phrase, intent in RULES:
            if phrase in lowered.split() or (" " in phrase and phrase in lowered):
                second = RUNNER_UP.get(intent, "out_of_scope")
                return _Parse(text, [(intent, self.confidence), (second, round(1 - self.confidence, 4))])
        return _Parse(text, [("out_of_scope", 0.3), ("faq/nghi_phep_nam", 0.1)])
