"""Units from the command line: the tree (no cycle, no deletion with open questions), pages and OAs
with secrets encrypted at rest and shown masked, key errors in Vietnamese, key rotation, memberships."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.cli import main
from bot.storage.models import Conversation, Officer, Ticket, Unit, UnitAccount, UnitMember

from .conftest import PASSWORD

KEY = Fernet.generate_key().decode()
PAGE_TOKEN = "EAAG-page-token-of-quan-1-abcd"


@pytest.fixture
def cli(runner, database_url):
    def invoke(*args, input=None, key=KEY, old=None):
        env = {"DATABASE_URL": database_url, "SECRETS_KEY": key or "", "SECRETS_KEY_OLD": old or ""}
        return runner.invoke(main, list(args), input=input, env=env)

    return invoke


def _unit_id(db, short):
    with db.read() as s:
        return s.scalar(select(Unit.id).where(Unit.short_name == short))


def test_units_add_list_set_and_the_tree_refuses_a_cycle(cli, db):
    assert cli("units", "list").exit_code == 0  # makes the root on a database that has none
    root = cli("units", "list").output
    assert "LĐLĐ tỉnh" in root
    r = cli("units", "add", "Liên đoàn Lao động quận 1", "--short", "LĐLĐ Q1", "--hotline", "028 3822 1111")
    assert r.exit_code == 0, r.output
    q1 = _unit_id(db, "LĐLĐ Q1")
    r = cli("units", "add", "Công đoàn cơ sở Công ty May Việt", "--short", "CĐCS May Việt", "--parent", str(q1))
    assert r.exit_code == 0, r.output
    may = _unit_id(db, "CĐCS May Việt")

    listing = cli("units", "list").output
    lines = listing.splitlines()
    assert lines[1].startswith(f"  {q1:>4}  LĐLĐ Q1") and lines[2].startswith(f"    {may:>4}  CĐCS May Việt")
    assert lines[2].endswith("câu hỏi đang mở: 0") and "028 3822 1111" in lines[2]  # inherits the parent's hotline

    cycle = cli("units", "set", str(q1), "--parent", str(may))
    assert cycle.exit_code == 1 and "vòng" in cycle.output and "Traceback" not in cycle.output
    itself = cli("units", "set", str(q1), "--parent", str(q1))
    assert itself.exit_code == 1 and "vòng" in itself.output
    with db.read() as s:
        assert s.get(Unit, q1).parent_id == s.scalar(select(Unit.id).where(Unit.is_root.is_(True)))

    assert cli("units", "set", str(may), "--hotline", "0909 000 111", "--name", "CĐCS Công ty May Việt Tiến").exit_code == 0
    with db.read() as s:
        assert (s.get(Unit, may).hotline, s.get(Unit, may).name) == ("0909 000 111", "CĐCS Công ty May Việt Tiến")
    missing = cli("units", "set", "999", "--hotline", "1")
    assert missing.exit_code == 1 and "Không có đơn vị số 999" in missing.output


def test_a_unit_with_open_questions_or_sub_units_is_not_deleted(cli, db):
    cli("units", "list")
    cli("units", "add", "Công đoàn KCN Tân Thuận", "--short", "CĐ KCN")
    kcn = _unit_id(db, "CĐ KCN")
    now = dt.datetime.now(dt.timezone.utc)
    with db.session() as s:
        conv = Conversation(channel="messenger", user_id="psid-9", unit_id=kcn)
        s.add(conv)
        s.flush()
        s.add(Ticket(code="CD-KCN34", conversation_id=conv.id, channel="messenger", user_id="psid-9", question="Nợ lương",
                     status="open", due_at=now, unit_id=kcn))
    refused = cli("units", "delete", str(kcn))
    assert refused.exit_code == 1 and "còn 1 câu hỏi chưa xử lý xong" in refused.output
    root = cli("units", "delete", str(_unit_id(db, "LĐLĐ tỉnh")))
    assert root.exit_code == 1 and "đơn vị gốc" in root.output

    with db.session() as s:
        s.scalars(select(Ticket)).one().status = "resolved"
    assert cli("units", "delete", str(kcn)).exit_code == 0
    with db.read() as s:
        assert s.get(Unit, kcn) is None
        assert s.scalars(select(Ticket)).one().unit_id == s.scalar(select(Unit.id).where(Unit.is_root.is_(True)))  # kept, moved up


def test_account_secrets_are_encrypted_masked_and_rotated(cli, db):
    cli("units", "list")
    cli("units", "add", "LĐLĐ quận 1", "--short", "Q1")
    q1 = str(_unit_id(db, "Q1"))
    added = cli("units", "account", "add", "messenger", "1111", "--unit", q1, "--name", "Công đoàn Quận 1", "--secrets-stdin",
                input=f"page_access_token={PAGE_TOKEN}\napp_secret=app-secret-of-quan-1\nverify_token=verify-q1-token\n")
    assert added.exit_code == 0, added.output
    assert PAGE_TOKEN not in added.output and "••••abcd" in added.output
    with db.read() as s:
        account = s.scalars(select(UnitAccount)).one()
        stored = account.page_access_token
    assert PAGE_TOKEN not in stored and Fernet(KEY.encode()).decrypt(stored.encode()).decode() == PAGE_TOKEN
    listing = cli("units", "account", "list")
    assert listing.exit_code == 0 and "1111" in listing.output and "••••abcd" in listing.output
    assert PAGE_TOKEN not in listing.output and "app-secret-of-quan-1" not in listing.output

    no_key = cli("units", "account", "list", key="")
    assert no_key.exit_code == 1 and "Chưa cấu hình SECRETS_KEY" in no_key.output and "Traceback" not in no_key.output
    bad_key = cli("units", "account", "list", key="không-phải-khóa")
    assert bad_key.exit_code == 1 and "không phải khóa Fernet hợp lệ" in bad_key.output
    new_key = Fernet.generate_key().decode()
    wrong = cli("units", "account", "list", key=new_key)
    assert wrong.exit_code == 1 and "SECRETS_KEY sai hoặc đã đổi" in wrong.output and "rotate-secrets" in wrong.output

    rotated = cli("units", "rotate-secrets", key=new_key, old=KEY)
    assert rotated.exit_code == 0 and "3 khóa bí mật" in rotated.output, rotated.output
    after = cli("units", "account", "list", key=new_key)  # the old key is no longer needed
    assert after.exit_code == 0 and "••••abcd" in after.output
    assert cli("units", "account", "list", key=KEY).exit_code == 1

    wrong_field = cli("units", "account", "set", "messenger", "1111", "--secrets-stdin", input="oa_secret_key=x\n", key=new_key)
    assert wrong_field.exit_code == 1 and "TRƯỜNG=giá trị" in wrong_field.output
    changed = cli("units", "account", "set", "messenger", "1111", "--no-public-replies", "--secrets-stdin",
                  input="page_access_token=new-page-token-wxyz\n", key=new_key)
    assert changed.exit_code == 0, changed.output
    assert "••••wxyz" in cli("units", "account", "list", key=new_key).output
    with db.read() as s:
        assert s.scalars(select(UnitAccount)).one().public_replies is False
    dup = cli("units", "account", "add", "messenger", "1111", "--unit", q1, "--secrets-stdin", input="", key=new_key)
    assert dup.exit_code == 1 and "Đã có tài khoản messenger" in dup.output


def test_officers_belong_to_units_with_a_role(cli, db):
    cli("units", "list")
    cli("units", "add", "LĐLĐ quận 1", "--short", "Q1")
    q1 = _unit_id(db, "Q1")
    r = cli("officers", "add", "q1@congdoan.vn", "--name", "Cán bộ Q1", "--unit", str(q1), "--password-stdin", input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    bad = cli("officers", "add", "x@congdoan.vn", "--name", "X", "--unit", "999", "--password-stdin", input=PASSWORD + "\n")
    assert bad.exit_code == 1 and "Không có đơn vị số 999" in bad.output
    with db.read() as s:
        assert s.scalar(select(Officer.id).where(Officer.email == "x@congdoan.vn")) is None  # nothing half-made
    assert cli("units", "member", "add", "q1@congdoan.vn", "--unit", str(q1), "--role", "admin").exit_code == 0
    listing = cli("units", "member", "list").output
    assert "q1@congdoan.vn" in listing and "admin" in listing
    with db.read() as s:
        assert [(m.unit_id, m.role) for m in s.scalars(select(UnitMember))] == [(q1, "admin")]
    assert cli("units", "member", "remove", "q1@congdoan.vn", "--unit", str(q1)).exit_code == 0
    again = cli("units", "member", "remove", "q1@congdoan.vn", "--unit", str(q1))
    assert again.exit_code == 1 and "không thuộc đơn vị" in again.output
    nobody = cli("units", "member", "add", "ai@congdoan.vn", "--unit", str(q1))
    assert nobody.exit_code == 1 and "Không có cán bộ" in nobody.output


def test_new_key_prints_a_usable_fernet_key(cli):
    out = cli("units", "new-key", key="").output.strip()
    Fernet(out.encode())  # a valid key
