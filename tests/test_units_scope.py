"""Officers see and act on the tickets of their units and sub-units only; members of the root see all.

Every route with a ticket ``<code>`` in the Flask url_map — dashboard pages and JSON API — is tried by
an officer of another unit and must answer 403 (and change nothing): a new route cannot slip by."""

from __future__ import annotations

import functools
import tempfile

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.storage.models import Ticket, TicketEvent, TicketNote, Unit

from .conftest import PASSWORD, AuthActions, add_officer, cli_caller, open_ticket


@functools.lru_cache(maxsize=1)
def _ticket_routes() -> list[tuple[str, str]]:
    """(rule, method) of every route that names a ticket, read from the real app's url_map."""
    from bot.config import Settings
    from bot.runtime import Runtime
    from server import create_app

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load({"DATABASE_URL": f"sqlite:///{tmp}/routes.db", "WORKER_MODE": "none", "SECRET_KEY": "x",
                                  "INSTANCE_DIR": tmp, "MODELS_DIR": tmp})
        runtime = Runtime(settings)
        app = create_app({"WORKER_MODE": "none", "SECRET_KEY": "x", "DATABASE_URL": settings["DATABASE_URL"]}, runtime=runtime)
        routes = sorted((rule.rule, method) for rule in app.url_map.iter_rules() if "code" in rule.arguments
                        for method in rule.methods - {"HEAD", "OPTIONS"})
        runtime.shutdown()
    return routes


@pytest.fixture
def two_units(channel_app, runner):
    """Units Q1 (with a grassroots sub-unit) and KCN; a ticket in KCN and one in Q1's sub-unit; an
    officer of Q1 (signed in, and with an API token) and an officer of the root."""
    env = {"DATABASE_URL": channel_app.extensions["bot"].settings["DATABASE_URL"]}

    cli = cli_caller(runner, env)

    cli("units", "add", "LĐLĐ Quận 1", "--short", "Q1")
    cli("units", "add", "Công đoàn KCN", "--short", "KCN")
    db = channel_app.extensions["bot"].db
    with db.read() as s:
        ids = {u.short_name: u.id for u in s.scalars(select(Unit))}
    cli("units", "add", "CĐCS Công ty May", "--short", "May", "--parent", str(ids["Q1"]))
    with db.read() as s:
        ids = {u.short_name: u.id for u in s.scalars(select(Unit))}
    kcn_code = open_ticket(channel_app, psid="worker-kcn")
    may_code = open_ticket(channel_app, psid="worker-may")
    root_code = open_ticket(channel_app, psid="worker-root")
    with db.session() as s:
        s.scalars(select(Ticket).where(Ticket.code == kcn_code)).one().unit_id = ids["KCN"]
        s.scalars(select(Ticket).where(Ticket.code == may_code)).one().unit_id = ids["May"]
    cli("officers", "add", "q1@congdoan.vn", "--name", "Cán bộ Q1", "--unit", str(ids["Q1"]), "--password-stdin", input=PASSWORD + "\n")
    add_officer(runner, channel_app, "tinh@congdoan.vn", name="Cán bộ tỉnh")  # no membership: the root
    token = cli("officers", "token", "q1@congdoan.vn").strip()
    auth = AuthActions(channel_app.test_client())
    assert auth.login("q1@congdoan.vn").status_code == 302
    return {"auth": auth, "token": token, "kcn": kcn_code, "may": may_code, "root": root_code, "db": db, "ids": ids}


def test_the_routes_are_found():
    rules = {rule for rule, _ in _ticket_routes()}
    # the known ones, so that an enumeration that finds nothing cannot pass
    assert {"/dashboard/tickets/<code>", "/dashboard/tickets/<code>/reply", "/dashboard/tickets/<code>/note",
            "/api/tickets/<code>", "/api/tickets/<code>/reply"} <= rules


@pytest.mark.parametrize("rule,method", _ticket_routes())
def test_a_ticket_of_another_unit_is_forbidden_on_every_route(two_units, rule, method):
    auth, db = two_units["auth"], two_units["db"]
    path = rule.replace("<code>", two_units["kcn"])
    with db.read() as s:
        before = (s.scalars(select(Ticket).where(Ticket.code == two_units["kcn"])).one().status,
                  s.scalar(select(func.count(TicketEvent.id))), s.scalar(select(func.count(TicketNote.id))))
    form = {"text": "Trả lời thử", "reason": "thử", "question": "Hỏi?", "answer": "Đáp.", "officer_id": "1", "action": "send_resolve"}
    if rule.startswith("/api/"):
        headers = {"Authorization": f"Bearer {two_units['token']}"}
        response = auth.client.open(path, method=method, headers=headers, json={"text": "Trả lời thử", "resolve": True})
    elif rule.startswith("/dashboard/"):
        response = auth.post(path, form) if method == "POST" else auth.client.open(path, method=method)
    else:
        pytest.fail(f"a ticket route outside /dashboard and /api: {rule}; give it the unit check")
    assert response.status_code == 403, (rule, method, response.status_code)
    with db.read() as s:
        after = (s.scalars(select(Ticket).where(Ticket.code == two_units["kcn"])).one().status,
                 s.scalar(select(func.count(TicketEvent.id))), s.scalar(select(func.count(TicketNote.id))))
    assert after == before


