"""Personal data (Luật Bảo vệ dữ liệu cá nhân 2025): the retention purge keeps open tickets, new data
and the report figures; one worker's export and deletion (with an audit record free of personal
data); SQLite backup and restore; the privacy notice once per conversation."""

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import privacy
from bot.cli import main
from bot.handoff import reports
from bot.storage import Database
from bot.storage.models import AuditLog, Conversation, Feedback, InboxEvent, Message, OutboxMessage, Ticket, TicketEvent, TicketNote
from bot.workers import Workers

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)  # the CLI purges relative to the real clock
OLD = NOW - dt.timedelta(days=400)
NEW = NOW - dt.timedelta(days=10)
HOUR = dt.timedelta(hours=1)


def seed(db: Database) -> None:
    """Three workers on Messenger: an old answered question, an old question still open, a recent closed one."""
    with db.session() as s:
        convs = {
            "old": Conversation(channel="messenger", user_id="psid-old", display_name="Nguyễn Văn Cũ", slots={"last_question": "nợ lương"},
                                created_at=OLD, last_activity_at=OLD + 3 * HOUR),
            "open": Conversation(channel="messenger", user_id="psid-open", display_name="Trần Thị Mở", slots={},
                                 created_at=OLD, last_activity_at=OLD),
            "new": Conversation(channel="messenger", user_id="psid-new", display_name="Lê Văn Mới", slots={}, created_at=NEW, last_activity_at=NEW),
        }
        s.add_all(convs.values())
        s.flush()
        tickets = {
            "old": Ticket(code="CD-AAAAA", conversation_id=convs["old"].id, channel="messenger", user_id="psid-old",
                          display_name="Nguyễn Văn Cũ", question="Công ty nợ lương em 3 tháng", topic="tien_luong", status="resolved",
                          created_at=OLD, due_at=OLD + 24 * HOUR, first_response_at=OLD + HOUR, resolved_at=OLD + 2 * HOUR,
                          updated_at=OLD + 2 * HOUR, tags=[]),
            "open": Ticket(code="CD-CCCCC", conversation_id=convs["open"].id, channel="messenger", user_id="psid-open",
                           display_name="Trần Thị Mở", question="Em bị đuổi việc khi đang mang thai", topic="ky_luat", status="open",
                           priority="high", created_at=OLD, due_at=OLD + 24 * HOUR, updated_at=OLD, tags=[]),
            "new": Ticket(code="CD-DDDDD", conversation_id=convs["new"].id, channel="messenger", user_id="psid-new",
                          display_name="Lê Văn Mới", question="Làm thêm giờ tính thế nào", topic="tien_luong", status="resolved",
                          created_at=NEW, due_at=NEW + 24 * HOUR, first_response_at=NEW + HOUR, resolved_at=NEW + HOUR,
                          updated_at=NEW + HOUR, tags=[]),
        }
        s.add_all(tickets.values())
        s.flush()
        for key, when in (("old", OLD), ("open", OLD), ("new", NEW)):
            conv, ticket = convs[key], tickets[key]
            s.add(Message(conversation_id=conv.id, direction="in", author="worker", text=f"hỏi đáp {key}", action="answer",
                          intent="faq/x", created_at=when - HOUR))
            s.add(Message(conversation_id=conv.id, direction="in", author="worker", text=f"câu khó {key}", action="fallback",
                          created_at=when - HOUR))
            s.add(Message(conversation_id=conv.id, ticket_id=ticket.id, direction="in", author="worker", text=ticket.question,
                          action="handoff", created_at=when))
            s.add(Message(conversation_id=conv.id, ticket_id=ticket.id, direction="out", author="officer", text=f"trả lời {key}",
                          created_at=when + HOUR))
            s.add(TicketEvent(ticket_id=ticket.id, actor="system", action="created", detail={"priority": ticket.priority}, created_at=when))
            s.add(TicketNote(ticket_id=ticket.id, text=f"Ghi chú về {conv.display_name}", created_at=when))
            s.add(InboxEvent(channel="messenger", platform_message_id=f"mid-{key}", sender_id=conv.user_id, kind="text", text=ticket.question,
                             display_name=conv.display_name, received_at=when, status="done", attempts=1, processed_at=when))
            s.add(OutboxMessage(dedupe_key=f"k-{key}", channel="messenger", recipient_id=conv.user_id, conversation_id=conv.id,
                                ticket_id=ticket.id, author="officer", body={"text": f"trả lời {key}", "buttons": []}, status="sent",
                                created_at=when + HOUR, next_attempt_at=when + HOUR, sent_at=when + HOUR))
            s.add(Feedback(conversation_id=conv.id, faq_id="x", helpful=True, created_at=when))


