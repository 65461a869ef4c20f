"""A candidate model against the model in use, through what the bot would really do.

Every message goes through ``Engine.understand`` (NLU, entities, the policy with each model's own
thresholds, long messages read question by question), as ``python -m bot ask`` would, and gets one
outcome:

- ``right``: answered with the expected entry (a ``topic/<t>`` label: any entry of that topic); a
  request for a person or a dispute handed off; an out-of-scope message not answered; small talk
  recognised;
- ``wrong``: answered with another entry (or an out-of-scope message answered);
- ``clarified``: "Ý bạn là…?"; ``handed_off``: given to an officer; ``fallback``: no answer.

The sets: the independent test set (``TEST_SET_FILE``; absent from a deployment, then the comparison
says so) and the calibration set (``CALIBRATION_FILE``: the candidate's threshold was chosen on it,
so its figures flatter the candidate), plus the labelled messages of the retrain themselves.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..engine import Engine
from ..nlu import OUT_OF_SCOPE
from ..nlu.training_data import load_training_file
from ..policy import HANDOFF_INTENTS, SMALLTALK_INTENTS

OUTCOMES = ("right", "wrong", "clarified", "handed_off", "fallback")
OUTCOME_LABELS = {"right": "Đúng", "wrong": "Sai", "clarified": "Hỏi lại", "handed_off": "Chuyển cán bộ", "fallback": "Không trả lời"}
TOPIC_PREFIX = "topic/"
MAX_CHANGED = 300  # messages listed per set


@dataclass(frozen=True)
class Verdict:
    outcome: str
    shown: str  # what the bot did, e.g. "answer faq/nghi_phep_nam"

    def as_dict(self) -> dict:
        return {"outcome": self.outcome, "shown": self.shown}


def _shown(decision) -> str:
    target = decision.faq_id or decision.intent or "—"
    return f"{decision.kind} {target}"


def verdict(kb, decision, label: str) -> Verdict:
    """The outcome of one decision for a message labelled ``label`` (see the module docstring)."""
    kind = decision.kind
    answered = kind in ("answer", "form") and decision.faq_id
    entry = kb.get(decision.faq_id) if decision.faq_id else None
    if label.startswith(TOPIC_PREFIX) or kb.for_intent(label) is not None:
        def matches(e) -> bool:
            return e is not None and (e.topic == label[len(TOPIC_PREFIX):] if label.startswith(TOPIC_PREFIX) else e.intent == label)
        if answered or (kind == "handoff" and entry is not None):
            if matches(entry):
                return Verdict("right", _shown(decision))
            if answered:
                return Verdict("wrong", _shown(decision))
    elif label in HANDOFF_INTENTS:
        if kind == "handoff":
            return Verdict("right", _shown(decision))
    elif label == OUT_OF_SCOPE:
        if kind == "fallback":
            return Verdict("right", _shown(decision))
    elif kind == "smalltalk" and decision.intent == label:
        return Verdict("right", _shown(decision))
    if answered:
        return Verdict("wrong", _shown(decision))
    if kind == "clarify":
        return Verdict("clarified", _shown(decision))
    if kind == "handoff":
        return Verdict("handed_off", _shown(decision))
    if label in SMALLTALK_INTENTS and kind == "smalltalk":
        return Verdict("wrong", _shown(decision))
    return Verdict("fallback", _shown(decision))


def verdicts(engine: Engine, items: Iterable[tuple[str, str]]) -> list[Verdict]:
    """The verdict of ``engine`` on each (text, label)."""
    return [verdict(engine.kb, engine.understand(text).decision, label) for text, label in items]


def _compare_items(base: Engine, candidate: Engine, items: list[tuple[str, str]]) -> dict:
    before, after = verdicts(base, items), verdicts(candidate, items)
    per_label: dict[str, Counter] = {}
    changed = []
    for (text, label), b, a in zip(items, before, after):
        c = per_label.setdefault(label, Counter())
        c["n"] += 1
        c["base_right"] += b.outcome == "right"
        c["candidate_right"] += a.outcome == "right"
        if b != a:
            changed.append({"text": text, "label": label, "before": b.as_dict(), "after": a.as_dict()})
    per_intent = [{"label": label, **c} for label, c in sorted(per_label.items()) if c["base_right"] != c["candidate_right"]]
    return {
        "n": len(items),
        "base": {o: sum(v.outcome == o for v in before) for o in OUTCOMES},
        "candidate": {o: sum(v.outcome == o for v in after) for o in OUTCOMES},
        "per_intent": per_intent,
        "n_changed": len(changed),
        "changed": changed[:MAX_CHANGED],
    }


def test_sets(settings) -> tuple[list[tuple[str, Path]], list[str]]:
    """The sets to compare on, and notes for the maintainer (Vietnamese) about what is missing."""
    sets, notes = [], []
    test_file = Path(settings["TEST_SET_FILE"]) if settings["TEST_SET_FILE"] else None
    if test_file is not None and test_file.is_file():
        sets.append(("independent", test_file))
    else:
        notes.append(f"Không có tập kiểm tra độc lập ({test_file}): chỉ so sánh trên tập hiệu chỉnh.")
    calibration = Path(settings["CALIBRATION_FILE"])
    if calibration.is_file():
        sets.append(("calibration", calibration))
    else:
        notes.append(f"Không có tập hiệu chỉnh ({calibration}).")
    return sets, notes


def compare(settings, base: Engine, candidate: Engine, labelled: list[tuple[int, str, str]], progress=None) -> dict:
    """Compare two engines (the same knowledge base and texts, different models) on the test sets
    and on ``labelled`` (label id, text, intent) messages; returns a JSON-ready dict."""
    say = progress or (lambda message: None)
    started = time.perf_counter()
    sets, notes = test_sets(settings)
    result = {"base_version": base.model.version, "candidate_version": candidate.model.version, "notes": notes, "sets": []}
    for name, path in sets:
        say(f"So sánh trên {path.name}…")
        examples = load_training_file(path).examples
        result["sets"].append({"name": name, "file": path.name, **_compare_items(base, candidate, [(e.text, e.intent) for e in examples])})
    say("Kiểm tra các câu đã gắn nhãn…")
    rows = []
    for (label_id, text, intent), b, a in zip(labelled, verdicts(base, [(t, i) for _, t, i in labelled]),
                                              verdicts(candidate, [(t, i) for _, t, i in labelled])):
        rows.append({"label_id": label_id, "text": text, "intent": intent, "before": b.as_dict(), "after": a.as_dict()})
    result["labelled"] = rows
    result["labelled_right"] = {"base": sum(r["before"]["outcome"] == "right" for r in rows),
                                "candidate": sum(r["after"]["outcome"] == "right" for r in rows)}
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result
