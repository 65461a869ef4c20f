"""BOT_ENGINE=rasa on our side of the protocol, against a fake Rasa server (fast tier).

The real Rasa 3.6 answers in tests/test_rasa_integration.py (slow tier, Python 3.10)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from bot.config import Settings
from bot.inbox import MAX_ATTEMPTS
from bot.storage.models import InboxEvent, Message, OutboxMessage, Ticket
from tests.conftest import fb_body, fb_post, fb_text
from tests.fakes.rasa import FakeRasa
from tests.fakes.servers import Fault


def _script(message: str):
    if "gặp cán bộ" in message:
        return "request_human", [{"text": "Đã chuyển cán bộ."}]
    if "phép năm" in message:
        return "faq/nghi_phep_nam", [{"text": "Người lao động làm đủ 12 tháng được nghỉ 12 ngày phép năm.",
                                      "buttons": [{"title": "Gặp cán bộ", "payload": "/request_human"}]}]
    return "greet", [{"text": "Xin chào từ Rasa"}]


@pytest.fixture
def fake_rasa():
    server = FakeRasa(script=_script)
    yield server
    server.close()


@pytest.fixture
def rasa_app(make_app, channel_config, fake_rasa):
    return make_app({**channel_config, "BOT_ENGINE": "rasa", "RASA_URL": fake_rasa.url, "RASA_TIMEOUT_SECONDS": 2.0})


def _send(app, psid, mid, text):
    assert fb_post(app.test_client(), fb_body(fb_text(psid, mid, text))).status_code == 200
    app.extensions["bot"].workers.drain()


def test_messenger_message_is_answered_by_rasa_through_our_outbox(rasa_app, fake_rasa, fake_graph):
    _send(rasa_app, "worker-9", "mid-1", "nghỉ phép năm được mấy ngày")
    asked = fake_rasa.sent("/webhooks/rest/webhook")
    assert len(asked) == 1
    assert asked[0].json() == {"sender": "messenger:worker-9", "message": "nghỉ phép năm được mấy ngày",
                               "metadata": {"channel": "messenger", "user_id": "worker-9", "display_name": None}}
    sent = fake_graph.wait_for(1, "/me/messages")
    assert len(sent) == 1
    message = sent[0].json()["message"]
    assert "12 ngày phép năm" in message["text"]
    assert message["quick_replies"][0]["title"] == "Gặp cán bộ"
    db = rasa_app.extensions["bot"].db
    with db.read() as s:
        incoming = s.scalars(select(Message).where(Message.direction == "in")).one()
        assert (incoming.intent, incoming.faq_id, incoming.action) == ("faq/nghi_phep_nam", "nghi_phep_nam", "answer")
        assert s.scalar(select(InboxEvent.status)) == "done"


def test_rasa_down_the_event_is_retried_then_handed_off_never_lost(make_app, channel_config, fake_graph, fake_rasa):
    app = make_app({**channel_config, "BOT_ENGINE": "rasa", "RASA_URL": fake_rasa.url, "RASA_TIMEOUT_SECONDS": 1.0})
    fake_rasa.inject(Fault(status=503))
    _send(app, "worker-3", "mid-3", "cho hỏi lương tối thiểu vùng")
    db = app.extensions["bot"].db
    with db.read() as s:
        event = s.scalars(select(InboxEvent)).one()
        assert (event.status, event.attempts, event.error) == ("pending", 1, "RasaUnavailable")
        assert event.locked_until is not None
        assert s.scalars(select(OutboxMessage)).all() == []
    # Rasa answers again: the retried event gets Rasa's reply, once.
    with db.session() as s:
        s.execute(update(InboxEvent).values(locked_until=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    app.extensions["bot"].workers.drain()
    assert [r.json()["message"]["text"] for r in fake_graph.wait_for(1, "/me/messages")][0].endswith("Xin chào từ Rasa")

    # Down through the last attempt: an officer gets the question, the worker the ticket code.
    fake_rasa.inject(*[Fault(status=500)] * MAX_ATTEMPTS)
    _send(app, "worker-4", "mid-4", "công ty nợ lương 3 tháng")
    with db.session() as s:
        s.execute(update(InboxEvent).where(InboxEvent.sender_id == "worker-4")
                  .values(attempts=MAX_ATTEMPTS - 1, locked_until=None))
    app.extensions["bot"].workers.drain()
    with db.read() as s:
        event = s.scalars(select(InboxEvent).where(InboxEvent.sender_id == "worker-4")).one()
        ticket = s.scalars(select(Ticket).where(Ticket.user_id == "worker-4")).one()
    assert event.status == "done"
    assert ticket.reason == "rasa_unavailable" and ticket.question == "công ty nợ lương 3 tháng"
    assert ticket.due_at - ticket.created_at == dt.timedelta(hours=24)
    texts = [r.json()["message"]["text"] for r in fake_graph.wait_for(2, "/me/messages")]
    assert ticket.code in texts[-1]


def test_while_a_ticket_is_open_rasa_is_not_asked_and_the_message_joins_the_ticket(rasa_app, fake_rasa, fake_graph):
    db = rasa_app.extensions["bot"].db
    _send(rasa_app, "worker-5", "mid-5", "xin chào")
    from bot.handoff import tickets
    from bot.storage.models import Conversation, utcnow

    with db.session() as s:
        conv = s.scalars(select(Conversation)).one()
        tickets.open_ticket(s, conv, tickets.HandOff("cần gặp cán bộ", "request_human"), utcnow(), 24)
    _send(rasa_app, "worker-5", "mid-6", "em bổ sung: công ty ở KCN")
    assert len(fake_rasa.sent("/webhooks/rest/webhook")) == 1
    with db.read() as s:
        follow = s.scalars(select(Message).where(Message.text == "em bổ sung: công ty ở KCN")).one()
        assert follow.ticket_id is not None and follow.action == "listen"


def test_readyz_reports_the_rasa_server(make_app, channel_config, fake_rasa):
    up = make_app({**channel_config, "BOT_ENGINE": "rasa", "RASA_URL": fake_rasa.url}).test_client().get("/readyz")
    assert up.status_code == 200 and up.get_json()["checks"]["model"]["ok"] is True
    down = make_app({**channel_config, "BOT_ENGINE": "rasa", "RASA_URL": "http://127.0.0.1:9"}).test_client().get("/readyz")
    assert down.status_code == 503
    assert "Không kết nối được Rasa" in down.get_json()["checks"]["model"]["error"]


def test_bot_engine_accepts_native_or_rasa_only():
    assert Settings.load({}, environ={})["BOT_ENGINE"] == "native"
    assert Settings.load({"BOT_ENGINE": "Rasa"})["BOT_ENGINE"] == "rasa"
    with pytest.raises(ValueError, match="BOT_ENGINE"):
        Settings.load({"BOT_ENGINE": "dialogflow"})


def test_the_action_server_serves_the_queue_handoff():
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    assert executor.actions["action_handoff"].__self__.__class__.__name__ == "ActionHandoffToQueue"
    assert executor.actions["action_answer_faq"].__self__.__class__.__name__ == "ActionAnswerFAQ"


def _tracker(sender, text, intent, metadata=None, channel="rest"):
    from rasa_sdk import Tracker

    latest = {"text": text, "intent": {"name": intent, "confidence": 0.93}, "metadata": metadata or {}}
    events = [{"event": "user", "text": text, "input_channel": channel, "parse_data": latest}]
    return Tracker(sender, {}, latest, events, False, None, {}, None)


def test_rasa_handoff_opens_one_ticket_per_conversation_in_our_queue(database_url):
    from rasa_sdk.executor import CollectingDispatcher

    from actions.handoff_queue import ActionHandoffToQueue, open_for
    from bot.storage import Database

    settings = Settings.load({"DATABASE_URL": database_url})
    ours = _tracker("messenger:psid-7", "cho em gặp cán bộ", "request_human", {"channel": "messenger", "user_id": "psid-7"})
    first, again = open_for(ours, settings), open_for(ours, settings)
    assert first["ticket_code"] == again["ticket_code"]
    theirs = _tracker("rasa-user-1", "công ty nợ lương", "nlu_fallback", channel="facebook")
    other = open_for(theirs, settings)
    db = Database(database_url)
    try:
        with db.read() as s:
            rows = {t.code: t for t in s.scalars(select(Ticket))}
            transcript = s.scalars(select(Message).where(Message.ticket_id == rows[other["ticket_code"]].id)).all()
    finally:
        db.dispose()
    assert len(rows) == 2
    mine = rows[first["ticket_code"]]
    assert (mine.channel, mine.user_id, mine.reason, mine.question) == ("messenger", "psid-7", "request_human", "cho em gặp cán bộ")
    assert mine.due_at - mine.created_at == dt.timedelta(hours=24)
    assert (rows[other["ticket_code"]].channel, rows[other["ticket_code"]].reason) == ("messenger", "fallback")
    assert [m.text for m in transcript] == ["công ty nợ lương"]

    # The action renders the Vietnamese notice with the code.
    from actions.resources import Resources

    dispatcher = CollectingDispatcher()
    events = ActionHandoffToQueue(Resources.load(settings)).run(
        dispatcher, _tracker("zalo:u-1", "gặp cán bộ giúp em", "request_human", {"channel": "zalo", "user_id": "u-1"}), {})
    code = next(e["value"] for e in events if e.get("name") == "ticket_code")
    text = dispatcher.messages[0]["text"]
    assert code in text and "24 giờ" in text, text


def test_rest_channel_answers_through_rasa_and_says_503_while_it_is_down(rasa_app, fake_rasa):
    client = rasa_app.test_client()
    ok = client.post("/webhooks/rest/webhook", json={"sender": "web-1", "message": "nghỉ phép năm"})
    assert ok.status_code == 200
    assert "12 ngày phép năm" in ok.get_json()[0]["text"]
    assert fake_rasa.sent("/webhooks/rest/webhook")[-1].json()["sender"] == "web:web-1"
    fake_rasa.inject(Fault(status=502))
    down = client.post("/webhooks/rest/webhook", json={"sender": "web-2", "message": "xin chào"})
    assert down.status_code == 503
    assert down.get_json()["error"] == "rasa_unavailable" and "đã được lưu" in down.get_json()["message"]
    with rasa_app.extensions["bot"].db.read() as s:
        assert s.scalars(select(InboxEvent).where(InboxEvent.sender_id == "web-2")).one().status == "pending"


def _comment(cid, text):
    import time

    value = {"from": {"id": f"user-{cid}", "name": "Lê Thị Hạnh"}, "post": {"id": "PAGE_post"}, "message": text, "post_id": "PAGE_post",
             "comment_id": cid, "created_time": int(time.time()), "item": "comment", "parent_id": "PAGE_post", "verb": "add"}
    return {"object": "page", "entry": [{"id": "PAGE", "time": int(time.time()), "changes": [{"field": "feed", "value": value}]}]}


def test_fanpage_comments_are_sorted_by_rasa_and_answered_privately_and_publicly(make_app, channel_config, fake_rasa, fake_graph):
    """The comments channel stays ours with BOT_ENGINE=rasa: Rasa's NLU says what a comment asks,
    our comment turn sends one private answer (+ a short public reply) or a ticket code only."""
    from tests.fakes.nlu import ScriptedNLU

    nlu = ScriptedNLU()
    app = make_app({**channel_config, "BOT_ENGINE": "rasa", "RASA_URL": fake_rasa.url, "RASA_TIMEOUT_SECONDS": 2.0}, nlu=nlu)
    client = app.test_client()
    assert fb_post(client, _comment("c-faq", "cho em hỏi nghỉ phép năm được mấy ngày ạ?")).status_code == 200
    assert fb_post(client, _comment("c-human", "cho em gặp cán bộ công đoàn được không ạ?")).status_code == 200
    app.extensions["bot"].workers.drain()

    assert sorted(r.json()["text"] for r in fake_rasa.sent("/model/parse")) == [
        "cho em gặp cán bộ công đoàn được không ạ?", "cho em hỏi nghỉ phép năm được mấy ngày ạ?"]
    assert nlu.calls == []  # our own model was not asked
    assert fake_rasa.sent("/webhooks/rest/webhook") == []  # a comment is not a Rasa conversation
    private = {r.json()["recipient"]["comment_id"]: r.json()["message"]["text"] for r in fake_graph.sent("/me/messages")}
    public = [r.path for r in fake_graph.sent("/comments")]
    with app.extensions["bot"].db.read() as s:
        ticket = s.scalars(select(Ticket)).one()
    assert set(private) == {"c-faq", "c-human"}
    assert ticket.code in private["c-human"] and ticket.code not in private["c-faq"]
    assert public == ["/v21.0/c-faq/comments"]  # the personal request gets no public reply
