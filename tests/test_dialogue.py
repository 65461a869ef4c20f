"""Dialogue over time through the Rasa REST channel: tickets, silence while a ticket is open,
status questions, clarification by number, expiry, crash safety and restart."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.storage.models import InboxEvent, Message, OutboxMessage, Ticket, TicketEvent

from .conftest import fb_body, fb_post, fb_text


def say(client, text, sender="worker-1", message_id=None):
    body = {"sender": sender, "message": text}
    if message_id:
        body["metadata"] = {"message_id": message_id}
    response = client.post("/webhooks/rest/webhook", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_rest_contract(client):
    replies = say(client, "xin chào")
    assert replies and replies[0]["recipient_id"] == "worker-1" and "\n\nChào bạn" in replies[0]["text"]  # after the privacy notice
    assert all({"title", "payload"} <= set(b) for b in replies[0]["buttons"])


@pytest.mark.parametrize("body", [{"message": "hi"}, {"sender": "", "message": "hi"}, {"sender": "u", "message": 5}, ["x"]])
def test_rest_rejects_malformed_bodies(client, body):
    response = client.post("/webhooks/rest/webhook", json=body)
    assert response.status_code == 400 and response.get_json()["message"]


def test_empty_and_huge_messages(client):
    [reply] = say(client, "   ")
    assert "chưa nhập nội dung" in reply["text"]
    replies = say(client, "nghỉ phép năm " * 700, sender="big")  # ~10,000 characters
    assert replies and replies[0]["text"]
    too_big = client.post("/webhooks/rest/webhook", json={"sender": "big", "message": "x" * 20_001})
    assert too_big.status_code == 413 and "20000" in too_big.get_json()["message"]


@pytest.mark.parametrize("body", [[], "hi", None, 5])
def test_rest_parse_message_rejects_a_body_that_is_not_an_object(body):
    """The web layer checks this first; the parser now keeps its own contract (InvalidMessage, not AttributeError)."""
    from bot.channels.rest import InvalidMessage, parse_message

    with pytest.raises(InvalidMessage):
        parse_message(body)


def test_answer_then_unclear_opens_ticket_with_the_question(app, client):
    [answer] = say(client, "cho em hỏi nghỉ phép năm được mấy ngày")
    assert "Căn cứ" in answer["text"]
    assert {"title": "Chưa rõ, gặp cán bộ", "payload": "/feedback_unclear"} in answer["buttons"]
    [handoff] = say(client, "/feedback_unclear")
    assert "CD-" in handoff["text"] and "24 giờ" in handoff["text"]
    with app.extensions["bot"].db.session() as s:
        ticket = s.scalars(select(Ticket)).one()
        assert ticket.question == "cho em hỏi nghỉ phép năm được mấy ngày"
        assert ticket.code in handoff["text"] and ticket.status == "open"
        assert abs((ticket.due_at - ticket.created_at) - dt.timedelta(hours=24)) < dt.timedelta(seconds=5)
        transcript = s.scalars(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id)).all()
        assert [m.author for m in transcript] == ["worker", "bot", "worker", "bot"]


def test_bot_is_silent_while_ticket_open_and_answers_status(app, client):
    [handoff] = say(client, "cho em gặp cán bộ công đoàn", sender="w2")
    code = handoff["text"].split("mã phiếu của bạn là ")[1].split(".")[0]
    assert say(client, "em bổ sung: em làm ở công ty may được 3 năm", sender="w2") == []
    assert say(client, "lương tối thiểu vùng là bao nhiêu", sender="w2") == []
    [status] = say(client, "trạng thái", sender="w2")
    assert code in status["text"] and "chờ cán bộ" in status["text"]
    with app.extensions["bot"].db.session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.code == code)).one()
        n = s.scalar(select(func.count()).select_from(Message).where(Message.ticket_id == ticket.id, Message.author == "worker"))
        assert n == 4
        actions = [e.action for e in s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))]
        assert actions.count("follow_up") == 2


def test_follow_up_reopens_answered_ticket(app, client):
    say(client, "cho em gặp cán bộ", sender="w3")
    with app.extensions["bot"].db.session() as s:
        ticket = s.scalars(select(Ticket)).one()
        ticket.status = "answered"
    assert say(client, "em bổ sung là em làm ca đêm ở xưởng may", sender="w3") == []
    with app.extensions["bot"].db.session() as s:
        assert s.scalars(select(Ticket)).one().status == "open"


def test_complaint_is_high_priority_handoff(app, client):
    [reply] = say(client, "cty TNHH May ABC nợ lương em 3 tháng rồi, giờ em phải làm sao, giúp em với", sender="w4")
    assert "CD-" in reply["text"]
    with app.extensions["bot"].db.session() as s:
        ticket = s.scalars(select(Ticket)).one()
        assert ticket.reason == "complaint" and ticket.priority == "high"


def test_escalate_always_entry_hands_off_without_promises(app, client):
    [reply] = say(client, "/faq/ct_tet_sum_vay", sender="w5")
    assert "CD-" in reply["text"]
    with app.extensions["bot"].db.session() as s:
        assert s.scalars(select(Ticket)).one().reason == "escalate_always"


def test_clarify_then_choose_by_number(app, client):
    runtime = app.extensions["bot"]
    model = runtime.engine.model
    old = (model.threshold, model.margin, model.clarify_floor)
    model.threshold, model.margin, model.clarify_floor = 1.01, 0.0, 0.0  # nothing is sure enough: "Ý bạn là…?"
    try:
        [clarify] = say(client, "nghỉ phép", sender="w6")
    finally:
        model.threshold, model.margin, model.clarify_floor = old
    assert clarify["text"].split("\n\n", 1)[1].startswith("Mình chưa chắc")  # after the privacy notice (first contact)
    faq_buttons = [b for b in clarify["buttons"] if b["payload"].startswith("/faq/")]
    assert 1 <= len(faq_buttons) <= 3
    [answer] = say(client, "1", sender="w6")
    first = runtime.engine.kb.get(faq_buttons[0]["payload"][len("/faq/"):])
    assert answer["text"] == first.render(runtime.engine.responses.context)


def test_feedback_is_recorded(app, client):
    say(client, "lương tối thiểu vùng 2026", sender="w7")
    [thanks] = say(client, "/feedback_good", sender="w7")
    assert "Cảm ơn" in thanks["text"]
    from bot.storage.models import Feedback

    with app.extensions["bot"].db.session() as s:
        fb = s.scalars(select(Feedback)).one()
        assert fb.helpful and fb.faq_id.startswith("luong_toi_thieu_vung")


def test_redelivered_rest_message_gets_the_same_answer_once(app, client):
    first = say(client, "xin chào", sender="w8", message_id="abc-1")
    second = say(client, "xin chào", sender="w8", message_id="abc-1")
    assert first == second
    with app.extensions["bot"].db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == len(first)


def test_state_expires_after_inactivity(app, client):
    runtime = app.extensions["bot"]
    say(client, "nghỉ phép năm mấy ngày", sender="w9")
    from bot.storage.models import Conversation

    with runtime.db.session() as s:
        conv = s.scalars(select(Conversation).where(Conversation.user_id == "w9")).one()
        assert conv.slots.get("last_faq_id")
        conv.last_activity_at = conv.last_activity_at - dt.timedelta(hours=3)
    say(client, "ok", sender="w9")
    with runtime.db.session() as s:
        conv = s.scalars(select(Conversation).where(Conversation.user_id == "w9")).one()
        assert "last_faq_id" not in conv.slots


def test_crash_during_processing_loses_nothing_and_duplicates_nothing(channel_app, fake_graph, monkeypatch):
    runtime = channel_app.extensions["bot"]
    fb_post(channel_app.test_client(), fb_body(fb_text("crash-user", "crash-1", "xin chào")))
    real = runtime.engine.act
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("simulated crash in the middle of processing")
        return real(*args, **kwargs)

    monkeypatch.setattr(runtime.engine, "act", flaky)
    runtime.workers.run_inbox_once()
    with runtime.db.session() as s:
        event = s.scalars(select(InboxEvent)).one()
        assert event.status == "pending" and event.attempts == 1 and event.error == "RuntimeError"
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert s.scalar(select(func.count()).select_from(Message)) == 0
        event.locked_until = None
    runtime.workers.drain()
    runtime.workers.drain()
    assert len(fake_graph.sent("/me/messages")) == 1


def test_restart_resumes_unfinished_inbox_and_outbox(make_app, channel_config, fake_graph):
    first = make_app(channel_config)
    fb_post(first.test_client(), fb_body(fb_text("r1", "restart-1", "xin chào"), fb_text("r2", "restart-2", "cảm ơn")))
    first.extensions["bot"].shutdown()  # "crash" before any processing
    assert fake_graph.sent("/me/messages") == []
    make_app({**channel_config, "WORKER_MODE": "thread"}, start=True)
    got = fake_graph.wait_for(2, "/me/messages", timeout=15)
    assert sorted(r.json()["recipient"]["id"] for r in got) == ["r1", "r2"]


def test_a_rest_message_a_worker_took_first_is_still_answered_in_the_response(app, client, monkeypatch):
    """On PostgreSQL a worker round may claim the REST event before the request's own turn does
    (the request then finds it held): the response waits for that worker's commit and carries its
    replies, instead of an empty answer whose replies nobody would ever fetch."""
    import threading

    runtime = app.extensions["bot"]
    real_process = runtime.dialogue.process

    def taken_by_a_worker(event_id, text=None):
        threading.Timer(0.3, real_process, args=(event_id,)).start()  # the worker commits 0.3 s later
        return None  # what the request's claim sees meanwhile: the row is held

    monkeypatch.setattr(runtime.dialogue, "process", taken_by_a_worker)
    replies = say(client, "xin chào", sender="raced")
    assert replies and "Chào bạn" in replies[0]["text"]
