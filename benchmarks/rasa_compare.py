"""Our engine vs Rasa 3.6 DIET with our Vietnamese tokenizer vs Rasa DIET with its WhitespaceTokenizer.

Same data for all three: the project's training data (``bot.training.load_project_data``) split 80/20,
stratified by intent, seed 0; each engine trains on the 80 % and is tested on the 20 % and on the
independent test set (``tests/data/independent_test.yml``, labelled by topic: a FAQ intent of the
labelled topic counts as right). Both sets are scored as written and with diacritics stripped.

Figures: top-1 intent accuracy (no threshold), training time (wall clock of ``rasa train nlu`` /
our ``train_data`` incl. its cross-validated tuning), parse latency p50/p99 over HTTP
(``POST /model/parse`` of ``rasa run --enable-api`` and of our ``server.py``), peak RSS (VmHWM) of
each server process after all parses.

Rasa's intent set is flat here: FAQ intents ``faq/<id>`` are exported as plain intents ``faq__<id>``,
so DIET alone classifies all intents like our classifier does (the exported project proper uses a
ResponseSelector for them, which would double Rasa's training time). DIET's epochs default to 20
(Rasa's default is 300): on 2 CPU cores one epoch on the full split takes tens of seconds.

Usage:
    .venv/bin/python benchmarks/rasa_compare.py [--epochs 20] [--out /tmp/rasa-compare] [--json]
Needs Python 3.10 for Rasa (bin/rasa-env creates the cached environment).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.nlu.normalize import strip_accents  # noqa: E402
from bot.nlu.training_data import Example, TrainingData, load_training_file  # noqa: E402
from bot.rasa import procs  # noqa: E402
from bot.rasa.export import export_project  # noqa: E402
from bot.training import load_project_data, train_data  # noqa: E402

FLAT = "faq__"


def split(data: TrainingData, seed: int = 0) -> tuple[list[Example], list[Example]]:
    examples = data.examples
    labels = [e.intent for e in examples]
    train, test = train_test_split(examples, test_size=0.2, stratify=labels, random_state=seed)
    return list(train), list(test)


def correct(pred: str | None, label: str, kb) -> bool:
    if label.startswith("topic/"):
        return kb.topic_of(pred) == label[len("topic/"):]
    return pred == label


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(url: str, sets: dict, kb, to_intent=lambda n: n) -> dict:
    """Parse every message of every set (as written and stripped) over HTTP; accuracy and latency."""
    out, latencies = {}, []
    with httpx.Client(timeout=60) as client:
        client.post(url, json={"text": "xin chào"})  # warm-up
        for name, examples in sets.items():
            for variant, transform in (("written", lambda t: t), ("stripped", strip_accents)):
                right = 0
                for text, label in examples:
                    started = time.perf_counter()
                    r = client.post(url, json={"text": transform(text)})
                    latencies.append((time.perf_counter() - started) * 1000)
                    r.raise_for_status()
                    right += correct(to_intent((r.json().get("intent") or {}).get("name")), label, kb)
                out[f"{name}_{variant}"] = right / len(examples)
    out["p50_ms"], out["p99_ms"], out["parses"] = percentile(latencies, 0.5), percentile(latencies, 0.99), len(latencies)
    return out


def run_ours(settings: Settings, train: list[Example], kb, sets: dict, work: Path) -> dict:
    models = work / "ours-models"
    local = Settings.load({**settings, "MODELS_DIR": str(models)})
    started = time.perf_counter()
    train_data(local, TrainingData(examples=list(train)), kb, folds=5, calibration=False, activate=True)
    train_seconds = time.perf_counter() - started
    port = procs.free_port()
    env = procs.rasa_environ({"MODELS_DIR": str(models), "DATABASE_URL": f"sqlite:///{work}/ours.db", "WORKER_MODE": "none",
                              "PORT": str(port), "HOST": "127.0.0.1", "INSTANCE_DIR": str(work / "instance"), "LOG_LEVEL": "WARNING",
                              "RATE_LIMIT_PER_ADDRESS": "0"})  # thousands of parses from one client
    log = work / "ours-server.log"
    proc = procs.start([sys.executable, str(ROOT / "server.py")], log, cwd=ROOT, env=env)
    try:
        procs.wait_http(f"http://127.0.0.1:{port}/readyz", proc, 180, log)
        result = measure(f"http://127.0.0.1:{port}/model/parse", sets, kb)
        result["peak_rss_mb"] = procs.peak_rss_mb(proc.pid)
    finally:
        procs.stop(proc)
    result["train_seconds"] = train_seconds
    return result


def run_rasa(venv: Path, settings: Settings, train: list[Example], kb, sets: dict, work: Path, whitespace: bool, epochs: int) -> dict:
    name = "rasa-whitespace" if whitespace else "rasa-vietnamese"
    project = work / name
    flat = TrainingData(examples=[Example(e.text, e.intent.replace("faq/", FLAT, 1), e.source, e.line) for e in train])
    export_project(project, settings, data=flat, kb=kb, whitespace=whitespace, epochs=epochs)
    train_seconds = procs.train(venv, project, work / f"{name}-train.log", nlu_only=True)
    port = procs.free_port()
    log = work / f"{name}-server.log"
    proc = procs.run_rasa(venv, project, port, log)
    try:
        procs.wait_http(f"http://127.0.0.1:{port}/", proc, 300, log)
        result = measure(f"http://127.0.0.1:{port}/model/parse", sets, kb,
                         to_intent=lambda n: n.replace(FLAT, "faq/", 1) if n else n)
        result["peak_rss_mb"] = procs.peak_rss_mb(proc.pid)
    finally:
        procs.stop(proc)
    result["train_seconds"] = train_seconds
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=20, help="DIET epochs (Rasa's default is 300)")
    parser.add_argument("--out", type=Path, default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--only", choices=("ours", "rasa-vietnamese", "rasa-whitespace"), action="append")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = Settings.load()
    data, kb = load_project_data(settings)
    train, test = split(data)
    independent = load_training_file(settings["TEST_SET_FILE"]).examples
    sets = {"split": [(e.text, e.intent) for e in test], "independent": [(e.text, e.intent) for e in independent]}
    print(f"data: {len(data.examples)} examples, {len(Counter(data.intents))} intents; train {len(train)}, "
          f"test {len(test)}, independent {len(independent)}", file=sys.stderr)
    work = args.out or Path(tempfile.mkdtemp(prefix="rasa-compare-"))
    work.mkdir(parents=True, exist_ok=True)
    venv, env_seconds = procs.rasa_env()
    print(f"Rasa environment {venv} ready in {env_seconds:.1f} s", file=sys.stderr)
    results = {}
    for name in args.only or ("ours", "rasa-vietnamese", "rasa-whitespace"):
        print(f"== {name}", file=sys.stderr)
        if name == "ours":
            results[name] = run_ours(settings, train, kb, sets, work)
        else:
            results[name] = run_rasa(venv, settings, train, kb, sets, work, name == "rasa-whitespace", args.epochs)
        print(json.dumps(results[name]), file=sys.stderr)
    (work / "results.json").write_text(json.dumps({"epochs": args.epochs, "results": results}, indent=2))
    if args.json:
        print(json.dumps({"epochs": args.epochs, "results": results}))
        return 0
    cols = ("split_written", "split_stripped", "independent_written", "independent_stripped")
    print(f"| Engine | {' | '.join(cols)} | train s | p50 ms | p99 ms | peak RSS MiB |")
    print("|---" * (len(cols) + 5) + "|")
    for name, r in results.items():
        acc = " | ".join(f"{100 * r[c]:.1f} %" for c in cols)
        print(f"| {name} | {acc} | {r['train_seconds']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['peak_rss_mb']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
