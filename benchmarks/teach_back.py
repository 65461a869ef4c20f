"""Teach-back rate of the learning loop: label what the bot gets wrong, retrain, and count what flips.

Usage:
    .venv/bin/python benchmarks/teach_back.py [--seed benchmarks/data/teach_back_seed.yml]
        [--heldout benchmarks/data/teach_back_heldout.yml] [--test tests/data/independent_test.yml]

The seed is 50 messages of the independent test set that the model answered wrongly, clarified or
handed off; the held-out set has two different messages with the same need for each seed message
(written by a helper who saw only the seed and the FAQ titles). The script copies the current model
into a temporary models folder, builds the server's app on a temporary SQLite database, sends each
seed message through the REST channel, signs in as a maintainer and labels each one on
/dashboard/learn with an entry of its topic (the entry of that topic the current model ranks highest,
as a maintainer picking from the suggestions would), requests a retrain on /dashboard/models, runs the
job as the workers' job thread does, and activates the candidate on the job's page. It prints, before
and after: the seed, the held-out set, and the rest of the independent test set (how many previously
right messages flip to another outcome). Asserts nothing; prints figures and timings.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.handoff import officers  # noqa: E402
from bot.learning.compare import verdicts  # noqa: E402
from bot.nlu.model import ModelRegistry  # noqa: E402
from bot.nlu.training_data import load_training_file  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from bot.storage.models import Message  # noqa: E402

DATA = ROOT / "benchmarks" / "data"
EMAIL, PASSWORD = "bao.tri@congdoan.vn", "mat-khau-bao-tri-2026"


def items(path: Path) -> list[tuple[str, str]]:
    return [(e.text, e.intent) for e in load_training_file(path).examples]


def tally(engine, pairs) -> Counter:
    return Counter(v.outcome for v in verdicts(engine, pairs))


def show(name: str, before: Counter, after: Counter, n: int) -> None:
    def line(c: Counter) -> str:
        return ", ".join(f"{k} {c[k]}" for k in ("right", "wrong", "clarified", "handed_off", "fallback"))
    print(f"{name} ({n}):\n  before: {line(before)}\n  after:  {line(after)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=Path, default=DATA / "teach_back_seed.yml")
    parser.add_argument("--heldout", type=Path, default=DATA / "teach_back_heldout.yml")
    parser.add_argument("--test", type=Path, default=ROOT / "tests" / "data" / "independent_test.yml")
    args = parser.parse_args()

    seed, heldout = items(args.seed), items(args.heldout)
    seed_texts = {text for text, _ in seed}
    plain = lambda t: re.sub(r"\s+", " ", t).strip()  # noqa: E731
    rest = [(t, label) for t, label in items(args.test) if plain(t) not in {plain(s) for s in seed_texts}]

    tmp = Path(tempfile.mkdtemp(prefix="teach-back-"))
    base = Settings.load()
    current = ModelRegistry(base["MODELS_DIR"]).current_name()
    if current is None:
        raise SystemExit("no current model: run `python -m bot train` first")
    models = tmp / "models"
    models.mkdir()
    shutil.copytree(Path(base["MODELS_DIR"]) / current, models / current)
    (models / "CURRENT").write_text(current + "\n")
    settings = Settings.load({"DATABASE_URL": f"sqlite:///{tmp}/tb.db", "MODELS_DIR": str(models), "WORKER_MODE": "none",
                              "INSTANCE_DIR": str(tmp), "LOG_LEVEL": "WARNING"})
    runtime = Runtime(settings).prepare()
    from server import create_app

    app = create_app(runtime=runtime)
    engine = runtime.engine
    print(f"model {current}; seed {len(seed)}, held-out {len(heldout)}, rest of the independent set {len(rest)}")
    seed_before = tally(engine, seed)
    held_verdicts = verdicts(engine, heldout)
    held_before = Counter(v.outcome for v in held_verdicts)
    rest_before = verdicts(engine, rest)

    worker = app.test_client()
    for i, (text, _) in enumerate(seed):
        r = worker.post("/webhooks/rest/webhook", json={"sender": f"tb-{i}", "message": text})
        assert r.status_code == 200, r.data
    with runtime.db.session() as s:
        officers.create(s, EMAIL, "Lê Bảo Trì", "maintainer", PASSWORD)
    client = app.test_client()

    def csrf() -> str:
        with client.session_transaction() as sess:
            return sess["csrf"]

    client.get("/dashboard/login")
    client.post("/dashboard/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf()})
    if client.get("/dashboard/learn").status_code != 200:
        raise SystemExit("could not sign in as the maintainer")
    csrf = csrf()

    kb = engine.kb
    with runtime.db.read() as s:
        ids = {m.text: m.id for m in s.query(Message).filter(Message.direction == "in", Message.author == "worker")}
    started = time.perf_counter()
    labelled = 0
    for text, label in seed:
        topic = label.removeprefix("topic/")
        entries = [e.intent for e in kb.entries if e.topic == topic]
        ranking = [r["name"] for r in engine.parse(text).get("intent_ranking", [])]
        choice = next((name for name in ranking if name in entries), entries[0])
        r = client.post("/dashboard/learn/label", data={"message_id": ids[text], "choice": f"intent:{choice}", "csrf_token": csrf})
        labelled += r.status_code in (200, 302)
    label_seconds = time.perf_counter() - started
    r = client.post("/dashboard/models/retrain", data={"csrf_token": csrf})
    job_id = int(re.search(r"/jobs/(\d+)", r.headers["Location"]).group(1))
    started = time.perf_counter()
    runtime.run_training_job()
    job_seconds = time.perf_counter() - started
    status = client.get(f"/dashboard/models/jobs/{job_id}/status").get_json()
    r = client.post(f"/dashboard/models/jobs/{job_id}/activate", data={"csrf_token": csrf})
    runtime.reload_model_if_changed(force=True)
    print(f"labelled {labelled} of {len(seed)} through /dashboard/learn in {label_seconds:.1f} s; retrain job {job_id}: {status.get('status')}, "
          f"train + comparison {job_seconds:.0f} s; activate -> HTTP {r.status_code}; model now {engine.model.version}")

    show("seed (the labelled messages themselves)", seed_before, tally(engine, seed), len(seed))
    held_after = verdicts(engine, heldout)
    show("held-out (new messages with the same needs)", held_before, Counter(v.outcome for v in held_after), len(heldout))
    held_flips = Counter((b.outcome, a.outcome) for b, a in zip(held_verdicts, held_after) if b.outcome != a.outcome)
    print("  held-out flips: " + (", ".join(f"{b} -> {a}: {n}" for (b, a), n in sorted(held_flips.items())) or "none"))
    rest_after = verdicts(engine, rest)
    flips = Counter((b.outcome, a.outcome) for b, a in zip(rest_before, rest_after) if b.outcome != a.outcome)
    right_before = sum(v.outcome == "right" for v in rest_before)
    right_after = sum(v.outcome == "right" for v in rest_after)
    print(f"rest of the independent set ({len(rest)}): right {right_before} -> {right_after}; "
          f"previously right now not: {sum(n for (b, _), n in flips.items() if b == 'right')}; "
          f"previously not right now right: {sum(n for (b, a), n in flips.items() if a == 'right' and b != 'right')}")
    for (b, a), n in sorted(flips.items()):
        print(f"  {b} -> {a}: {n}")
    runtime.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
