"""End-to-end quality on the independent test set (messages written without seeing the training data).

Usage:
    .venv/bin/python benchmarks/independent.py [--model DIR] [--test tests/data/independent_test.yml] [--errors]

Runs every message through the real engine (NLU + policy, stateless like ``bot ask``) and prints:
- topic messages: share answered with an FAQ of the right topic, answered wrongly, clarified
  (with/without the right topic among the options), fallback, handed off;
- request_human: share handed off; complaint: share handed off;
- out_of_scope: share answered with an FAQ;
- the same figures with every message's diacritics stripped.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.nlu.model import ModelRegistry, load_model  # noqa: E402
from bot.nlu.normalize import strip_accents  # noqa: E402
from bot.nlu.segment import LONG_MESSAGE_CHARS, is_long  # noqa: E402
from bot.nlu.training_data import load_training_file  # noqa: E402

DEFAULT_TEST = Path(__file__).resolve().parent.parent / "tests" / "data" / "independent_test.yml"


def score(engine: Engine, examples, transform=lambda t: t, show_errors=False) -> dict:
    kb = engine.kb
    c: Counter = Counter()
    errors = []
    for ex in examples:
        turn = engine.ask(transform(ex.text))
        d = turn.decision
        label = ex.intent
        if label.startswith("topic/"):
            topic = label[len("topic/"):]
            c["topic_n"] += 1
            long = is_long(ex.text)
            c["long_n"] += long
            if d.kind in ("answer", "form") and d.faq_id:  # a form asks for the worker's facts on that entry
                entry = kb.get(d.faq_id)
                if entry.topic == topic:
                    c["topic_right"] += 1
                    c["long_right"] += long
                else:
                    c["topic_wrong"] += 1
                    c["long_wrong"] += long
                    errors.append(("WRONG", label, d.faq_id, ex.text))
            elif d.kind == "handoff" and d.faq_id and kb.get(d.faq_id).topic == topic:
                c["topic_right"] += 1  # escalate:always entries, or answered with a hand-off
                c["long_right"] += long
            elif d.kind == "clarify":
                c["topic_clarify"] += 1
                if any(kb.get(o).topic == topic for o in d.options):
                    c["topic_clarify_hit"] += 1
            elif d.kind == "handoff":
                c["topic_handoff"] += 1
                errors.append(("HANDOFF", label, d.intent, ex.text))
            else:
                c["topic_fallback"] += 1
                errors.append(("FALLBACK", label, d.intent, ex.text))
        elif label in ("request_human", "complaint"):
            c[f"{label}_n"] += 1
            if d.handoff:
                c[f"{label}_handoff"] += 1
            else:
                errors.append(("NO-HANDOFF", label, d.intent, ex.text))
        elif label == "out_of_scope":
            c["oos_n"] += 1
            if d.kind == "answer":
                c["oos_answered"] += 1
                errors.append(("OOS-ANSWERED", label, d.faq_id, ex.text))
            if d.handoff:
                c["oos_handoff"] += 1
        else:
            c["other_n"] += 1
            if d.intent == label:
                c["other_right"] += 1
    if show_errors:
        for e in errors:
            print("  ", *e, sep=" | ")
    return dict(c)


def pct(a, b):
    return f"{100 * a / b:6.2f} %" if b else "   n/a"


def report(title: str, c: dict) -> None:
    n = c.get("topic_n", 0)
    print(f"\n{title}")
    print(f"  topic questions ({n}): right answer {pct(c.get('topic_right', 0), n)}, wrong answer {pct(c.get('topic_wrong', 0), n)},")
    print(f"     clarify {pct(c.get('topic_clarify', 0), n)} (right topic offered in {c.get('topic_clarify_hit', 0)}), "
          f"fallback {pct(c.get('topic_fallback', 0), n)}, handoff {pct(c.get('topic_handoff', 0), n)}")
    print(f"  long messages ({c.get('long_n', 0)} of the topic questions, >= {LONG_MESSAGE_CHARS} characters or several sentences): "
          f"right {pct(c.get('long_right', 0), c.get('long_n', 0))}, wrong {pct(c.get('long_wrong', 0), c.get('long_n', 0))}")
    print(f"  request_human handed off: {pct(c.get('request_human_handoff', 0), c.get('request_human_n', 0))} of {c.get('request_human_n', 0)}")
    print(f"  complaint handed off:     {pct(c.get('complaint_handoff', 0), c.get('complaint_n', 0))} of {c.get('complaint_n', 0)}")
    print(f"  out_of_scope answered with an FAQ: {pct(c.get('oos_answered', 0), c.get('oos_n', 0))} of {c.get('oos_n', 0)} "
          f"(handed off {c.get('oos_handoff', 0)})")
    print(f"  greet/thanks/goodbye recognised: {pct(c.get('other_right', 0), c.get('other_n', 0))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model folder (default: the current model)")
    parser.add_argument("--test", default=str(DEFAULT_TEST))
    parser.add_argument("--errors", action="store_true", help="list every miss")
    args = parser.parse_args()
    settings = Settings.load()
    model = load_model(args.model) if args.model else ModelRegistry(settings["MODELS_DIR"]).load_current()
    engine = Engine.from_settings(settings, model=model)
    data = load_training_file(args.test)
    print(f"model {model.version}; threshold {model.threshold}, margin {model.margin}; {len(data.examples)} test messages")
    report("As written:", score(engine, data.examples, show_errors=args.errors))
    report("Diacritics stripped:", score(engine, data.examples, strip_accents, show_errors=False))


if __name__ == "__main__":
    main()