def report(db: Database) -> dict:
    with db.read() as s:
        return reports.sla_report(s, OLD - dt.timedelta(days=1), NOW + dt.timedelta(days=1), "month", now=NOW)


def rows(db: Database, model, **where):
    with db.read() as s:
        return s.scalars(select(model).filter_by(**where).order_by(model.id)).all()


def texts(db: Database, user_id: str) -> list[str]:
    with db.read() as s:
        conv_id = s.scalar(select(Ticket.conversation_id).where(Ticket.code == {"psid-old": "CD-AAAAA", "psid-open": "CD-CCCCC",
                                                                                 "psid-new": "CD-DDDDD"}[user_id]))
        return list(s.scalars(select(Message.text).where(Message.conversation_id == conv_id).order_by(Message.id)))


# --- purge -------------------------------------------------------------------------------------


def test_purge_anonymises_old_closed_data_keeps_open_and_new_and_report_figures(db):
    seed(db)
    before = report(db)
    dry = privacy.purge(db, 365, now=NOW, dry_run=True)
    assert texts(db, "psid-old")[0] == "hỏi đáp old"  # a dry run changes nothing
    result = privacy.purge(db, 365, now=NOW)
    assert result.counts == dry.counts == {"messages": 4, "ticket_notes": 1, "tickets": 1, "inbox_events": 1, "outbox_messages": 1,
                                           "conversations": 1}
    # The old answered question: text gone, figures kept.
    [old] = rows(db, Ticket, code="CD-AAAAA")
    assert old.question == privacy.REDACTED and old.display_name is None and old.user_id.startswith("anon:")
    assert (old.status, old.topic, old.channel, old.created_at, old.first_response_at) == ("resolved", "tien_luong", "messenger", OLD, OLD + HOUR)
    assert texts(db, "psid-old") == [privacy.REDACTED] * 4
    assert rows(db, TicketNote, ticket_id=old.id)[0].text == privacy.REDACTED
    [conv] = rows(db, Conversation, id=old.conversation_id)
    assert conv.user_id.startswith("anon:") and conv.display_name is None and conv.slots == {}
    # The open ticket is old but untouched, with its conversation (context the officer may read).
    [still_open] = rows(db, Ticket, code="CD-CCCCC")
    assert still_open.question.startswith("Em bị đuổi việc") and still_open.user_id == "psid-open"
    assert texts(db, "psid-open") == ["hỏi đáp open", "câu khó open", still_open.question, "trả lời open"]
    assert rows(db, Conversation, user_id="psid-open")[0].display_name == "Trần Thị Mở"
    # Recent data is untouched.
    assert rows(db, Ticket, code="CD-DDDDD")[0].question == "Làm thêm giờ tính thế nào"
    assert texts(db, "psid-new") == ["hỏi đáp new", "câu khó new", "Làm thêm giờ tính thế nào", "trả lời new"]
    inbox = {e.platform_message_id: e for e in rows(db, InboxEvent)}
    assert inbox["mid-old"].text is None and inbox["mid-old"].display_name is None and inbox["mid-old"].sender_id == "anon:"
    assert inbox["mid-new"].text == "Làm thêm giờ tính thế nào" and inbox["mid-open"].sender_id == "psid-open"
    outbox = {o.dedupe_key: o for o in rows(db, OutboxMessage)}
    assert outbox["k-old"].body["text"] == privacy.REDACTED and (outbox["k-new"].body["text"], outbox["k-open"].body["text"]) == ("trả lời new", "trả lời open")
    # Report figures are the same; the retraining worklist no longer shows the removed texts.
    after = report(db)
    assert {k: v for k, v in after.items() if k != "retraining_worklist"} == {k: v for k, v in before.items() if k != "retraining_worklist"}
    assert {q["question"] for q in after["retraining_worklist"]} == {"câu khó new", "câu khó open"}
    assert all(t.startswith(reports.REDACTED_PREFIX) for t in privacy.REDACTED_TEXTS)
    # Idempotent; one audit record without personal data.
    assert privacy.purge(db, 365, now=NOW).total == 0
    [audit] = rows(db, AuditLog)
    assert audit.action == "purge" and audit.detail["counts"] == result.counts


