"""Opening a ticket and its status machine, through bot.handoff.tickets on the test database."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.handoff import tickets
from bot.handoff.tickets import CODE_ALPHABET, HandOff, TicketError
from bot.storage.models import Conversation, Message, Officer, TicketEvent

NOW = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.timezone.utc)


def aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)  # SQLite drops the zone


@pytest.fixture
def conversation(db):
    with db.session() as session:
        conv = Conversation(channel="zalo", user_id="z-1", display_name="Lan")
        session.add(conv)
        session.flush()
        session.add_all([
            Message(conversation_id=conv.id, direction="in", author="worker", text="công ty nợ lương 2 tháng"),
            Message(conversation_id=conv.id, direction="out", author="bot", text="…"),
        ])
        return conv.id


@pytest.fixture
def officer(db):
    with db.session() as session:
        person = Officer(email="an@cd.vn", name="An", password_hash="x")
        session.add(person)
        session.flush()
        return person.id


def test_open_ticket_sets_code_deadline_priority_and_transcript(db, conversation):
    with db.session() as session:
        conv = session.get(Conversation, conversation)
        ticket = tickets.open_ticket(session, conv, HandOff("công ty nợ lương 2 tháng", "complaint", topic="luong"), NOW, 24)
        ticket_id = ticket.id
    with db.read() as session:
        ticket = session.get(tickets.Ticket, ticket_id)
        assert ticket.code.startswith("CD-") and len(ticket.code) == 8
        assert set(ticket.code[3:]) <= set(CODE_ALPHABET)
        assert aware(ticket.due_at) == NOW + dt.timedelta(hours=24)
        assert aware(ticket.created_at) == NOW
        assert ticket.priority == "high"  # unpaid wages
        assert (ticket.channel, ticket.user_id, ticket.display_name) == ("zalo", "z-1", "Lan")
        transcript = session.query(Message).filter_by(ticket_id=ticket_id).count()
        assert transcript == 2
        [event] = session.query(TicketEvent).filter_by(ticket_id=ticket_id).all()
        assert (event.actor, event.action, event.detail["reason"]) == ("system", "created", "complaint")
        assert tickets.slots_for(ticket) == {"ticket_code": ticket.code, "ticket_status": "open",
                                             "ticket_due_at": ticket.due_at.isoformat()}


def test_second_ticket_gets_only_the_new_messages(db, conversation):
    with db.session() as session:
        conv = session.get(Conversation, conversation)
        first = tickets.open_ticket(session, conv, HandOff("a", "request_human"), NOW, 24)
        session.add(Message(conversation_id=conv.id, direction="in", author="worker", text="câu mới"))
        session.flush()
        second = tickets.open_ticket(session, conv, HandOff("câu mới", "request_human"), NOW, 8)
        assert first.code != second.code
        assert aware(second.due_at) == NOW + dt.timedelta(hours=8)  # the SLA is a parameter
        ids = (first.id, second.id)
    with db.read() as session:
        assert session.query(Message).filter_by(ticket_id=ids[0]).count() == 2
        assert [m.text for m in session.query(Message).filter_by(ticket_id=ids[1])] == ["câu mới"]
        assert tickets.open_ticket_for(session, conversation).id == ids[1]


@pytest.mark.parametrize(("text", "priority"), [
    ("công ty chưa trả lương 3 tháng", "high"),
    ("em đang mang thai bị cho nghỉ việc", "high"),
    ("bị quấy rối ở xưởng", "high"),
    ("cho em hỏi về phép năm", "normal"),
    ("", "normal"),
])
def test_priority(text, priority):
    assert tickets.priority_for(text) == priority


def test_status_machine(db, conversation, officer):
    with db.session() as session:
        conv = session.get(Conversation, conversation)
        person = session.get(Officer, officer)
        ticket = tickets.open_ticket(session, conv, HandOff("x", "request_human"), NOW, 24)
        with pytest.raises(TicketError, match="chưa có câu trả lời"):
            tickets.resolve(session, ticket, person)
        tickets.assign(session, ticket, person, person, now=NOW)
        assert ticket.status == "assigned"
        tickets.record_reply(session, ticket, person, resolve=False, now=NOW + dt.timedelta(hours=1))
        assert ticket.status == "answered" and ticket.first_response_at == NOW + dt.timedelta(hours=1)
        tickets.worker_follow_up(session, ticket, now=NOW + dt.timedelta(hours=2))
        assert ticket.status == "assigned"  # the worker wrote again: back to the officer
        with pytest.raises(TicketError, match="lý do"):
            tickets.close(session, ticket, person, "  ")
        tickets.close(session, ticket, person, "trùng phiếu khác", now=NOW + dt.timedelta(hours=3))
        assert ticket.status == "closed"
        with pytest.raises(TicketError):
            tickets.record_reply(session, ticket, person, resolve=True)
        tickets.reopen(session, ticket, person)
        assert ticket.status == "assigned" and ticket.closed_reason is None
        session.flush()
        actions = [e.action for e in session.query(TicketEvent).filter_by(ticket_id=ticket.id).order_by(TicketEvent.id)]
    assert actions == ["created", "claimed", "replied", "reopened", "closed", "reopened"]
