"""The outbox through its Python API on the test database: leases, taking back a stopped process's
rows at once, settling each reply as soon as it is sent, order per recipient, shards."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from sqlalchemy import select

from bot.channels.base import SendResult, TransientDeliveryError
from bot.outbox import LEASE, STALE, OutboxSender, shard_of
from bot.storage.models import OutboxMessage, Process


class Clock:
    def __init__(self):
        self.now = dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.timezone.utc)

    def __call__(self):
        return self.now


class Recorder:
    """A channel sender that records what it was asked to send and can fail on demand."""

    def __init__(self, fail_for: set[str] | None = None):
        self.sent: list[tuple[str, str]] = []
        self.fail_for = fail_for or set()

    def send(self, recipient, body, ctx):
        if recipient in self.fail_for:
            raise TransientDeliveryError("tạm lỗi", "HTTP 500")
        self.sent.append((recipient, body["text"]))
        return SendResult(platform_message_id=f"m{len(self.sent)}")


def add_rows(db, *rows, now):
    with db.session() as s:
        for i, (recipient, text) in enumerate(rows):
            s.add(OutboxMessage(dedupe_key=f"k-{recipient}-{text}-{i}", channel="messenger", recipient_id=recipient, author="bot",
                                body={"text": text, "buttons": []}, status="pending", next_attempt_at=now, created_at=now))


def statuses(db):
    with db.read() as s:
        return {r.body["text"]: (r.status, r.lease_owner) for r in s.scalars(select(OutboxMessage))}


@pytest.fixture
def clock():
    return Clock()


def test_each_reply_is_settled_as_soon_as_it_is_sent(db, clock):
    add_rows(db, ("u1", "a"), ("u2", "b"), now=clock.now)
    sender = Recorder()
    outbox = OutboxSender(db, {"messenger": sender}, clock=clock, owner="A")
    assert outbox.send_due() == 2
    assert statuses(db) == {"a": ("sent", None), "b": ("sent", None)}


def test_rows_of_a_dead_process_are_taken_back_at_once(db, clock):
    add_rows(db, ("u1", "a"), ("u1", "b"), ("u2", "c"), now=clock.now)
    dead = OutboxSender(db, {"messenger": Recorder()}, clock=clock, owner="dead")
    dead.heartbeat(force=True)
    dead._claim(10, (0, 1))  # leased, then the process is killed before sending
    assert {v[0] for v in statuses(db).values()} == {"sending"}
    alive = Recorder()
    other = OutboxSender(db, {"messenger": alive}, clock=clock, owner="B")
    other.heartbeat(force=True)
    assert other.send_due() == 0  # the owner's heartbeat is fresh: its lease is respected
    clock.now += STALE + dt.timedelta(seconds=1)  # seconds, not the 60 s lease
    other.heartbeat(force=True)
    while other.send_due():
        pass
    assert sorted(alive.sent) == [("u1", "a"), ("u1", "b"), ("u2", "c")]
    assert other.reclaimed >= 2
    assert clock.now - dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.timezone.utc) < LEASE


def test_a_dead_pid_on_this_host_is_forgotten_at_the_first_heartbeat(db, clock):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    pid = int(gone.stdout)
    add_rows(db, ("u1", "a"), now=clock.now)
    dead = OutboxSender(db, {"messenger": Recorder()}, clock=clock, owner="dead-pid")
    dead._claim(10, (0, 1))
    with db.session() as s:
        s.add(Process(owner="dead-pid", host=dead.host, pid=pid, started_at=clock.now, seen_at=clock.now))
    alive = Recorder()
    restarted = OutboxSender(db, {"messenger": alive}, clock=clock, owner="restarted")
    restarted.heartbeat()  # the first beat sees the old pid is gone
    assert restarted.send_due() == 1 and alive.sent == [("u1", "a")]


def test_clean_stop_hands_rows_back(db, clock):
    add_rows(db, ("u1", "a"), now=clock.now)
    a = OutboxSender(db, {"messenger": Recorder()}, clock=clock, owner="A")
    a.heartbeat(force=True)
    a._claim(10, (0, 1))
    a.retire()
    assert statuses(db) == {"a": ("pending", None)}
    with db.read() as s:
        assert s.get(Process, "A") is None


def test_a_failing_recipient_holds_back_only_its_own_replies(db, clock):
    add_rows(db, ("bad", "1"), ("bad", "2"), ("good", "3"), now=clock.now)
    sender = Recorder(fail_for={"bad"})
    outbox = OutboxSender(db, {"messenger": sender}, clock=clock, owner="A")
    outbox.send_due()
    assert sender.sent == [("good", "3")]
    state = statuses(db)
    assert state["1"][0] == "pending" and state["2"][0] == "pending" and state["3"][0] == "sent"
    sender.fail_for.clear()
    clock.now += dt.timedelta(minutes=1)
    while outbox.send_due():
        pass
    assert sender.sent[1:] == [("bad", "1"), ("bad", "2")]  # in order


def test_shards_split_recipients(db, clock):
    recipients = [f"user-{i}" for i in range(20)]
    add_rows(db, *[(r, r) for r in recipients], now=clock.now)
    sender = Recorder()
    outbox = OutboxSender(db, {"messenger": sender}, clock=clock, owner="A")
    outbox.send_due(limit=50, shard=(1, 4))
    assert sender.sent and all(shard_of(r, 4) == 1 for r, _ in sender.sent)
    assert len(sender.sent) == sum(1 for r in recipients if shard_of(r, 4) == 1)
