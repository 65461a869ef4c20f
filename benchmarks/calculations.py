"""Personal calculations on the independent set (cases written by hand from the law, without the code).

Usage:
    .venv/bin/python benchmarks/calculations.py [--model DIR] [--set tests/data/independent_calculations.yml] [--errors]

Each case is one message, run through the real engine statelessly (like ``bot ask --json``):
- ``expect: figure``: right when the bot computes with the expected calculator and its figure
  equals the hand-computed value (money within 1 đồng) and the figure appears in the reply text;
- ``expect: ask``: right when the bot asks (action ``form``) for the missing fact and gives no figure;
- ``expect: check_number``: right when the bot asks to check a number and gives no figure.
Prints the share right overall, per calculator, per style and per expectation, and the parse
latency with entities (p50/p99).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.calculators import format_money, format_number  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.nlu.model import ModelRegistry, load_model  # noqa: E402

DEFAULT_SET = Path(__file__).resolve().parent.parent / "tests" / "data" / "independent_calculations.yml"


def _figure_text(value, unit: str) -> str:
    if unit == "đồng":
        return format_money(int(value))
    if isinstance(value, str):
        return value
    return format_number(float(value))


def judge(engine: Engine, case: dict) -> tuple[bool, str]:
    turn = engine.ask(case["text"])
    out = turn.to_ask_json()
    calc, form = out["calculation"], out["form"]
    expect = case["expect"]
    if expect == "figure":
        if calc is None:
            what = f"form asking {form['asking']}" if form else f"{out['action']} {out['intent']}"
            return False, f"no figure ({what})"
        if calc["calculator"] != case["calculator"]:
            return False, f"calculator {calc['calculator']}"
        value, expected = calc["value"], case["value"]
        if case["unit"] == "đồng":
            ok = abs(int(value) - int(expected)) <= 1
        elif isinstance(expected, str):
            ok = str(value) == expected
        else:
            ok = abs(float(value) - float(expected)) < 0.05
        if not ok:
            return False, f"figure {value} (expected {expected})"
        if _figure_text(expected, case["unit"]) not in out["text"]:
            return False, "figure not in the reply text"
        return True, ""
    if calc is not None:
        return False, f"gave a figure {calc['value']}"
    if form is None:
        return False, f"{out['action']} {out['intent']}"
    if expect == "ask":
        if form.get("invalid"):
            return False, "asked to check a number"
        if case.get("missing") and form.get("asking") != case["missing"]:
            return False, f"asked {form.get('asking')} (missing {case['missing']})"
        return True, ""
    if expect == "check_number":
        return (True, "") if form.get("invalid") else (False, f"asked {form.get('asking')} instead of checking the number")
    return False, f"unknown expectation {expect}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model folder (default: the current model)")
    parser.add_argument("--set", default=str(DEFAULT_SET))
    parser.add_argument("--errors", action="store_true", help="list every miss")
    args = parser.parse_args()
    settings = Settings.load()
    model = load_model(args.model) if args.model else ModelRegistry(settings["MODELS_DIR"]).load_current()
    engine = Engine.from_settings(settings, model=model)
    cases = yaml.safe_load(Path(args.set).read_text(encoding="utf-8"))["cases"]
    right: Counter = Counter()
    total: Counter = Counter()
    misses = []
    for case in cases:
        ok, why = judge(engine, case)
        for key in ("all", f"calculator {case['calculator']}", f"style {case['style']}", f"expect {case['expect']}"):
            total[key] += 1
            right[key] += ok
        if not ok:
            misses.append((case["id"], why, case["text"]))
    print(f"model {model.version}; {len(cases)} cases from {args.set}")
    for key in sorted(total, key=lambda k: (k != "all", k)):
        print(f"  {key:28s} {right[key]:4d} / {total[key]:<4d} {100 * right[key] / total[key]:6.1f} %")
    if args.errors:
        for m in misses:
            print("  ", *m, sep=" | ")
    # Parse latency with entities, in-process, on fresh texts (no parse cache).
    latencies = []
    for i, case in enumerate(cases * 3):
        text = f"{case['text']} {i}"
        start = time.perf_counter()
        engine.parse(text)
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    print(f"parse with entities over {len(latencies)} messages: p50 {statistics.median(latencies):.2f} ms, p99 {p99:.2f} ms")


if __name__ == "__main__":
    main()
