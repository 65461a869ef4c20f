"""Migration 0008 (units): an existing single-unit deployment upgrades with its data, and back.

Runs on SQLite (a file of its own) and on the PostgreSQL of DATABASE_URL (rebuilt to head after)."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from bot.storage import Database
from bot.storage.db import MIGRATIONS

pytestmark = pytest.mark.db

NOW = dt.datetime(2026, 11, 2, 3, 4, tzinfo=dt.timezone.utc)


@pytest.fixture
def empty_db(tmp_path, migrated_database):
    url = os.environ.get("DATABASE_URL") or ""
    if not url or url.startswith("sqlite"):
        database = Database(f"sqlite:///{tmp_path / 'upgrade.db'}")
        yield database
        database.dispose()
        return
    migrated_database.drop_all()
    yield migrated_database
    migrated_database.drop_all()  # leave the shared database as the session built it
    migrated_database.upgrade()


def _alembic(database: Database, verb: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with database.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, verb)(cfg, revision)
        conn.commit()


def _count(database: Database, table: str) -> int:
    with database.engine.connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()


def _seed_0007(database: Database) -> None:
    """A deployment at 0007 with a conversation, a ticket with its transcript, events, notes, an
    alert, replies in the outbox, and two officers."""
    rows = [
        ("officers", dict(id=1, email="admin@cd.vn", name="Quản trị", role="admin", password_hash="x", active=True, created_at=NOW)),
        ("officers", dict(id=2, email="canbo@cd.vn", name="Cán bộ", role="officer", password_hash="x", active=True, created_at=NOW)),
        ("conversations", dict(id=1, channel="messenger", user_id="psid-1", slots="{}", replies_since_user_message=0, followed=True, created_at=NOW)),
        ("tickets", dict(id=1, code="CD-34679", conversation_id=1, channel="messenger", user_id="psid-1", question="Công ty nợ lương",
                         priority="high", status="assigned", assignee_id=2, tags="[]", created_at=NOW, due_at=NOW + dt.timedelta(hours=24),
                         updated_at=NOW)),
        ("messages", dict(id=1, conversation_id=1, ticket_id=1, direction="in", author="worker", text="Công ty nợ lương", created_at=NOW)),
        ("ticket_events", dict(id=1, ticket_id=1, actor="system", action="opened", detail="{}", created_at=NOW)),
        ("ticket_notes", dict(id=1, ticket_id=1, officer_id=2, text="Gọi lại", created_at=NOW)),
        ("notifications", dict(id=1, ticket_id=1, kind="high_priority", target="email", status="sent", attempts=1, next_attempt_at=NOW, created_at=NOW)),
        ("outbox_messages", dict(id=1, dedupe_key="in:1:0", channel="messenger", recipient_id="psid-1", conversation_id=1, ticket_id=1,
                                 message_id=1, author="bot", body='{"text": "Đã chuyển"}', status="sent", attempts=1, next_attempt_at=NOW, created_at=NOW)),
        ("inbox_events", dict(id=1, channel="messenger", platform_message_id="m-1", sender_id="psid-1", kind="text", text="Công ty nợ lương",
                              received_at=NOW, status="done", attempts=1)),
    ]
    from sqlalchemy import MetaData

    meta = MetaData()
    meta.reflect(database.engine)
    with database.engine.begin() as conn:
        for table, values in rows:
            conn.execute(meta.tables[table].insert().values(**values))
        if database.dialect == "postgresql":  # ids were given: move the sequences past them
            for table in {t for t, _ in rows}:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"))


def test_upgrade_from_0007_keeps_everything_and_makes_the_root_unit(empty_db, monkeypatch):
    monkeypatch.setenv("ORG_NAME", "Liên đoàn Lao động Thành phố Hồ Chí Minh")
    monkeypatch.setenv("ORG_SHORT_NAME", "LĐLĐ TP.HCM")
    monkeypatch.setenv("HOTLINE", "1900 1234")
    monkeypatch.setenv("ZALO_URL", "https://zalo.me/ldldhcm")
    _alembic(empty_db, "upgrade", "0007")
    _seed_0007(empty_db)
    before = {t: _count(empty_db, t) for t in ("officers", "conversations", "tickets", "messages", "ticket_events", "ticket_notes",
                                                "notifications", "outbox_messages", "inbox_events")}

    empty_db.upgrade()  # what `python -m bot db upgrade` does

    assert {t: _count(empty_db, t) for t in before} == before
    with empty_db.engine.connect() as conn:
        units = conn.execute(text("SELECT id, name, short_name, parent_id, is_root, hotline, zalo_url, fanpage_url FROM units")).all()
        assert len(units) == 1
        root_id, name, short, parent, is_root, hotline, zalo, fanpage = units[0]
        assert (name, short, parent, bool(is_root), hotline, zalo, fanpage) == (
            "Liên đoàn Lao động Thành phố Hồ Chí Minh", "LĐLĐ TP.HCM", None, True, "1900 1234", "https://zalo.me/ldldhcm", None)
        assert conn.execute(text("SELECT unit_id FROM tickets")).scalars().all() == [root_id]
        assert conn.execute(text("SELECT unit_id FROM conversations")).scalars().all() == [root_id]
        members = conn.execute(text("SELECT officer_id, unit_id, role FROM unit_members ORDER BY officer_id")).all()
        assert [tuple(m) for m in members] == [(1, root_id, "admin"), (2, root_id, "officer")]
        # the ticket's links survived (no ON DELETE action fired during the upgrade)
        assert conn.execute(text("SELECT ticket_id FROM messages")).scalar() == 1
        assert conn.execute(text("SELECT assignee_id FROM tickets")).scalar() == 2


def test_downgrade_0008_to_0007_keeps_the_data_and_drops_the_units(empty_db):
    _alembic(empty_db, "upgrade", "0007")
    _seed_0007(empty_db)
    empty_db.upgrade()
    with empty_db.engine.begin() as conn:  # a sub-unit with an account and a member, as 0008 allows
        root_id = conn.execute(text("SELECT id FROM units")).scalar()
        conn.execute(text("INSERT INTO units (name, short_name, parent_id, created_at) VALUES ('CĐ KCN Tân Bình', 'CĐ KCN', :p, :now)"),
                     {"p": root_id, "now": NOW})

    _alembic(empty_db, "downgrade", "0007")

    tables = set(inspect(empty_db.engine).get_table_names())
    assert not tables & {"units", "unit_accounts", "unit_members"}
    for table in ("tickets", "conversations", "inbox_events", "outbox_messages"):
        columns = {c["name"] for c in inspect(empty_db.engine).get_columns(table)}
        assert not columns & {"unit_id", "account_external_id"}, table
    for table, n in (("tickets", 1), ("ticket_events", 1), ("ticket_notes", 1), ("notifications", 1), ("messages", 1),
                     ("outbox_messages", 1), ("officers", 2)):
        assert _count(empty_db, table) == n, table
    with empty_db.engine.connect() as conn:
        assert conn.execute(text("SELECT ticket_id FROM messages")).scalar() == 1
    empty_db.upgrade()  # and up again
    assert _count(empty_db, "units") == 1
