"""Several people's messages in one worker round: on PostgreSQL one transaction for the round
(``Dialogue.process_batch``), on SQLite one per message. Either way each person gets their own
answer once, hand-offs get their own tickets, and one message whose turn fails does not hold back
the others. Through the webhook, the workers' Python API and the fake Graph API."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event, select, update

from bot.storage.models import InboxEvent, Message, OutboxMessage, Ticket, utcnow

from .conftest import fb_body, fb_post, fb_text


def recipients_and_texts(fake_graph) -> dict[str, list[str]]:
    got: dict[str, list[str]] = {}
    for request in fake_graph.sent("/me/messages"):
        got.setdefault(request.json()["recipient"]["id"], []).append(request.json()["message"]["text"])
    return got


def count_commits(runtime) -> list[int]:
    commits = [0]

    def on_commit(conn):
        commits[0] += 1

    event.listen(runtime.db.engine, "commit", on_commit)
    return commits


def test_a_round_of_several_people_answers_each_once(channel_app, fake_graph):
    runtime = channel_app.extensions["bot"]
    client = channel_app.test_client()
    fb_post(client, fb_body(
        fb_text("b1", "batch-1", "xin chào"),
        fb_text("b2", "batch-2", "cho tôi gặp cán bộ, công ty nợ lương"),
        fb_text("b3", "batch-3", "tôi muốn gặp cán bộ"),
        fb_text("b4", "batch-4", "nghỉ phép năm được bao nhiêu ngày"),
    ))
    commits = count_commits(runtime)
    assert runtime.workers.run_inbox_once() == 4
    # The point of the batch: PostgreSQL commits the four turns together (SQLite: one by one).
    assert commits[0] == (4 if runtime.db.is_sqlite else 1)
    runtime.workers.drain()

    got = recipients_and_texts(fake_graph)
    assert sorted(got) == ["b1", "b2", "b3", "b4"]
    assert all(len(texts) == 1 for texts in got.values()), got
    assert "Chào bạn" in got["b1"][0]
    assert "ngày" in got["b4"][0].lower()
    with runtime.db.read() as s:
        tickets = {t.user_id: t for t in s.scalars(select(Ticket))}
        assert sorted(tickets) == ["b2", "b3"]
        assert tickets["b2"].code != tickets["b3"].code
        for user, ticket in tickets.items():
            assert ticket.code in got[user][0]  # each is told their own ticket code
            transcript = s.scalars(select(Message.text).where(Message.ticket_id == ticket.id, Message.direction == "in")).all()
            assert transcript == [ticket.question]  # the ticket holds its own person's message, nobody else's
        assert set(s.scalars(select(InboxEvent.status))) == {"done"}
        assert s.scalar(select(OutboxMessage.id).where(OutboxMessage.status != "sent")) is None


def test_one_failing_message_does_not_hold_back_the_others(channel_app, fake_graph, monkeypatch):
    runtime = channel_app.extensions["bot"]
    real_act = runtime.engine.act

    def act(understood, *args, **kwargs):
        if "hỏng" in understood.parse.get("text", ""):
            raise RuntimeError("injected fault in this turn only")
        return real_act(understood, *args, **kwargs)

    monkeypatch.setattr(runtime.engine, "act", act)
    fb_post(channel_app.test_client(), fb_body(
        fb_text("f1", "fail-1", "xin chào"),
        fb_text("f2", "fail-2", "xin chào, tin nhắn hỏng"),
        fb_text("f3", "fail-3", "cảm ơn ad"),
    ))
    runtime.workers.run_inbox_once()
    runtime.workers.drain()
    assert sorted(recipients_and_texts(fake_graph)) == ["f1", "f3"]
    with runtime.db.read() as s:
        failed = s.scalars(select(InboxEvent).where(InboxEvent.sender_id == "f2")).one()
        assert (failed.status, failed.attempts, failed.error) == ("pending", 1, "RuntimeError")

    # Fixed, and its backoff over: answered once, and the others are not answered again.
    monkeypatch.setattr(runtime.engine, "act", real_act)
    with runtime.db.session() as s:
        s.execute(update(InboxEvent).where(InboxEvent.sender_id == "f2").values(locked_until=utcnow() - dt.timedelta(seconds=1)))
    runtime.workers.drain()
    got = recipients_and_texts(fake_graph)
    assert sorted(got) == ["f1", "f2", "f3"] and all(len(texts) == 1 for texts in got.values())


def test_the_same_person_twice_in_one_delivery_is_answered_in_order(channel_app, fake_graph):
    runtime = channel_app.extensions["bot"]
    fb_post(channel_app.test_client(), fb_body(
        fb_text("o1", "order-1", "xin chào"),
        fb_text("o2", "order-2", "xin chào"),
        fb_text("o1", "order-3", "nghỉ phép năm được bao nhiêu ngày"),
        fb_text("o1", "order-4", "cảm ơn ad"),
    ))
    runtime.workers.drain()
    got = recipients_and_texts(fake_graph)
    assert len(got["o1"]) == 3 and len(got["o2"]) == 1
    assert "Chào bạn" in got["o1"][0] and "ngày" in got["o1"][1].lower()
    with runtime.db.read() as s:
        texts = s.scalars(select(Message.text).join(Message.conversation).where(Message.direction == "in")
                          .where(Message.conversation.has(user_id="o1")).order_by(Message.id)).all()
    assert texts == ["xin chào", "nghỉ phép năm được bao nhiêu ngày", "cảm ơn ad"]
