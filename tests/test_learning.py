"""The learning loop (issue 12): review queue, labels, retrain jobs, activate, discard, rollback."""

from __future__ import annotations

import re
import shutil
import threading

import pytest
from sqlalchemy import select

from bot.learning import Conflict, LearningError
from bot.learning import retrain as retrain_ops
from bot.learning.review import labels_yaml
from bot.nlu.model import ModelRegistry
from bot.storage.models import AuditLog, Message, QuestionLabel, TrainingJob

from .conftest import DATA, ROOT, AuthActions, add_officer, open_ticket

ROUTES_GET = ["/dashboard/learn", "/dashboard/models", "/dashboard/models/jobs/1", "/dashboard/models/jobs/1/status"]
ROUTES_POST = ["/dashboard/learn/label", "/dashboard/models/retrain", "/dashboard/models/jobs/1/activate",
               "/dashboard/models/jobs/1/discard", "/dashboard/models/rollback"]


def say(client, text, sender="worker-1"):
    response = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    assert response.status_code == 200
    return response.get_json()


def maintainer_auth(runner, app, email="bao.tri@congdoan.vn"):
    add_officer(runner, app, email, role="maintainer", name="Lê Bảo Trì")
    auth = AuthActions(app.test_client())
    auth.login(email)
    return auth


def test_every_route_is_forbidden_to_plain_officers(channel_app, runner, auth, officer):
    auth.login(officer)
    for path in ROUTES_GET:
        assert auth.client.get(path).status_code == 403, path
    for path in ROUTES_POST:
        assert auth.post(path, {"message_id": "1", "choice": "skip", "version": "x"}).status_code == 403, path
    assert "Học từ câu hỏi thật" not in auth.client.get("/dashboard/").get_data(as_text=True)


def _queue_ids(auth, source=None) -> list[int]:
    html = auth.client.get("/dashboard/learn" + (f"?source={source}" if source else "")).get_data(as_text=True)
    return [int(x) for x in re.findall(r'data-message="(\d+)"', html)]


def _worker_message(app, text) -> int:
    with app.extensions["bot"].db.read() as s:
        return s.scalar(select(Message.id).where(Message.text == text, Message.author == "worker"))


def test_label_flow(channel_app, runner):
    client = channel_app.test_client()
    question = "giá vàng hôm nay, gọi em số 0912345678 nhé"
    say(client, question)  # the scripted NLU does not know it: a fallback
    say(client, "cho em hỏi nghỉ phép năm mấy ngày", sender="worker-2")  # a confident answer
    auth = maintainer_auth(runner, channel_app)
    page = auth.client.get("/dashboard/learn?source=fallback").get_data(as_text=True)
    assert "0912345678" not in page and "[số điện thoại]" in page and "Bot không trả lời được" in page
    mid = _worker_message(channel_app, question)
    assert mid in _queue_ids(auth, "fallback")

    # one click with a chosen entry (no JS: a redirect with a flash message)
    done = auth.post("/dashboard/learn/label", {"message_id": mid, "choice": "pick", "intent": "faq/luong_toi_thieu_vung",
                                                "source": "fallback"}, follow_redirects=True)
    assert "Đã gắn nhãn: Ý định faq/luong_toi_thieu_vung." in done.get_data(as_text=True)
    assert mid not in _queue_ids(auth)
    # relabelled (the page's script asks for JSON), until a model trains on it
    relabel = auth.client.post("/dashboard/learn/label", data={"message_id": mid, "choice": "out_of_scope", "csrf_token": auth.csrf_token()},
                               headers={"Accept": "application/json"})
    assert relabel.status_code == 200 and relabel.get_json() == {"ok": True, "message": "Đã gắn nhãn: Ngoài phạm vi."}
    with channel_app.extensions["bot"].db.read() as s:
        row = s.scalars(select(QuestionLabel)).one()
        assert (row.label_kind, row.intent, row.source, row.labelled_by) == ("out_of_scope", "out_of_scope", "fallback", "bao.tri@congdoan.vn")
        assert "0912345678" not in row.text and "[số điện thoại]" in row.text
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "label")).all()
        assert [a.detail["kind"] for a in audit] == ["intent", "out_of_scope"] and audit[1].detail["before"]["intent"] == "faq/luong_toi_thieu_vung"
    assert "intent: out_of_scope" in labels_yaml([row])


