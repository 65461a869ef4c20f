"""Replies handed straight from the turn to this process's sending threads (bot.outbox.DirectDelivery):
leased in the turn's transaction, never claimed twice, and never ahead of an older reply to the
same person. Through the runtime's Python API on the test database, with the real Messenger sender
against the fake Graph API."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from sqlalchemy import select, update

from bot.outbox import STALE, DirectDelivery
from bot.storage import DatabaseUnavailable
from bot.storage.models import OutboxMessage, Process, utcnow

from .conftest import fb_body, fb_post, fb_text


@pytest.fixture
def runtime(channel_app):
    return channel_app.extensions["bot"]


@pytest.fixture
def handed(runtime):
    """The sending threads' queue, as a list; the delivery is in place as when workers run."""
    got: list[tuple] = []
    runtime.dialogue.delivery = DirectDelivery(runtime.outbox, got.append)
    yield got
    runtime.dialogue.delivery = None


def rows(runtime):
    with runtime.db.read() as s:
        return [(r.recipient_id, r.status, r.lease_owner) for r in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_a_reply_is_leased_in_the_turn_and_handed_to_the_senders(channel_app, runtime, handed, fake_graph):
    runtime.outbox.heartbeat(force=True)
    fb_post(channel_app.test_client(), fb_body(fb_text("d1", "direct-1", "xin chào")))
    assert runtime.workers.run_inbox_once() == 1
    assert len(handed) == 1 and handed[0][2] == "d1" and "Chào bạn" in handed[0][3]["text"]
    assert rows(runtime) == [("d1", "sending", runtime.outbox.owner)]
    assert runtime.outbox.send_due() == 0  # leased to this process: the dispatcher does not claim it again
    runtime.outbox.send_one(handed[0], set())
    assert rows(runtime) == [("d1", "sent", None)]
    [sent] = fake_graph.sent("/me/messages")
    assert sent.json()["recipient"]["id"] == "d1"
    # The same person again, nothing of theirs waiting: leased at once too.
    fb_post(channel_app.test_client(), fb_body(fb_text("d1", "direct-1b", "cảm ơn ad")))
    runtime.workers.run_inbox_once()
    assert len(handed) == 2 and handed[1][2] == "d1"
    assert rows(runtime)[-1] == ("d1", "sending", runtime.outbox.owner)


def test_without_a_fresh_heartbeat_the_reply_waits_for_the_dispatcher(channel_app, runtime, handed, fake_graph):
    # Another process could not tell this one is alive, and would take the row back: no direct lease.
    fb_post(channel_app.test_client(), fb_body(fb_text("d2", "direct-2", "xin chào")))
    runtime.workers.run_inbox_once()
    assert handed == [] and rows(runtime) == [("d2", "pending", None)]
    runtime.workers.drain()
    assert [r.json()["recipient"]["id"] for r in fake_graph.sent("/me/messages")] == ["d2"]


def test_an_older_reply_still_waiting_keeps_its_place(channel_app, runtime, handed, fake_graph):
    runtime.outbox.heartbeat(force=True)
    client = channel_app.test_client()
    fb_post(client, fb_body(fb_text("d3", "direct-3a", "xin chào")))
    runtime.workers.run_inbox_once()
    runtime.outbox.send_one(handed.pop(), set())
    now = utcnow()
    with runtime.db.session() as s:  # an officer's reply to the same person, backing off after a failure
        conversation_id = s.scalars(select(OutboxMessage.conversation_id)).one()
        s.add(OutboxMessage(dedupe_key="older", channel="messenger", recipient_id="d3", author="officer", conversation_id=conversation_id,
                            body={"text": "trả lời cũ", "buttons": []}, status="pending",
                            next_attempt_at=now + dt.timedelta(seconds=30), created_at=now))
    fb_post(client, fb_body(fb_text("d3", "direct-3b", "cảm ơn ad")))
    runtime.workers.run_inbox_once()
    assert handed == []
    assert [status for _, status, _ in rows(runtime)] == ["sent", "pending", "pending"]
    runtime.outbox.send_due()
    assert len(fake_graph.sent("/me/messages")) == 1  # the older reply is not due yet, the newer waits behind it
    with runtime.db.session() as s:
        s.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == "older")).one().next_attempt_at = now
    runtime.workers.drain()
    texts = [r.json()["message"]["text"] for r in fake_graph.sent("/me/messages")]
    assert len(texts) == 3 and texts[1] == "trả lời cũ"


def test_a_leased_reply_of_a_stopped_process_is_taken_back(channel_app, runtime, handed, fake_graph, make_app, channel_config):
    runtime.outbox.heartbeat(force=True)
    fb_post(channel_app.test_client(), fb_body(fb_text("d4", "direct-4", "xin chào")))
    runtime.workers.run_inbox_once()
    assert len(handed) == 1  # committed and queued, then the process is killed before sending
    with runtime.db.session() as s:  # … and its heartbeat goes stale
        s.execute(update(Process).values(seen_at=utcnow() - STALE - dt.timedelta(seconds=1)))
    other = make_app(channel_config).extensions["bot"]
    other.workers.drain()
    assert [r.json()["recipient"]["id"] for r in fake_graph.sent("/me/messages")] == ["d4"]


def test_a_commit_lost_with_the_connection_does_not_strand_leased_replies(channel_app, runtime, handed, fake_graph, monkeypatch):
    """The database committed, but the connection died before it said so: the turn reports the
    database unavailable, and its leased rows (which exist) go back to the dispatchers."""
    runtime.outbox.heartbeat(force=True)
    fb_post(channel_app.test_client(), fb_body(fb_text("d5", "direct-5", "xin chào")))
    real_session = runtime.db.session

    @contextlib.contextmanager
    def committed_then_lost():
        with real_session() as session:
            yield session
        raise DatabaseUnavailable("connection lost at COMMIT")

    monkeypatch.setattr(runtime.db, "session", committed_then_lost)
    with pytest.raises(DatabaseUnavailable):
        runtime.dialogue.process(runtime.inbox.pending()[0][0])
    monkeypatch.setattr(runtime.db, "session", real_session)
    assert handed == [] and rows(runtime) == [("d5", "sending", runtime.outbox.owner)]  # written, never queued
    assert runtime.dialogue.delivery.release_unsure() == 1
    assert runtime.outbox.send_due() == 1
    assert [r.json()["recipient"]["id"] for r in fake_graph.sent("/me/messages")] == ["d5"]
    assert runtime.dialogue.delivery.release_unsure() == 0  # forgotten once handed back
