"""Officers' side: accounts, login and permissions, the queue, replies through the channel,
the JSON API, SLA arithmetic, notifications and reports."""

import datetime as dt
import json
import re

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.handoff import tickets as ticket_ops
from bot.storage.models import Conversation, Notification, OutboxMessage, Ticket, TicketEvent

from .conftest import fb_body, fb_post, fb_text
from .fakes.servers import Fault

PASSWORD = "mat-khau-rat-dai-123"


def add_officer(runner, app, email, role="officer", name=None):
    env = {"DATABASE_URL": app.extensions["bot"].settings["DATABASE_URL"]}
    result = runner.invoke(main, ["officers", "add", email, "--name", name or email.split("@")[0], "--role", role, "--password-stdin"],
                           input=PASSWORD + "\n", env=env)
    assert result.exit_code == 0, result.output
    return email


def csrf(client, path="/dashboard/login"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, email, password=PASSWORD):
    token = csrf(client)
    return client.post("/dashboard/login", data={"email": email, "password": password, "csrf_token": token})


def post(client, path, data, page="/dashboard/"):
    return client.post(path, data={**data, "csrf_token": csrf(client, page)})


@pytest.fixture
def officer(runner, channel_app):
    return add_officer(runner, channel_app, "canbo@congdoan.vn", name="Nguyễn Văn A")


@pytest.fixture
def admin(runner, channel_app):
    return add_officer(runner, channel_app, "admin@congdoan.vn", role="admin", name="Trần Thị B")


def open_ticket(app, psid="worker-1", text="cho em gặp cán bộ công đoàn", ts=None):
    fb_post(app.test_client(), fb_body(fb_text(psid, f"mid-{psid}-{text[:5]}", text, ts)))
    app.extensions["bot"].workers.drain()
    with app.extensions["bot"].db.read() as s:
        return s.scalars(select(Ticket).where(Ticket.user_id == psid)).one().code


def test_no_default_account_and_anonymous_redirected(channel_app):
    client = channel_app.test_client()
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]
    assert login(client, "admin@localhost", "admin").status_code == 200  # shown again with an error
    assert client.get("/dashboard/").status_code == 302


