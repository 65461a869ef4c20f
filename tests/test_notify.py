"""Alerts to officers by e-mail and webhook: created once and only once, retried when delivery fails."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.storage.models import Notification, Ticket

from .conftest import open_ticket
from .fakes.servers import Fault


@pytest.fixture
def notifying(make_app, channel_config, fake_zalo):
    from .fakes.smtp import SMTPSink

    sink = SMTPSink()
    config = {**channel_config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": sink.port, "SMTP_STARTTLS": False,
              "NOTIFY_EMAILS": "truc@congdoan.vn lanhdao@congdoan.vn", "NOTIFY_WEBHOOK_URL": fake_zalo.url + "/hook"}
    yield make_app(config), sink, fake_zalo
    sink.close()


def _code(app, psid):
    with app.extensions["bot"].db.read() as s:
        return s.scalars(select(Ticket.code).where(Ticket.user_id == psid)).one()


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
