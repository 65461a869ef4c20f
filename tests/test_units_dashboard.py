"""The units page for admins (secrets masked and write-only) and the report per unit with roll-up."""

from __future__ import annotations

import re

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.cli import main
from bot.secretbox import SecretBox
from bot.storage.models import Unit, UnitAccount

from .conftest import PASSWORD, AuthActions, add_officer, cli_caller

KEY = Fernet.generate_key().decode()
TOKEN = "EAAG-very-secret-page-token-7788"


@pytest.fixture
def setup(make_app, channel_config, runner):
    app = make_app({**channel_config, "SECRETS_KEY": KEY})
    env = {"DATABASE_URL": channel_config["DATABASE_URL"], "SECRETS_KEY": KEY}

    cli = cli_caller(runner, env)

    cli("units", "add", "LĐLĐ Quận 1", "--short", "Q1", "--hotline", "028 1111")
    db = app.extensions["bot"].db
    with db.read() as s:
        q1 = s.scalar(select(Unit.id).where(Unit.short_name == "Q1"))
    cli("units", "add", "CĐCS Công ty May", "--short", "May", "--parent", str(q1))
    cli("units", "add", "Công đoàn KCN", "--short", "KCN")
    with db.read() as s:
        ids = {u.short_name: u.id for u in s.scalars(select(Unit))}
    cli("units", "account", "add", "messenger", "PAGE_Q1", "--unit", str(q1), "--secrets-stdin", input=f"page_access_token={TOKEN}\n")
    add_officer(runner, app, "admin@congdoan.vn", role="admin")
    cli("officers", "add", "q1@congdoan.vn", "--name", "Cán bộ Q1", "--unit", str(q1), "--password-stdin", input=PASSWORD + "\n")
    admin = AuthActions(app.test_client())
    assert admin.login("admin@congdoan.vn").status_code == 302
    return app, ids, admin


def test_admin_sees_units_and_masked_secrets_and_edits_them(setup):
    app, ids, admin = setup
    html = admin.client.get("/dashboard/units").get_data(as_text=True)
    assert "Q1" in html and "CĐCS Công ty May" in html and "PAGE_Q1" in html
    assert TOKEN not in html and "••••7788" in html
    with app.extensions["bot"].db.read() as s:
        account = s.scalars(select(UnitAccount)).one()
    # write-only: an empty box keeps the secret, a new value replaces it
    admin.post(f"/dashboard/units/accounts/{account.id}", {"unit_id": ids["KCN"], "page_access_token": "", "active": "on"})
    with app.extensions["bot"].db.read() as s:
        row = s.get(UnitAccount, account.id)
        assert SecretBox(KEY).decrypt(row.page_access_token) == TOKEN and row.unit_id == ids["KCN"] and row.public_replies is False
    admin.post(f"/dashboard/units/accounts/{account.id}", {"unit_id": ids["Q1"], "page_access_token": "new-token-9900", "active": "on",
                                                           "public_replies": "on"})
    assert "••••9900" in admin.client.get("/dashboard/units").get_data(as_text=True)

    added = admin.post("/dashboard/units", {"name": "Công đoàn ngành Y tế", "short_name": "CĐ Y tế", "parent_id": ids["LĐLĐ tỉnh"],
                                             "hotline": "028 5555"}, follow_redirects=True)
    assert "Đã thêm đơn vị" in added.get_data(as_text=True)
    cycle = admin.post(f"/dashboard/units/{ids['Q1']}", {"name": "LĐLĐ Quận 1", "short_name": "Q1", "parent_id": ids["May"]},
                       follow_redirects=True)
    assert "vòng" in cycle.get_data(as_text=True)
    with app.extensions["bot"].db.read() as s:
        assert s.get(Unit, ids["Q1"]).parent_id == ids["LĐLĐ tỉnh"]


def test_only_admins_manage_units(setup):
    app, _, _ = setup
    officer = AuthActions(app.test_client())
    officer.login("q1@congdoan.vn")
    assert officer.client.get("/dashboard/units").status_code == 403
    assert officer.post("/dashboard/units", {"name": "X", "short_name": "X"}).status_code == 403