def test_officers_cli_add_list_disable_token(runner, channel_app):
    env = {"DATABASE_URL": channel_app.extensions["bot"].settings["DATABASE_URL"]}
    weak = runner.invoke(main, ["officers", "add", "x@y.vn", "--name", "X", "--password-stdin"], input="ngan\n", env=env)
    assert weak.exit_code == 1 and "ít nhất 10" in weak.output
    add_officer(runner, channel_app, "x@y.vn")
    dup = runner.invoke(main, ["officers", "add", "x@y.vn", "--name", "X", "--password-stdin"], input=PASSWORD + "\n", env=env)
    assert dup.exit_code == 1 and "Đã có" in dup.output
    assert "x@y.vn" in runner.invoke(main, ["officers", "list"], env=env).output
    token = runner.invoke(main, ["officers", "token", "x@y.vn"], env=env).output.strip()
    assert token.startswith("cdt_")
    client = channel_app.test_client()
    assert client.get("/api/tickets", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert runner.invoke(main, ["officers", "disable", "x@y.vn"], env=env).exit_code == 0
    assert client.get("/api/tickets", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert login(client, "x@y.vn").status_code == 200 and client.get("/dashboard/").status_code == 302


def test_login_rate_limited(channel_app, officer):
    client = channel_app.test_client()
    for _ in range(5):
        assert login(client, officer, "sai-mat-khau").status_code == 200
    response = login(client, officer)  # even the right password is refused while locked
    assert response.status_code == 429 and "15 phút" in response.get_data(as_text=True)


def test_csrf_required_on_forms(channel_app, officer):
    client = channel_app.test_client()
    login(client, officer)
    code = open_ticket(channel_app)
    response = client.post(f"/dashboard/tickets/{code}/claim", data={})
    assert response.status_code == 400
    with channel_app.extensions["bot"].db.read() as s:
        assert s.scalars(select(Ticket)).one().assignee_id is None


def test_queue_sorted_by_deadline_with_claim(channel_app, officer):
    runtime = channel_app.extensions["bot"]
    first = open_ticket(channel_app, "w-a")
    second = open_ticket(channel_app, "w-b", "cty nợ lương em 3 tháng, giúp em với")
    with runtime.db.session() as s:
        s.scalars(select(Ticket).where(Ticket.code == second)).one().due_at -= dt.timedelta(hours=10)
    client = channel_app.test_client()
    login(client, officer)
    response = client.get("/dashboard/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:500]
    assert html.index(second) < html.index(first)
    assert "Nhận xử lý" in html and "Hàng đợi phiếu hỏi (2)" in html
    assert 'data-due="' in html
    high = client.get("/dashboard/?priority=high").get_data(as_text=True)
    assert second in high and first not in high
    response = post(client, f"/dashboard/tickets/{first}/claim", {})
    assert response.status_code == 302
    with runtime.db.read() as s:
        t = s.scalars(select(Ticket).where(Ticket.code == first)).one()
        assert t.status == "assigned" and t.assignee_id is not None
    mine = client.get("/dashboard/?assignee=me").get_data(as_text=True)
    assert first in mine and second not in mine


def test_reply_reaches_worker_through_messenger(channel_app, officer, fake_graph):
    runtime = channel_app.extensions["bot"]
    code = open_ticket(channel_app)
    client = channel_app.test_client()
    login(client, officer)
    page = f"/dashboard/tickets/{code}"
    assert "cho em gặp cán bộ công đoàn" in client.get(page).get_data(as_text=True)
    response = client.post(f"{page}/reply", data={"text": "Chào bạn, cán bộ đã nhận câu hỏi.", "action": "send",
                                                  "csrf_token": csrf(client, page)})
    assert response.status_code == 302
    runtime.workers.drain()
    officer_msgs = [r.json() for r in fake_graph.sent("/me/messages") if r.json()["message"]["text"].startswith("Chào bạn, cán bộ")]
    assert len(officer_msgs) == 1 and officer_msgs[0]["messaging_type"] == "RESPONSE"
    with runtime.db.read() as s:
        t = s.scalars(select(Ticket)).one()
        assert t.status == "answered" and t.first_response_at is not None
    html = client.get(page).get_data(as_text=True)
    assert "Đã gửi" in html
    client.post(f"{page}/reply", data={"text": "Phiếu đã được giải quyết.", "action": "send_resolve", "csrf_token": csrf(client, page)})
    with runtime.db.read() as s:
        t = s.scalars(select(Ticket)).one()
        assert t.status == "resolved" and t.resolved_at is not None
        actions = [e.action for e in s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id))]
        assert actions == ["created", "replied", "replied"]


def test_reply_window_rules_for_officers(channel_app, officer, fake_graph):
    runtime = channel_app.extensions["bot"]
    code = open_ticket(channel_app)
    client = channel_app.test_client()
    login(client, officer)
    page = f"/dashboard/tickets/{code}"
    with runtime.db.session() as s:
        conv = s.scalars(select(Conversation)).one()
        conv.last_user_message_at -= dt.timedelta(days=3)
    client.post(f"{page}/reply", data={"text": "Trả lời sau 3 ngày", "action": "send", "csrf_token": csrf(client, page)})
    runtime.workers.drain()
    late = [r.json() for r in fake_graph.sent("/me/messages") if r.json()["message"]["text"] == "Trả lời sau 3 ngày"]
    assert late[0]["messaging_type"] == "MESSAGE_TAG" and late[0]["tag"] == "HUMAN_AGENT"
    with runtime.db.session() as s:
        s.scalars(select(Conversation)).one().last_user_message_at -= dt.timedelta(days=5)
    response = client.post(f"{page}/reply", data={"text": "Quá muộn", "action": "send", "csrf_token": csrf(client, page)},
                           follow_redirects=True)
    assert "Không gửi được" in response.get_data(as_text=True) and "7 ngày" in response.get_data(as_text=True)
    with runtime.db.read() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.author == "officer")) == 1


def test_notes_close_reopen_and_permissions(channel_app, officer, admin):
    code = open_ticket(channel_app)
    client = channel_app.test_client()
    login(client, officer)
    page = f"/dashboard/tickets/{code}"
    client.post(f"{page}/note", data={"text": "Đã gọi điện, chờ giấy tờ", "csrf_token": csrf(client, page)})
    assert "Đã gọi điện" in client.get(page).get_data(as_text=True)
    refused = client.post(f"{page}/close", data={"reason": "", "csrf_token": csrf(client, page)}, follow_redirects=True)
    assert "Cần ghi lý do" in refused.get_data(as_text=True)
    client.post(f"{page}/close", data={"reason": "Người lao động đã tự giải quyết", "csrf_token": csrf(client, page)})
    client.post(f"{page}/reopen", data={"csrf_token": csrf(client, page)})
    with channel_app.extensions["bot"].db.read() as s:
        t = s.scalars(select(Ticket)).one()
        assert t.status == "open" and t.closed_reason is None
    assert client.get("/dashboard/suggestions").status_code == 403
    client.post(f"{page}/suggest", data={"question": "Công đoàn có hỗ trợ luật sư miễn phí không?",
                                         "answer": "Có, công đoàn tư vấn pháp luật miễn phí cho đoàn viên.", "csrf_token": csrf(client, page)})
    admin_client = channel_app.test_client()
    login(admin_client, admin)
    html = admin_client.get("/dashboard/suggestions").get_data(as_text=True)
    assert "luật sư miễn phí" in html
    sid = re.search(r"/dashboard/suggestions/(\d+)", html).group(1)
    post(admin_client, f"/dashboard/suggestions/{sid}", {"decision": "approved"}, page="/dashboard/suggestions")


