"""Escalation: a sub-unit's question with no officer answer 4 hours before its deadline moves to the
parent unit, once (injectable clock); both units are named in the alert; the ticket shows it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.handoff.escalation import Escalator
from bot.handoff.notify import Notifier
from bot.storage.models import Notification, Ticket, TicketEvent, Unit

from .conftest import AuthActions, add_officer, open_ticket


@pytest.fixture
def tree(make_app, channel_config, fake_zalo, runner):
    app = make_app({**channel_config, "NOTIFY_WEBHOOK_URL": fake_zalo.url + "/hook"})
    env = {"DATABASE_URL": channel_config["DATABASE_URL"]}
    for args in (("LĐLĐ Quận 1", "--short", "LĐLĐ Quận 1"),):
        assert runner.invoke(main, ["units", "add", *args], env=env).exit_code == 0
    db = app.extensions["bot"].db
    with db.read() as s:
        q1 = s.scalar(select(Unit.id).where(Unit.short_name == "LĐLĐ Quận 1"))
    assert runner.invoke(main, ["units", "add", "CĐCS Công ty May", "--short", "CĐCS May", "--parent", str(q1)], env=env).exit_code == 0
    with db.read() as s:
        ids = {u.short_name: u.id for u in s.scalars(select(Unit))}
    return app, ids


def _ticket_in(app, psid, unit_id):
    code = open_ticket(app, psid=psid)
    with app.extensions["bot"].db.session() as s:
        t = s.scalars(select(Ticket).where(Ticket.code == code)).one()
        t.unit_id = unit_id
        return code, t.due_at


def _unit_of(app, code):
    with app.extensions["bot"].db.read() as s:
        return s.scalar(select(Ticket.unit_id).where(Ticket.code == code))


def test_an_unanswered_sub_unit_ticket_moves_to_the_parent_once(tree, fake_zalo, runner):
    app, ids = tree
    runtime = app.extensions["bot"]
    code, due = _ticket_in(app, "worker-may", ids["CĐCS May"])
    answered, _ = _ticket_in(app, "worker-answered", ids["CĐCS May"])
    at_root, _ = _ticket_in(app, "worker-root", ids["LĐLĐ tỉnh"])
    with runtime.db.session() as s:
        s.scalars(select(Ticket).where(Ticket.code == answered)).one().first_response_at = due - dt.timedelta(hours=20)

    early = Escalator(runtime.db, runtime.settings, clock=lambda: due - dt.timedelta(hours=4, minutes=1))
    assert early.run_once() == []
    assert _unit_of(app, code) == ids["CĐCS May"]

    when = due - dt.timedelta(hours=3, minutes=59)
    escalator = Escalator(runtime.db, runtime.settings, clock=lambda: when)
    assert escalator.run_once() == [code]
    assert _unit_of(app, code) == ids["LĐLĐ Quận 1"]
    assert _unit_of(app, answered) == ids["CĐCS May"] and _unit_of(app, at_root) == ids["LĐLĐ tỉnh"]
    # idempotent: a second round (even later) neither moves it again nor alerts twice
    assert Escalator(runtime.db, runtime.settings, clock=lambda: due + dt.timedelta(hours=1)).run_once() == []
    assert _unit_of(app, code) == ids["LĐLĐ Quận 1"]
    with runtime.db.read() as s:
        events = s.scalars(select(TicketEvent).where(TicketEvent.action == "escalated")).all()
        assert [(e.detail["from_unit"], e.detail["to_unit"]) for e in events] == [("CĐCS May", "LĐLĐ Quận 1")]
        alerts = s.scalars(select(Notification).where(Notification.kind == "escalated")).all()
        assert [(a.target, a.status) for a in alerts] == [("webhook", "pending")]

    Notifier(runtime.db, runtime.settings, clock=lambda: when).run_once()
    hooks = [r.json() for r in fake_zalo.sent("/hook") if r.json()["event"] == "escalated"]
    assert [h["ticket"] for h in hooks] == [code]
    assert "chuyển từ CĐCS May lên LĐLĐ Quận 1" in hooks[0]["text"]

    add_officer(runner, app, "tinh@congdoan.vn")
    auth = AuthActions(app.test_client())
    auth.login("tinh@congdoan.vn")
    assert "Đã chuyển lên LĐLĐ Quận 1" in auth.client.get(f"/dashboard/tickets/{code}").get_data(as_text=True)


def test_escalation_can_be_switched_off(tree):
    app, ids = tree
    runtime = app.extensions["bot"]
    code, due = _ticket_in(app, "worker-off", ids["CĐCS May"])
    settings = {**runtime.settings, "ESCALATE_BEFORE_HOURS": 0}
    assert Escalator(runtime.db, settings, clock=lambda: due).run_once() == []
    assert _unit_of(app, code) == ids["CĐCS May"]


def test_the_workers_job_thread_runs_escalation(tree):
    app, ids = tree
    runtime = app.extensions["bot"]
    code, due = _ticket_in(app, "worker-job", ids["CĐCS May"])
    runtime.escalator.clock = lambda: due - dt.timedelta(hours=1)
    runtime.run_jobs()
    assert _unit_of(app, code) == ids["LĐLĐ Quận 1"]