def test_daily_purge_runs_once_a_day_and_not_when_disabled(db):
    seed(db)
    assert privacy.run_daily_purge(db, 0, now=NOW) is None
    assert privacy.run_daily_purge(db, 365, now=NOW).counts["tickets"] == 1
    assert privacy.run_daily_purge(db, 365, now=NOW + dt.timedelta(hours=23)) is None  # another process, same day
    assert privacy.run_daily_purge(db, 365, now=NOW + dt.timedelta(days=1)).total == 0


def test_workers_call_maintenance_at_most_hourly():
    calls = []
    workers = Workers(None, None, mode="none", maintenance=lambda: calls.append(1))
    workers._maintenance_at = 0
    workers.run_maintenance_if_due()
    workers.run_maintenance_if_due()
    assert calls == [1]


def test_purge_cli(runner, database_url):
    db = Database(database_url)
    seed(db)
    env = {"DATABASE_URL": database_url}
    dry = runner.invoke(main, ["purge", "--older-than", "365", "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, dry.output
    data = json.loads(dry.output)
    assert data["dry_run"] and data["counts"]["tickets"] == 1  # now: the data is a year older still
    assert rows(db, Ticket, code="CD-AAAAA")[0].question.startswith("Công ty")
    done = runner.invoke(main, ["purge", "--older-than", "365"], env=env)
    assert done.exit_code == 0 and "phiếu hỏi" in done.output
    assert rows(db, Ticket, code="CD-AAAAA")[0].question == privacy.REDACTED
    assert runner.invoke(main, ["purge", "--older-than", "0"], env=env).exit_code == 2
    db.dispose()


# --- one worker --------------------------------------------------------------------------------


def test_export_person_has_everything_about_the_worker(db):
    seed(db)
    data = privacy.export_person(db, "messenger", "psid-open", actor="canbo@congdoan.vn")
    json.dumps(data)  # JSON-serialisable
    assert [m["text"] for m in data["messages"]] == ["hỏi đáp open", "câu khó open", "Em bị đuổi việc khi đang mang thai", "trả lời open"]
    assert data["messages"][2]["ticket"] == "CD-CCCCC" and data["messages"][0]["at"] == (OLD - HOUR).isoformat()
    [ticket] = data["tickets"]
    assert ticket["code"] == "CD-CCCCC" and ticket["events"][0]["action"] == "created" and ticket["notes"][0]["text"].startswith("Ghi chú")
    assert data["conversation"]["display_name"] == "Trần Thị Mở" and data["feedback"] == [{"at": OLD.isoformat(), "faq_id": "x", "helpful": True}]
    assert "psid-new" not in json.dumps(data) and "Lê Văn Mới" not in json.dumps(data)
    [audit] = rows(db, AuditLog)
    assert audit.action == "person_export" and "psid-open" not in json.dumps([audit.target, audit.detail])
    with pytest.raises(privacy.PersonNotFound):
        privacy.export_person(db, "zalo", "psid-open")


def test_delete_person_closes_open_ticket_removes_texts_and_audits_without_personal_data(db):
    seed(db)
    before = report(db)
    counts = privacy.delete_person(db, "messenger", "psid-open", actor="canbo@congdoan.vn", now=NOW)
    assert counts["tickets_closed"] == 1 and counts["messages"] == 4 and counts["conversations"] == 1
    [ticket] = rows(db, Ticket, code="CD-CCCCC")
    assert ticket.status == "closed" and ticket.closed_reason == "Người lao động yêu cầu xóa dữ liệu"
    assert ticket.question == privacy.REDACTED_ON_REQUEST and ticket.user_id == privacy.user_hash("messenger", "psid-open")
    assert rows(db, TicketEvent, ticket_id=ticket.id)[-1].actor == "canbo@congdoan.vn"
    assert texts(db, "psid-open") == [privacy.REDACTED_ON_REQUEST] * 4
    assert rows(db, Conversation, user_id="psid-open") == []
    assert rows(db, InboxEvent, platform_message_id="mid-open")[0].text is None
    assert rows(db, OutboxMessage, dedupe_key="k-open")[0].body["text"] == privacy.REDACTED_ON_REQUEST
    assert texts(db, "psid-new")[0] == "hỏi đáp new"  # other workers untouched
    [audit] = rows(db, AuditLog)
    stored = json.dumps([audit.actor, audit.action, audit.target, audit.detail], ensure_ascii=False)
    assert audit.action == "person_delete" and audit.detail["counts"] == counts and audit.detail["channel"] == "messenger"
    for personal in ("psid-open", "Trần Thị Mở", "đuổi việc", "hỏi đáp open"):
        assert personal not in stored
    after = report(db)
    assert after["tickets"] == before["tickets"] and after["by_topic"] == before["by_topic"] and after["open_now"] == before["open_now"] - 1
    with pytest.raises(privacy.PersonNotFound):  # nothing left
        privacy.delete_person(db, "messenger", "psid-open", actor="canbo@congdoan.vn")


def test_person_cli_export_and_delete(runner, database_url, tmp_path):
    db = Database(database_url)
    seed(db)
    env = {"DATABASE_URL": database_url}
    out = tmp_path / "nguoi-lao-dong.json"
    result = runner.invoke(main, ["person", "export", "--channel", "messenger", "--user", "psid-old", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["tickets"][0]["question"] == "Công ty nợ lương em 3 tháng"
    printed = runner.invoke(main, ["person", "export", "--channel", "messenger", "--user", "psid-old"], env=env)
    assert json.loads(printed.stdout)["conversation"]["display_name"] == "Nguyễn Văn Cũ"
    unknown = runner.invoke(main, ["person", "export", "--channel", "messenger", "--user", "ai-do"], env=env)
    assert unknown.exit_code == 1 and "Không có dữ liệu" in unknown.output
    bad_path = runner.invoke(main, ["person", "export", "--channel", "messenger", "--user", "psid-old", "--out", str(tmp_path / "x" / "y.json")],
                             env=env)
    assert bad_path.exit_code == 1 and "Không ghi được" in bad_path.output
    delete = ["person", "delete", "--channel", "messenger", "--user", "psid-old", "--actor", "canbo@congdoan.vn"]
    refused = runner.invoke(main, delete, input="n\n", env=env)
    assert refused.exit_code == 1 and texts(db, "psid-old")[0] == "hỏi đáp old"
    confirmed = runner.invoke(main, delete, input="y\n", env=env)
    assert confirmed.exit_code == 0 and "Đã xóa" in confirmed.output
    assert texts(db, "psid-old")[0] == privacy.REDACTED_ON_REQUEST
    again = runner.invoke(main, [*delete, "--yes"], env=env)
    assert again.exit_code == 1 and "Không có dữ liệu" in again.output
    db.dispose()


# --- backup ------------------------------------------------------------------------------------


def test_sqlite_backup_while_writing_then_restore(db, tmp_path):
    if not db.is_sqlite:
        pytest.skip("SQLite backup")
    seed(db)
    copy = tmp_path / "sao-luu.db"
    with db.session() as s:  # a write in progress is not in the copy
        s.get(Ticket, rows(db, Ticket, code="CD-CCCCC")[0].id).question = "chưa lưu"
        s.flush()
        privacy.backup(db, copy)
    privacy.delete_person(db, "messenger", "psid-open", actor="canbo@congdoan.vn")
    assert rows(db, Ticket, code="CD-CCCCC")[0].status == "closed"
    # Restore (README): stop the server, copy the file back, remove the WAL files, start again.
    live = Path(db.engine.url.database)
    db.dispose()
    for suffix in ("-wal", "-shm"):
        Path(str(live) + suffix).unlink(missing_ok=True)
    shutil.copyfile(copy, live)
    restored = Database(f"sqlite:///{live}")
    restored.upgrade()
    [ticket] = rows(restored, Ticket, code="CD-CCCCC")
    assert ticket.status == "open"
    assert ticket.question.startswith("Em bị đuổi việc") and texts(restored, "psid-open")[0] == "hỏi đáp open"
    assert rows(restored, AuditLog) == [] and len(rows(restored, Message)) == 12
    restored.dispose()


def test_backup_errors(runner, tmp_path):
    pg = Database("postgresql+psycopg://postgres@127.0.0.1:1/none")  # never connected to
    with pytest.raises(privacy.BackupError, match="pg_dump"):
        privacy.backup(pg, tmp_path / "x.db")
    pg.dispose()
    result = runner.invoke(main, ["backup", str(tmp_path / "x.db")], env={"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none"})
    assert result.exit_code == 1 and "pg_dump" in result.output
    live = tmp_path / "bot.db"
    Database(f"sqlite:///{live}").upgrade()
    env = {"DATABASE_URL": f"sqlite:///{live}"}
    missing_dir = runner.invoke(main, ["backup", str(tmp_path / "khong-co" / "x.db")], env=env)
    assert missing_dir.exit_code == 1 and "Không có thư mục" in missing_dir.output
    folder = runner.invoke(main, ["backup", str(tmp_path)], env=env)
    assert folder.exit_code == 1 and "thư mục" in folder.output
    same = runner.invoke(main, ["backup", str(live)], env=env)
    assert same.exit_code == 1
    ok = runner.invoke(main, ["backup", str(tmp_path / "copy.db")], env=env)
    assert ok.exit_code == 0 and (tmp_path / "copy.db").is_file() and not (tmp_path / "copy.db.partial").exists()


# --- notice ------------------------------------------------------------------------------------


def say(client, text, sender):
    response = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


NOTICE = "Lưu ý về dữ liệu cá nhân"


def test_privacy_notice_once_per_conversation(app, client):
    first = say(client, "xin chào", "nld-1")
    assert first[0]["text"].startswith(NOTICE) and "365 ngày" in first[0]["text"] and "xóa dữ liệu" in first[0]["text"]
    assert sum(NOTICE in r["text"] for r in first) == 1
    for text in ("nghỉ phép năm được mấy ngày", "xin chào"):
        assert not any(NOTICE in r["text"] for r in say(client, text, "nld-1"))
    assert say(client, "xin chào", "nld-2")[0]["text"].startswith(NOTICE)  # another person, another conversation
    with app.extensions["bot"].db.read() as s:
        stored = s.scalars(select(Message.text).where(Message.direction == "out")).all()
        slots = s.scalars(select(Conversation.slots)).all()
    assert sum(NOTICE in t for t in stored) == 2 and all("privacy_notice_due" not in sl for sl in slots)


def test_privacy_notice_without_retention_and_deletion_request_goes_to_an_officer(make_app):
    client = make_app({"RETENTION_DAYS": 0}).test_client()
    [reply, *_] = say(client, "xin chào", "nld-3")
    assert reply["text"].startswith(NOTICE) and "cho đến khi bạn yêu cầu xóa" in reply["text"] and "ngày" not in reply["text"].split("\n\n")[0]
    handed = say(client, "Xóa dữ liệu của tôi", "nld-3")
    assert "mã phiếu" in handed[0]["text"]