def test_export_suggestions(runner, channel_app, officer, admin, tmp_path):
    import shutil

    from .conftest import ROOT

    faq_dir = shutil.copytree(ROOT / "faq", tmp_path / "faq")
    nlu_dir = shutil.copytree(ROOT / "nlu_data", tmp_path / "nlu_data")
    code = open_ticket(channel_app, "w-s")
    client = channel_app.test_client()
    login(client, officer)
    page = f"/dashboard/tickets/{code}"
    client.post(f"{page}/suggest", data={"question": "Đoàn viên được khám sức khỏe miễn phí không?",
                                         "answer": "Tùy chương trình từng năm.", "csrf_token": csrf(client, page)})
    admin_client = channel_app.test_client()
    login(admin_client, admin)
    sid = re.search(r"/dashboard/suggestions/(\d+)", admin_client.get("/dashboard/suggestions").get_data(as_text=True)).group(1)
    post(admin_client, f"/dashboard/suggestions/{sid}", {"decision": "approved"}, page="/dashboard/suggestions")
    env = {"DATABASE_URL": channel_app.extensions["bot"].settings["DATABASE_URL"], "FAQ_DIR": str(faq_dir), "NLU_DATA_DIR": str(nlu_dir),
           "CALIBRATION_FILE": str(nlu_dir / "calibration.yml")}
    result = runner.invoke(main, ["faq", "export-suggestions"], env=env)
    assert result.exit_code == 0, result.output
    exported = (faq_dir / "de_xuat.yml").read_text(encoding="utf-8")
    assert "khám sức khỏe" in exported and "legal_basis: []" in exported
    validate = runner.invoke(main, ["validate"], env=env)
    assert validate.exit_code == 1 and "thiếu legal_basis" in validate.output


def test_json_api(runner, channel_app, officer):
    code = open_ticket(channel_app)
    env = {"DATABASE_URL": channel_app.extensions["bot"].settings["DATABASE_URL"]}
    token = runner.invoke(main, ["officers", "token", officer], env=env).output.strip()
    client = channel_app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/tickets").status_code == 401
    assert client.get("/api/tickets", headers={"Authorization": "Bearer wrong"}).status_code == 401
    listing = client.get("/api/tickets?status=open", headers=auth).get_json()
    [item] = listing["tickets"]
    assert item["code"] == code and item["status"] == "open" and item["channel"] == "messenger"
    assert item["created_at"].endswith("+07:00") and item["due_at"].endswith("+07:00") and item["first_response_at"] is None
    created = dt.datetime.fromisoformat(item["created_at"])
    assert dt.datetime.fromisoformat(item["due_at"]) - created == dt.timedelta(hours=24)
    detail = client.get(f"/api/tickets/{code}", headers=auth).get_json()
    assert [m["author"] for m in detail["transcript"]] == ["worker", "bot"]
    assert client.post(f"/api/tickets/{code}/reply", headers=auth, json={"text": ""}).status_code == 409
    assert client.post(f"/api/tickets/{code}/reply", headers=auth, data="x").status_code == 400
    ok = client.post(f"/api/tickets/{code}/reply", headers=auth, json={"text": "Cán bộ trả lời qua API", "resolve": True})
    assert ok.status_code == 202 and ok.get_json()["delivery"] == "pending"
    assert client.get(f"/api/tickets/{code}", headers=auth).get_json()["status"] == "resolved"
    assert client.get("/api/tickets/CD-XXXXX", headers=auth).status_code == 404
    sla = client.get("/api/reports/sla", headers=auth).get_json()
    assert sla["tickets"] == 1 and sla["sla"]["answered_within_sla"] == 1


def test_sla_deadline_for_a_ticket_created_at_2359(channel_app):
    runtime = channel_app.extensions["bot"]
    vn = dt.timezone(dt.timedelta(hours=7))
    created = dt.datetime(2026, 12, 31, 23, 59, tzinfo=vn)
    with runtime.db.session() as s:
        conv = Conversation(channel="web", user_id="late", slots={}, replies_since_user_message=0, followed=True)
        s.add(conv)
        s.flush()
        t = ticket_ops.create_ticket(s, conv, "CD-AAAAA", "câu hỏi lúc nửa đêm", "request_human",
                                     due_at=created + dt.timedelta(hours=24), now=created)
        code = t.code
    with runtime.db.read() as s:
        t = s.scalars(select(Ticket).where(Ticket.code == code)).one()
        assert t.due_at.astimezone(vn) == dt.datetime(2027, 1, 1, 23, 59, tzinfo=vn)


