"""The real Rasa 3.6 (Python 3.10) with our tokenizer, our action server and our server (slow tier).

Once per session: create/reuse the cached Rasa environment (bin/rasa-env), export a reduced project
(at most ``MAX_EXAMPLES`` examples per intent, ``EPOCHS`` epochs), train it with ``rasa train``
(the model is cached in ~/.cache/unionbot/rasa-models/ under the export's digest and the tokenizer's
code, so reruns skip training), start our action server (``python -m rasa_sdk --actions actions``
on this Python) and ``rasa run --enable-api`` on free ports, all on a SQLite file of their own (not
the ``database_url`` fixture: this suite runs in bin/test's SQLite pass only). Then, over HTTP:
a FAQ question gets the FAQ's ``utter_faq/<id>`` answer; a request for a person calls our action,
which opens a ticket that the dashboard's JSON API lists; with ``BOT_ENGINE=rasa`` our server
answers a signed Messenger webhook through Rasa. Without Python 3.10 the suite is skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from bot.cli import main as cli_main
from bot.config import Settings
from bot.rasa import procs
from bot.rasa.export import export_project
from tests.conftest import FB_SECRET, FB_VERIFY, add_officer, fb_body, fb_post, fb_text

pytestmark = [pytest.mark.rasa, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
MAX_EXAMPLES = 10
EPOCHS = 25
MODEL_CACHE = Path.home() / ".cache" / "unionbot" / "rasa-models"
# Code that shapes a trained model besides the export itself.
MODEL_CODE = ("bot/rasa/tokenizer.py", "bot/nlu/normalize.py", "bot/nlu/tokenize.py", "bin/rasa-requirements.txt")
FAQ_ID = "nghi_phep_nam"


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _examples(project: Path, intent: str) -> list[str]:
    doc = yaml.safe_load((project / "data" / "nlu.yml").read_text(encoding="utf-8"))
    block = next(item for item in doc["nlu"] if item.get("intent") == intent)
    return [line[2:] for line in block["examples"].splitlines() if line.startswith("- ")]


@pytest.fixture(scope="module")
def rasa_stack(tmp_path_factory):
    try:
        venv, seconds = procs.rasa_env()
    except procs.RasaEnvMissing as exc:
        pytest.skip(f"Rasa 3.6 needs Python 3.10, not found on this machine: {exc}")
    _say(f"\n[rasa] environment {venv} ready in {seconds:.1f} s (created on first use, then reused)")
    work = tmp_path_factory.mktemp("rasa")
    db_url = f"sqlite:///{work / 'bot.db'}"
    from bot.storage import Database

    db = Database(db_url)
    db.upgrade()
    db.dispose()
    settings = Settings.load({"DATABASE_URL": db_url})
    action_port, rasa_port = procs.free_port(), procs.free_port()
    project = work / "project"
    export = export_project(project, settings, max_examples_per_intent=MAX_EXAMPLES, epochs=EPOCHS,
                            action_server_url=f"http://127.0.0.1:{action_port}/webhook")
    code = hashlib.sha256(b"".join((ROOT / p).read_bytes() for p in MODEL_CODE)).hexdigest()[:12]
    cached = MODEL_CACHE / f"{export.digest}-{code}.tar.gz"
    (project / "models").mkdir()
    if cached.exists():
        shutil.copyfile(cached, project / "models" / "model.tar.gz")
        _say(f"[rasa] trained model reused from {cached}")
    else:
        seconds = procs.train(venv, project, work / "train.log")
        MODEL_CACHE.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(project / "models" / "model.tar.gz", cached)
        _say(f"[rasa] rasa train: {export.examples} examples, {export.intents} intents, {EPOCHS} epochs in {seconds:.0f} s")

    env = procs.rasa_environ({"DATABASE_URL": db_url, "SLA_HOURS": "24"})
    env["PYTHONPATH"] = str(ROOT)
    actions = procs.start([sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
                          work / "actions.log", cwd=ROOT, env=env)
    rasa = None
    try:
        procs.wait_http(f"http://127.0.0.1:{action_port}/health", actions, 60, work / "actions.log")
        started = time.perf_counter()
        rasa = procs.run_rasa(venv, project, rasa_port, work / "rasa.log")
        procs.wait_http(f"http://127.0.0.1:{rasa_port}/", rasa, 300, work / "rasa.log")
        _say(f"[rasa] rasa run ready in {time.perf_counter() - started:.0f} s")
        yield {"url": f"http://127.0.0.1:{rasa_port}", "db_url": db_url, "project": project, "settings": settings}
    finally:
        procs.stop(rasa)
        procs.stop(actions)


def _webhook(url: str, sender: str, message: str) -> list[dict]:
    r = httpx.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=120)
    r.raise_for_status()
    return r.json()


def _faq_answer(settings: Settings, faq_id: str) -> str:
    from actions.resources import Resources

    res = Resources.load(settings)
    return res.kb.get(faq_id).render(res.responses.context)


def test_faq_question_gets_the_faq_response(rasa_stack):
    question = _examples(rasa_stack["project"], f"faq/{FAQ_ID}")[0]
    parse = httpx.post(f"{rasa_stack['url']}/model/parse", json={"text": question}, timeout=60).json()
    assert parse["intent"]["name"] == "faq"
    assert parse["response_selector"]["faq"]["response"]["intent_response_key"] == f"faq/{FAQ_ID}"
    assert parse["response_selector"]["faq"]["response"]["utter_action"] == f"utter_faq/{FAQ_ID}"
    replies = _webhook(rasa_stack["url"], "worker-faq", question)
    assert [r["text"] for r in replies] == [_faq_answer(rasa_stack["settings"], FAQ_ID)]
    assert "{org_name}" not in replies[0]["text"]


def test_request_for_a_person_opens_a_ticket_in_our_queue(rasa_stack, runner, tmp_path):
    from server import create_app

    replies = _webhook(rasa_stack["url"], "worker-handoff", "cho em gặp cán bộ công đoàn")
    text = " ".join(r.get("text", "") for r in replies)
    config = {"DATABASE_URL": rasa_stack["db_url"], "WORKER_MODE": "none", "SECRET_KEY": "t", "TESTING": True,
              "INSTANCE_DIR": str(tmp_path / "instance"), "MODELS_DIR": str(tmp_path / "models")}
    app = create_app(config)
    try:
        officer = add_officer(runner, app, "canbo@congdoan.vn")
        token = runner.invoke(cli_main, ["officers", "token", officer], env={"DATABASE_URL": rasa_stack["db_url"]}).output.strip()
        listing = app.test_client().get("/api/tickets?status=open", headers={"Authorization": f"Bearer {token}"}).get_json()
    finally:
        app.extensions["bot"].shutdown()
    [ticket] = [t for t in listing["tickets"] if t["question"] == "cho em gặp cán bộ công đoàn"]
    assert ticket["code"] in text, text
    assert ticket["channel"] == "web" and "cán bộ" in text
    assert dt.datetime.fromisoformat(ticket["due_at"]) - dt.datetime.fromisoformat(ticket["created_at"]) == dt.timedelta(hours=24)
    # The same person asks again while the ticket is open: no second ticket.
    again = " ".join(r.get("text", "") for r in _webhook(rasa_stack["url"], "worker-handoff", "cho em gặp cán bộ công đoàn"))
    assert ticket["code"] in again


def test_bot_engine_rasa_answers_a_signed_messenger_webhook(rasa_stack, tmp_path):
    from bot.runtime import Runtime
    from server import create_app
    from tests.fakes.servers import FakeGraph

    graph = FakeGraph()
    config = {"DATABASE_URL": rasa_stack["db_url"], "WORKER_MODE": "none", "SECRET_KEY": "t", "TESTING": True,
              "INSTANCE_DIR": str(tmp_path / "instance"), "MODELS_DIR": str(tmp_path / "models"),
              "BOT_ENGINE": "rasa", "RASA_URL": rasa_stack["url"], "RASA_TIMEOUT_SECONDS": 120.0,
              "FACEBOOK_APP_SECRET": FB_SECRET, "FACEBOOK_VERIFY_TOKEN": FB_VERIFY, "FACEBOOK_PAGE_ACCESS_TOKEN": "page-token",
              "FACEBOOK_GRAPH_URL": graph.url + "/v21.0"}
    runtime = Runtime(Settings.load(config)).prepare()
    app = create_app(config, runtime=runtime)
    try:
        assert app.test_client().get("/readyz").get_json()["checks"]["model"]["ok"] is True
        question = _examples(rasa_stack["project"], f"faq/{FAQ_ID}")[0]
        assert fb_post(app.test_client(), fb_body(fb_text("psid-rasa", "mid-rasa-1", question))).status_code == 200
        runtime.workers.drain()
        sent = [r.json() for r in graph.wait_for(1, "/me/messages", timeout=30)]
        assert sent and {b["recipient"]["id"] for b in sent} == {"psid-rasa"}
        text = "\n\n".join(b["message"]["text"] for b in sent)
        assert _faq_answer(rasa_stack["settings"], FAQ_ID)[:200] in text
    finally:
        runtime.shutdown()
        graph.close()


@pytest.fixture(scope="module")
def rasa_venv():
    try:
        venv, _ = procs.rasa_env()
    except procs.RasaEnvMissing as exc:
        pytest.skip(f"Rasa 3.6 needs Python 3.10, not found on this machine: {exc}")
    return venv


def test_rasa_data_validate_accepts_the_full_export(rasa_venv, tmp_path):
    import subprocess

    export = export_project(tmp_path / "full", Settings.load())
    proc = subprocess.run([str(rasa_venv / "bin" / "rasa"), "data", "validate"], cwd=tmp_path / "full",
                          env=procs.rasa_environ(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert export.responses > 50 and export.intents > 70


def test_the_tokenizer_segments_vietnamese_inside_rasa(rasa_venv):
    import json
    import subprocess

    code = (
        "import json, bot.rasa as r\n"
        "from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer as W\n"
        "from rasa.engine.recipes.default_recipe import DefaultV1Recipe\n"
        "from rasa.shared.nlu.training_data.message import Message\n"
        "T = r.VietnameseTokenizer\n"
        "text = 'Người lao động ko được nghỉ phép năm à, bhxh thì sao'\n"
        "ours = [t.text for t in T(T.get_default_config()).tokenize(Message(data={'text': text}), 'text')]\n"
        "plain = [t.text for t in W(W.get_default_config()).tokenize(Message(data={'text': text}), 'text')]\n"
        "spec = DefaultV1Recipe._registered_components['VietnameseTokenizer']\n"
        "registered = spec.clazz is T and DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER in spec.types\n"
        "print(json.dumps({'ours': ours, 'plain': plain, 'registered': registered}))\n"
    )
    proc = subprocess.run([str(rasa_venv / "bin" / "python"), "-c", code], env=procs.rasa_environ(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["ours"][:6] == ["nguoi", "lao_dong", "khong", "duoc", "nghi_phep", "nam"]
    assert "bao_hiem_xa_hoi" in out["ours"]
    assert out["plain"][:3] == ["Người", "lao", "động"]
    assert out["registered"] is True