def _rows(html: str) -> dict[str, list[str]]:
    out = {}
    for row in re.findall(r'<tr data-unit="\d+">(.*?)</tr>', html, re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        out[cells[0]] = cells[1:]
    return out


def test_report_per_unit_rolls_up_and_is_scoped(setup):
    app, ids, admin = setup
    client = app.test_client()
    for sender, unit, text in (("w1", ids["May"], "/faq/nghi_phep_nam"), ("w2", ids["May"], "/faq/nghi_phep_nam"),
                               ("w3", ids["Q1"], "cho em gặp cán bộ công đoàn"), ("w4", ids["KCN"], "/faq/nghi_phep_nam")):
        assert client.post(f"/webhooks/rest/webhook?unit={unit}", json={"sender": sender, "message": text}).status_code == 200

    rows = _rows(admin.client.get("/dashboard/units/report").get_data(as_text=True))
    # columns: questions, bot, officers, not understood, % in 24 h, overdue now, own questions
    assert rows["May"][:3] == ["2", "2", "0"]
    assert rows["Q1"][0] == "3" and rows["Q1"][1] == "2" and rows["Q1"][6] == "1"  # its own hand-off + May's two
    assert rows["KCN"][0] == "1"
    assert rows["LĐLĐ tỉnh"][0] == "4"  # the root sees every unit, side by side and summed

    q1 = AuthActions(app.test_client())
    q1.login("q1@congdoan.vn")
    scoped = _rows(q1.client.get("/dashboard/units/report").get_data(as_text=True))
    assert set(scoped) == {"Q1", "May"}
    csv = q1.client.get("/dashboard/units/report.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Mã đơn vị,Đơn vị,Câu hỏi (cả cấp dưới)") and len(lines) == 3
    assert lines[1].split(",")[:3] == [str(ids["Q1"]), "LĐLĐ Quận 1", "3"]


def test_kpi_page_is_scoped_to_the_officers_units(setup):
    import csv
    import io

    from bot.handoff.kpi import ALL_CHANNELS_VI

    app, ids, admin = setup
    client = app.test_client()
    for sender, unit in (("k1", ids["May"]), ("k2", ids["KCN"]), ("k3", ids["KCN"])):
        client.post(f"/webhooks/rest/webhook?unit={unit}", json={"sender": sender, "message": "/faq/nghi_phep_nam"})

    def questions(auth) -> int:
        rows = list(csv.reader(io.StringIO(auth.client.get("/dashboard/kpi.csv").get_data(as_text=True).lstrip("\ufeff"))))
        return sum(int(r[2]) for r in rows[1:] if len(r) > 2 and r[1] == ALL_CHANNELS_VI and r[0][:4].isdigit())

    q1 = AuthActions(app.test_client())
    q1.login("q1@congdoan.vn")
    assert questions(admin) == 3 and questions(q1) == 1


def test_sla_report_page_and_api_are_scoped_to_the_officers_units(setup, runner, channel_config):
    app, ids, admin = setup
    client = app.test_client()
    for sender, unit in (("s1", ids["May"]), ("s2", ids["KCN"]), ("s3", ids["KCN"])):
        client.post(f"/webhooks/rest/webhook?unit={unit}", json={"sender": sender, "message": "cho em gặp cán bộ công đoàn"})
    env = {"DATABASE_URL": channel_config["DATABASE_URL"], "SECRETS_KEY": KEY}
    token = runner.invoke(main, ["officers", "token", "q1@congdoan.vn"], env=env).output.strip()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/reports/sla", headers=headers).get_json()["tickets"] == 1
    q1 = AuthActions(app.test_client())
    q1.login("q1@congdoan.vn")
    page = q1.client.get("/dashboard/reports").get_data(as_text=True)
    assert re.search(r"Phiếu hỏi<b>1</b>", page)
    assert re.search(r"Phiếu hỏi<b>3</b>", admin.client.get("/dashboard/reports").get_data(as_text=True))