def test_handoff_deadline_follows_sla_hours(channel_config, fake_graph):
    from server import create_app

    app = create_app({**channel_config, "SLA_HOURS": 8})
    try:
        code = open_ticket(app)
        with app.extensions["bot"].db.read() as s:
            t = s.scalars(select(Ticket).where(Ticket.code == code)).one()
            assert abs((t.due_at - t.created_at) - dt.timedelta(hours=8)) < dt.timedelta(seconds=5)
        texts = [r.json()["message"]["text"] for r in fake_graph.sent("/me/messages")]
        assert any("trong vòng 8 giờ" in t for t in texts)
    finally:
        app.extensions["bot"].shutdown()


@pytest.fixture
def notifying(channel_config, fake_zalo):
    from server import create_app

    from .fakes.smtp import SMTPSink

    sink = SMTPSink()
    config = {**channel_config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": sink.port, "SMTP_STARTTLS": False,
              "NOTIFY_EMAILS": "truc@congdoan.vn lanhdao@congdoan.vn", "NOTIFY_WEBHOOK_URL": fake_zalo.url + "/hook"}
    app = create_app(config)
    yield app, sink, fake_zalo
    app.extensions["bot"].shutdown()
    sink.close()


def test_notifications_once_and_only_once(notifying):
    app, sink, hook = notifying
    runtime = app.extensions["bot"]
    open_ticket(app, "urgent", "cty TNHH ABC nợ lương em 3 tháng rồi, giúp em với")
    open_ticket(app, "normal")
    notifier = runtime.notifier
    for _ in range(3):
        notifier.run_once()
    assert [m["Subject"] for m in sink.messages] == [f"[Công đoàn] Phiếu ưu tiên cao mới: {_code(app, 'urgent')}"]
    assert "lanhdao@congdoan.vn" in sink.messages[0]["To"]
    [webhook] = hook.sent("/hook")
    assert webhook.json()["event"] == "high_priority"
    # four hours before the deadline, then overdue
    notifier.clock = lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=21)
    notifier.run_once()
    notifier.run_once()
    notifier.clock = lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=25)
    notifier.run_once()
    notifier.run_once()
    subjects = [m["Subject"] for m in sink.messages]
    assert len(subjects) == 5  # high priority, then due soon and overdue for each of the two tickets
    assert sum("còn dưới 4 giờ" in x for x in subjects) == 2 and sum("quá hạn" in x for x in subjects) == 2
    with runtime.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Notification).where(Notification.status == "sent")) == 10


def _code(app, psid):
    with app.extensions["bot"].db.read() as s:
        return s.scalars(select(Ticket.code).where(Ticket.user_id == psid)).one()


def test_failed_webhook_notification_is_retried(notifying):
    app, sink, hook = notifying
    runtime = app.extensions["bot"]
    hook.inject(Fault(500))
    open_ticket(app, "urgent2", "em bị tai nạn lao động ở xưởng, cty không đưa đi viện")
    runtime.notifier.run_once()
    with runtime.db.read() as s:
        row = s.scalars(select(Notification).where(Notification.target == "webhook")).one()
        assert row.status == "pending" and row.attempts == 1 and "HTTP 500" in row.last_error
    runtime.notifier.clock = lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)
    runtime.notifier.run_once()
    with runtime.db.read() as s:
        assert s.scalars(select(Notification).where(Notification.target == "webhook")).one().status == "sent"
    assert len(hook.sent("/hook")) == 2


def test_reports_page_csv_and_cli(runner, channel_app, officer):
    code = open_ticket(channel_app)
    client = channel_app.test_client()
    login(client, officer)
    page = f"/dashboard/tickets/{code}"
    client.post(f"{page}/reply", data={"text": "Đã trả lời", "action": "send_resolve", "csrf_token": csrf(client, page)})
    html = client.get("/dashboard/reports").get_data(as_text=True)
    assert "100.0%" in html and '<svg id="chart-tickets"' in html and "<rect" in html
    csv_text = client.get("/dashboard/reports.csv").get_data(as_text=True)
    assert "percent_within_sla,100.0" in csv_text and "messenger" in csv_text.splitlines()[0]
    env = {"DATABASE_URL": channel_app.extensions["bot"].settings["DATABASE_URL"]}
    data = json.loads(runner.invoke(main, ["report", "--format", "json"], env=env).output)
    assert data["tickets"] == 1 and data["sla"]["percent_within_sla"] == 100.0
    month = dt.date.today().strftime("%Y-%m")
    assert data["answered_per_month"][month]["officer"] == 1
    assert runner.invoke(main, ["report", "--from", "hôm qua"], env=env).exit_code == 2