def test_bad_labels_get_clear_4xx(channel_app, runner):
    client = channel_app.test_client()
    say(client, "bitcoin có lên không")
    auth = maintainer_auth(runner, channel_app)
    mid = _worker_message(channel_app, "bitcoin có lên không")
    unknown = auth.post("/dashboard/learn/label", {"message_id": mid, "choice": "pick", "intent": "faq/khong_co"})
    assert unknown.status_code == 400 and "Không có ý định &#39;faq/khong_co&#39;" in unknown.get_data(as_text=True)
    empty = auth.post("/dashboard/learn/label", {"message_id": mid, "choice": "pick", "intent": ""})
    assert empty.status_code == 400 and "Hãy chọn một mục" in empty.get_data(as_text=True)
    missing = auth.client.post("/dashboard/learn/label", data={"message_id": 99999, "choice": "skip", "csrf_token": auth.csrf_token()},
                               headers={"Accept": "application/json"})
    assert missing.status_code == 404 and missing.get_json()["error"] == "Không có tin nhắn của người lao động số 99999."
    assert auth.post("/dashboard/learn/label", {"message_id": "abc", "choice": "skip"}).status_code == 400
    assert auth.post("/dashboard/learn/label", {"message_id": mid, "choice": "xyz"}).status_code == 400
    assert auth.client.get("/dashboard/learn?source=nowhere").status_code == 400
    with channel_app.extensions["bot"].db.read() as s:
        bot_reply = s.scalar(select(Message.id).where(Message.author == "bot"))
    assert auth.post("/dashboard/learn/label", {"message_id": bot_reply, "choice": "skip"}).status_code == 404
    assert mid in _queue_ids(auth)  # nothing was labelled


def test_queue_sources(channel_app, runner, fake_graph):
    """An officer's hand-written answer and a "Chưa rõ" press bring their questions to the queue."""
    code = open_ticket(channel_app, "w-officer", "cho em gặp cán bộ, công ty bắt ký cam kết")
    add_officer(runner, channel_app, "canbo@congdoan.vn")
    officer_auth = AuthActions(channel_app.test_client())
    officer_auth.login("canbo@congdoan.vn")
    officer_auth.post(f"/dashboard/tickets/{code}/claim")
    reply = officer_auth.post(f"/dashboard/tickets/{code}/reply", {"text": "Bạn gọi 0987654321 để được tư vấn.", "action": "send"})
    assert reply.status_code in (200, 302)
    client = channel_app.test_client()
    say(client, "nghỉ phép năm được mấy ngày", sender="w-unclear")
    say(client, "/feedback_unclear", sender="w-unclear")
    auth = maintainer_auth(runner, channel_app)
    page = auth.client.get("/dashboard/learn?source=officer_answered").get_data(as_text=True)
    assert "công ty bắt ký cam kết" in page and "Cán bộ trả lời" in page and "[số điện thoại]" in page and "0987654321" not in page
    assert _queue_ids(auth, "feedback") == [_worker_message(channel_app, "nghỉ phép năm được mấy ngày")]


