"""The durable inbox through its Python API, on the test database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.channels.base import MAX_INCOMING_TEXT, IncomingMessage
from bot.inbox import MAX_ATTEMPTS, Inbox
from bot.storage import Database
from bot.storage.models import InboxEvent


class Clock:
    def __init__(self):
        self.now = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.timezone.utc)

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def inbox(db, clock):
    return Inbox(db, clock=clock)


def msg(mid: str, text: str | None = "xin chào", sender: str = "u1", channel: str = "messenger") -> IncomingMessage:
    return IncomingMessage(channel=channel, sender_id=sender, message_id=mid, kind="text", text=text)


def test_accept_stores_once_per_platform_id(inbox):
    first = inbox.accept([msg("m1"), msg("m2")])
    again = inbox.accept([msg("m1"), msg("m3")])
    assert len(first) == 2
    assert len(again) == 1  # m1 was a redelivery
    assert inbox.event_id("messenger", "m1") == first[0]
    # the same platform id on another channel is another message
    assert inbox.accept([msg("m1", channel="zalo")]) != []


def test_accept_nothing_is_a_no_op(inbox):
    assert inbox.accept([]) == []


def test_pending_lists_oldest_first_with_sender(inbox):
    ids = inbox.accept([msg("a", sender="x"), msg("b", sender="y")])
    assert inbox.pending() == [(ids[0], "x", "xin chào"), (ids[1], "y", "xin chào")]
    assert inbox.pending_text(ids[1]) == "xin chào"


def test_long_text_is_cut_at_the_storage_limit(inbox, db):
    [event_id] = inbox.accept([msg("long", text="a" * (MAX_INCOMING_TEXT + 500))])
    with db.read() as session:
        assert len(session.get(InboxEvent, event_id).text) == MAX_INCOMING_TEXT


def test_claim_then_done_removes_from_pending(inbox, db, clock):
    [event_id] = inbox.accept([msg("c1")])
    clock.advance(1)
    with db.session() as session:
        event = inbox.claim(session, event_id)
        assert event is not None and event.text == "xin chào"
        inbox.mark_done(session, event)
    assert inbox.pending() == []
    assert inbox.pending_text(event_id) is None
    with db.session() as session:
        assert inbox.claim(session, event_id) is None  # done rows are never claimed again
        row = session.get(InboxEvent, event_id)
        assert row.status == "done" and row.attempts == 1
        assert row.processed_at.replace(tzinfo=dt.timezone.utc) == clock.now


def test_failure_backs_off_then_gives_up(inbox, db, clock):
    [event_id] = inbox.accept([msg("f1", text="số điện thoại 0912345678")])
    inbox.record_failure(event_id, RuntimeError("boom with 0912345678"))
    assert inbox.pending() == []  # backing off: 2 s after the first failure
    clock.advance(2)
    assert [e for e, _, _ in inbox.pending()] == [event_id]
    with db.read() as session:
        row = session.get(InboxEvent, event_id)
        assert row.error == "RuntimeError"  # the class name only: never text that may quote the worker
    for _ in range(MAX_ATTEMPTS - 1):
        inbox.record_failure(event_id, RuntimeError("again"))
    clock.advance(3600)
    assert inbox.pending() == []
    with db.read() as session:
        assert session.get(InboxEvent, event_id).status == "failed"


def test_failure_of_a_done_event_changes_nothing(inbox, db):
    [event_id] = inbox.accept([msg("d1")])
    with db.session() as session:
        inbox.mark_done(session, inbox.claim(session, event_id))
    inbox.record_failure(event_id, ValueError("late"))
    with db.read() as session:
        row = session.get(InboxEvent, event_id)
        assert row.status == "done" and row.error is None


def test_failure_with_the_database_down_is_logged_not_raised(clock, caplog):
    down = Database("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1")
    try:
        Inbox(down, clock=clock).record_failure(1, RuntimeError("x"))
    finally:
        down.dispose()
    assert "could not record failure of inbox event 1" in caplog.text


def test_a_backing_off_event_holds_back_the_same_persons_later_messages(inbox, clock):
    first, second = inbox.accept([msg("o1", sender="same"), msg("o2", sender="same")])
    [other] = inbox.accept([msg("o3", sender="someone-else")])
    assert [e for e, _, _ in inbox.pending()] == [first, other]  # one at a time per person, oldest first
    inbox.record_failure(first, RuntimeError("boom"))
    assert [e for e, _, _ in inbox.pending()] == [other]  # not "o2" before "o1"
    clock.advance(2)
    assert [e for e, _, _ in inbox.pending()] == [first, other]
    assert second not in [e for e, _, _ in inbox.pending()]



# -- PostgreSQL: a worker round claims its events and marks them done in one statement ----------
@pytest.fixture
def pg_inbox(inbox, db):
    if db.is_sqlite:
        pytest.skip("take_due is the PostgreSQL path (SQLite rounds read `due` and claim one by one)")
    return inbox


def test_take_due_keeps_each_persons_order_between_concurrent_workers(pg_inbox, db, clock):
    x1, y1, x2, z1 = pg_inbox.accept([msg("x1", sender="x"), msg("y1", sender="y"), msg("x2", sender="x"), msg("z1", sender="z")])
    with db.session() as first:
        taken = pg_inbox.take_due(first, 2)
        assert [e.id for e in taken] == [x1, y1]
        # Another worker meanwhile: x1 and y1 are held (skipped), and x2 waits for x1 (not ahead of it).
        with db.session() as second:
            assert [e.id for e in pg_inbox.take_due(second, 10)] == [z1]
    # x1 done: x2 is next; z1 is done too, nothing else is due.
    with db.session() as third:
        assert [e.id for e in pg_inbox.take_due(third, 10)] == [x2]
    with db.read() as s:
        assert {e.id: (e.status, e.attempts) for e in s.query(InboxEvent)} == {
            x1: ("done", 1), y1: ("done", 1), x2: ("done", 1), z1: ("done", 1)}


def test_take_due_is_undone_with_its_transaction_and_skips_a_backing_off_sender(pg_inbox, db, clock):
    a1, a2, b1 = pg_inbox.accept([msg("a1", sender="a"), msg("a2", sender="a"), msg("b1", sender="b")])
    with pytest.raises(RuntimeError), db.session() as s:
        assert [e.id for e in pg_inbox.take_due(s, 10)] == [a1, b1]
        raise RuntimeError("the turns failed")
    pg_inbox.record_failure(a1, RuntimeError("x"))  # a1 backs off 2 s: a2 must wait behind it
    with db.session() as s:
        assert [e.id for e in pg_inbox.take_due(s, 10)] == [b1]
    clock.advance(3)
    with db.session() as s:
        assert [e.id for e in pg_inbox.take_due(s, 10)] == [a1]
    with db.session() as s:
        assert [e.id for e in pg_inbox.take_due(s, 10)] == [a2]