def test_an_officer_sees_and_answers_the_tickets_of_their_unit_and_sub_units_only(two_units, channel_app, runner):
    auth = two_units["auth"]
    queue = auth.client.get("/dashboard/?size=100").get_data(as_text=True)
    assert two_units["may"] in queue and two_units["kcn"] not in queue and two_units["root"] not in queue
    assert auth.client.get(f"/dashboard/tickets/{two_units['may']}").status_code == 200
    assert auth.client.get(f"/dashboard/tickets/{two_units['root']}").status_code == 403  # the parent's: not a sub-unit
    headers = {"Authorization": f"Bearer {two_units['token']}"}
    listed = {t["code"] for t in auth.client.get("/api/tickets", headers=headers).get_json()["tickets"]}
    assert listed == {two_units["may"]}
    sent = auth.client.post(f"/api/tickets/{two_units['may']}/reply", headers=headers, json={"text": "Cán bộ Q1 trả lời."})
    assert sent.status_code == 202

    root = AuthActions(channel_app.test_client())
    root.login("tinh@congdoan.vn")
    everything = root.client.get("/dashboard/?size=100").get_data(as_text=True)
    assert all(two_units[k] in everything for k in ("kcn", "may", "root"))
    assert root.client.get(f"/dashboard/tickets/{two_units['kcn']}").status_code == 200


def test_a_ticket_is_not_assigned_to_an_officer_of_another_unit(two_units, channel_app, runner):
    from bot.storage.models import Officer

    db = two_units["db"]
    env = {"DATABASE_URL": channel_app.extensions["bot"].settings["DATABASE_URL"]}
    result = runner.invoke(main, ["officers", "add", "kcn@congdoan.vn", "--name", "Cán bộ KCN", "--unit", str(two_units["ids"]["KCN"]),
                                  "--password-stdin"], input=PASSWORD + "\n", env=env)
    assert result.exit_code == 0, result.output
    with db.read() as s:
        kcn_officer = s.scalar(select(Officer.id).where(Officer.email == "kcn@congdoan.vn"))
        q1_officer = s.scalar(select(Officer.id).where(Officer.email == "q1@congdoan.vn"))
    auth = two_units["auth"]
    refused = auth.post(f"/dashboard/tickets/{two_units['may']}/assign", {"officer_id": kcn_officer}, follow_redirects=True)
    assert "không thuộc đơn vị của phiếu" in refused.get_data(as_text=True)
    auth.post(f"/dashboard/tickets/{two_units['may']}/assign", {"officer_id": q1_officer})
    with db.read() as s:
        assert s.scalar(select(Ticket.assignee_id).where(Ticket.code == two_units["may"])) == q1_officer


def test_the_queue_shows_each_tickets_unit_and_filters_by_a_unit_and_its_sub_units(two_units, channel_app):
    root = AuthActions(channel_app.test_client())
    root.login("tinh@congdoan.vn")
    ids = two_units["ids"]
    page = root.client.get("/dashboard/?size=100").get_data(as_text=True)
    assert "<th>Đơn vị</th>" in page and "<td>KCN</td>" in page and "<td>May</td>" in page
    q1 = root.client.get(f"/dashboard/?size=100&unit={ids['Q1']}").get_data(as_text=True)
    assert two_units["may"] in q1 and two_units["kcn"] not in q1 and two_units["root"] not in q1  # Q1 with its sub-unit
    # The Q1 officer's filter offers only the units they may see; another unit's id shows nothing.
    q1_officer = two_units["auth"].client
    own = q1_officer.get("/dashboard/?size=100").get_data(as_text=True)
    assert ">KCN</option>" not in own and ">May</option>" in own
    other = q1_officer.get(f"/dashboard/?size=100&unit={ids['KCN']}").get_data(as_text=True)
    assert two_units["kcn"] not in other and "Không có phiếu nào." in other