def test_retrain_requests_are_refused_clearly(channel_app, runner):
    auth = maintainer_auth(runner, channel_app)
    nothing = auth.post("/dashboard/models/retrain")
    assert nothing.status_code == 400 and "Chưa có nhãn mới hay câu hỏi mẫu nào" in nothing.get_data(as_text=True)
    say(channel_app.test_client(), "giá xăng hôm nay")
    mid = _worker_message(channel_app, "giá xăng hôm nay")
    auth.post("/dashboard/learn/label", {"message_id": mid, "choice": "intent:faq/nghi_phep_nam"})
    assert "Huấn luyện lại với 1 nhãn" in auth.client.get("/dashboard/models").get_data(as_text=True)
    first = auth.post("/dashboard/models/retrain")
    assert first.status_code == 302
    second = auth.post("/dashboard/models/retrain")
    assert second.status_code == 409 and "Đang có một lượt huấn luyện" in second.get_data(as_text=True)
    status = auth.client.get(first.headers["Location"] + "/status").get_json()
    assert status["status"] == "queued" and status["finished"] is False
    # a job nobody can decide on yet, and one that does not exist
    assert auth.post("/dashboard/models/jobs/1/activate").status_code in (404, 409)
    assert auth.client.get("/dashboard/models/jobs/424242").status_code == 404
    assert auth.post("/dashboard/models/rollback", {"version": "khong-co"}).status_code == 404


def test_two_requests_at_once_make_one_job(db):
    """The database refuses the second active retrain, whichever process asks (threads with their own sessions)."""
    from bot.storage.models import Conversation

    with db.session() as s:
        conv = Conversation(channel="web", user_id="u", slots={})
        s.add(conv)
        s.flush()
        msg = Message(conversation_id=conv.id, direction="in", author="worker", text="giá vàng", action="fallback")
        s.add(msg)
        s.flush()
        s.add(QuestionLabel(message_id=msg.id, text="giá vàng", source="fallback", label_kind="intent", intent="faq/nghi_phep_nam",
                            labelled_by="m@x"))
    barrier = threading.Barrier(4)
    results = []

    def ask():
        barrier.wait()
        try:
            results.append(retrain_ops.request_retrain(db, "m@x"))
        except Conflict as exc:
            results.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(r, int) for r in results) == 1 and sum(isinstance(r, Conflict) for r in results) == 3
    with db.read() as s:
        assert len(s.scalars(select(TrainingJob)).all()) == 1
    with pytest.raises(LearningError, match="không dùng được"):
        retrain_ops.request_retrain(db, "m@x", label_ids=[12345])


# --- a small training set: the runner, discard and rollback -------------------------------------


@pytest.fixture
def tiny_project(tmp_path, tiny_model_dir):
    """Settings for a project whose data is tests/data/tiny_nlu.yml (no FAQ): retrains take seconds."""
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    shutil.copy(DATA / "tiny_nlu.yml", nlu / "tiny.yml")
    shutil.copy(ROOT / "nlu_data" / "responses.yml", nlu / "responses.yml")  # the bot's texts, not training data
    (tmp_path / "faq").mkdir()
    models = tmp_path / "tiny-models"
    shutil.copytree(tiny_model_dir, models / "v1-tiny")
    ModelRegistry(models).use("v1-tiny")
    test_set = tmp_path / "test.yml"
    test_set.write_text('version: "3.1"\nnlu:\n- intent: out_of_scope\n  examples: |\n    - giá vàng hôm nay\n    - kể chuyện cười đi\n'
                        '- intent: chao_hoi\n  examples: |\n    - xin chào\n', encoding="utf-8")
    return {"NLU_DATA_DIR": str(nlu), "FAQ_DIR": str(tmp_path / "faq"), "MODELS_DIR": str(models), "CALIBRATION_FILE": str(tmp_path / "none.yml"),
            "TEST_SET_FILE": str(test_set), "RETRAIN_FOLDS": 2}


@pytest.mark.slow
def test_runner_discard_and_rollback(make_app, channel_config, runner, tiny_project, tiny_model):
    from actions.resources import Resources

    app = make_app({**channel_config, **tiny_project}, nlu=tiny_model)
    runtime = app.extensions["bot"]
    say(app.test_client(), "bạn thích ăn phở không")
    auth = maintainer_auth(runner, app)
    mid = _worker_message(app, "bạn thích ăn phở không")
    assert auth.post("/dashboard/learn/label", {"message_id": mid, "choice": "out_of_scope"}).status_code == 302
    job_url = auth.post("/dashboard/models/retrain").headers["Location"]
    job_id = int(job_url.rsplit("/", 1)[1])
    result = runner.invoke(__import__("bot.cli", fromlist=["main"]).main, ["retrain-job", "run-once"],
                           env={**{k: str(v) for k, v in tiny_project.items()}, "DATABASE_URL": runtime.settings["DATABASE_URL"]})
    assert result.exit_code == 0, result.output
    assert f"Lượt huấn luyện số {job_id} xong" in result.output
    status = auth.client.get(job_url + "/status").get_json()
    assert status["status"] == "succeeded" and status["progress"] == 100 and status["base_version"] == "v1-tiny"
    page = auth.client.get(job_url).get_data(as_text=True)
    assert "Không có tập hiệu chỉnh" in page and "Dùng mô hình này" in page
    with runtime.db.read() as s:
        job = s.get(TrainingJob, job_id)
        candidate = job.candidate_version
        assert [r["text"] for r in job.comparison["labelled"]] == ["bạn thích ăn phở không"]
        assert job.comparison["sets"][0]["n"] == 3
    assert ModelRegistry(tiny_project["MODELS_DIR"]).current_name() == "v1-tiny"  # not made current by training
    # discard: the folder goes, the label stays pending
    assert auth.post(f"/dashboard/models/jobs/{job_id}/discard").status_code == 302
    assert not (ModelRegistry(tiny_project["MODELS_DIR"]).root / candidate).exists()
    assert auth.post(f"/dashboard/models/jobs/{job_id}/activate").status_code == 409
    with runtime.db.read() as s:
        assert s.scalars(select(QuestionLabel)).one().used_in_model is None
    # run again (through the library, as the workers do), then roll back to it and back again
    auth.post("/dashboard/models/retrain")
    second = retrain_ops.run_next(runtime.db, runtime.settings, Resources.load(runtime.settings))
    auth.post(f"/dashboard/models/jobs/{second}/activate")
    with runtime.db.read() as s:
        version = s.get(TrainingJob, second).candidate_version
        assert s.scalars(select(QuestionLabel)).one().used_in_model == version
    assert runtime.engine.model.version == version  # this process switched at once
    relabel = auth.post("/dashboard/learn/label", {"message_id": mid, "choice": "skip"})
    assert relabel.status_code == 409 and "đã được dùng để huấn luyện" in relabel.get_data(as_text=True)
    history = auth.client.get("/dashboard/models").get_data(as_text=True)
    assert f"{version} <b>(đang dùng)</b>" in history and "Quay về phiên bản này" in history
    assert auth.post("/dashboard/models/rollback", {"version": "v1-tiny"}).status_code == 302
    assert ModelRegistry(tiny_project["MODELS_DIR"]).current_name() == "v1-tiny" and runtime.engine.model.version == "v1-tiny"
    with runtime.db.read() as s:
        actions = [a.action for a in s.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions == ["label", "retrain_request", "model_discard", "retrain_request", "model_activate", "model_rollback"]


@pytest.mark.slow
def test_comparison_outcomes_agree_with_the_benchmark(project_model, resources):
    """The comparison's outcomes, checked against benchmarks/independent.py (written separately)
    on the topic questions of the independent test set, and compare() against its own parts."""
    from collections import Counter

    from benchmarks.independent import score
    from bot.engine import Engine
    from bot.learning.compare import compare, verdicts
    from bot.nlu.training_data import load_training_file

    engine = Engine(project_model, resources)
    topic = [e for e in load_training_file(DATA / "independent_test.yml").examples if e.intent.startswith("topic/")][:150]
    mine = Counter(v.outcome for v in verdicts(engine, [(e.text, e.intent) for e in topic]))
    theirs = score(engine, topic)
    assert (mine["right"], mine["wrong"], mine["clarified"], mine["handed_off"], mine["fallback"]) == (
        theirs.get("topic_right", 0), theirs.get("topic_wrong", 0), theirs.get("topic_clarify", 0), theirs.get("topic_handoff", 0),
        theirs.get("topic_fallback", 0))
    settings = {"TEST_SET_FILE": str(DATA / "independent_test.yml"), "CALIBRATION_FILE": "/nonexistent/calibration.yml"}
    same = compare(settings, engine, Engine(project_model, resources), [(1, topic[0].text, topic[0].intent)])
    [independent] = same["sets"]
    assert independent["base"] == independent["candidate"] and independent["n_changed"] == 0 and sum(independent["base"].values()) == 791
    assert same["notes"] == ["Không có tập hiệu chỉnh (/nonexistent/calibration.yml)."]


def test_deleting_a_workers_data_deletes_the_labels_on_their_questions(channel_app, runner):
    from bot import privacy

    say(channel_app.test_client(), "giá vàng hôm nay", sender="w-delete")
    say(channel_app.test_client(), "giá bạc hôm nay", sender="w-keep")
    auth = maintainer_auth(runner, channel_app)
    for text in ("giá vàng hôm nay", "giá bạc hôm nay"):
        auth.post("/dashboard/learn/label", {"message_id": _worker_message(channel_app, text), "choice": "out_of_scope"})
    db = channel_app.extensions["bot"].db
    counts = privacy.delete_person(db, "web", "w-delete", actor="canbo@congdoan.vn")
    assert counts["question_labels"] == 1
    with db.read() as s:
        assert [row.text for row in s.scalars(select(QuestionLabel))] == ["giá bạc hôm nay"]


def test_a_retrain_trains_on_the_faq_editors_phrasings_instead_of_the_files():
    from bot.config import Settings
    from bot.learning.retrain import training_data

    settings = Settings.load()
    before, kb, _ = training_data(settings, [])
    old = [e.text for e in before.examples if e.intent == "faq/nghi_phep_nam"]
    new = ["một năm làm đủ thì được nghỉ mấy hôm có lương", "phép năm của công nhân may là bao nhiêu ngày"]
    data, _, _ = training_data(settings, [], {"faq/nghi_phep_nam": new})
    texts = [e.text for e in data.examples if e.intent == "faq/nghi_phep_nam"]
    title = kb.get("nghi_phep_nam").title
    assert len(old) > 10 and set(texts) == {*new, title} | ({title} & set(old))
    assert len(data.examples) == len(before.examples) - len(old) + len(texts)  # other intents untouched


@pytest.mark.slow
def test_a_retrain_that_fails_midway_keeps_the_model_and_shows_why(make_app, channel_config, runner, tiny_project, tiny_model, monkeypatch):
    app = make_app({**channel_config, **tiny_project}, nlu=tiny_model)
    runtime = app.extensions["bot"]
    say(app.test_client(), "bạn thích ăn phở không")
    auth = maintainer_auth(runner, app)
    mid = _worker_message(app, "bạn thích ăn phở không")
    auth.post("/dashboard/learn/label", {"message_id": mid, "choice": "out_of_scope"})
    job_url = auth.post("/dashboard/models/retrain").headers["Location"]

    def disk_full(*args, progress=None, **kwargs):
        progress("Đang huấn luyện…", 40)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(retrain_ops, "train_data", disk_full)  # a fault injected halfway through the job
    assert runtime.run_training_job() is True
    status = auth.client.get(job_url + "/status").get_json()
    assert status["status"] == "failed" and "No space left on device" in (status.get("error") or "")
    assert "No space left on device" in auth.client.get(job_url).get_data(as_text=True)
    assert ModelRegistry(tiny_project["MODELS_DIR"]).current_name() == "v1-tiny" and runtime.engine.model.version == "v1-tiny"
    assert say(app.test_client(), "xin chào", sender="after-failure")  # the bot keeps answering with the old model
    with runtime.db.read() as s:
        assert s.scalars(select(QuestionLabel)).one().used_in_model is None  # the label waits for the next retrain
    assert auth.post("/dashboard/models/retrain").status_code == 302  # the slot is free again
