"""Messenger channel end to end: signed webhooks in, the real Send API client out to a fake Graph API."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.channels.base import SendContext, WindowClosedError, split_text
from bot.channels.messenger import MAX_TEXT, MessengerSender, parse_webhook, verify_signature
from bot.storage.models import InboxEvent, OutboxMessage

from .conftest import FB_VERIFY, fb_body, fb_post, fb_text
from .fakes.servers import Fault


def drain(app):
    app.extensions["bot"].workers.drain()


def sends(fake):
    return [r.json() for r in fake.sent("/me/messages") if "message" in r.json()]


def test_verification_handshake(channel_app):
    client = channel_app.test_client()
    ok = client.get("/webhooks/facebook/webhook", query_string={"hub.mode": "subscribe", "hub.verify_token": FB_VERIFY, "hub.challenge": "12345"})
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "12345"
    bad = client.get("/webhooks/facebook/webhook", query_string={"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"})
    assert bad.status_code == 403


def test_text_message_answered_with_citation_and_quick_replies(channel_app, fake_graph):
    client = channel_app.test_client()
    response = fb_post(client, fb_body(fb_text("psid-1", "mid-1", "cho em hỏi nghỉ phép năm được mấy ngày ạ")))
    assert response.status_code == 200 and response.get_data(as_text=True) == "EVENT_RECEIVED"
    drain(channel_app)
    [req] = fake_graph.sent("/me/messages")
    assert req.query["access_token"] == "page-token"
    body = req.json()
    assert body["recipient"] == {"id": "psid-1"} and body["messaging_type"] == "RESPONSE"
    assert "Căn cứ" in body["message"]["text"] and len(body["message"]["text"]) <= MAX_TEXT
    quick = body["message"]["quick_replies"]
    assert 2 <= len(quick) <= 13 and all(len(q["title"]) <= 20 for q in quick)
    assert quick[0]["payload"] == "/feedback_good"


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "sha1=abc", "sha256=zz"])
def test_forged_or_missing_signature_is_403_and_stores_nothing(channel_app, fake_graph, signature):
    client = channel_app.test_client()
    response = fb_post(client, fb_body(fb_text("psid-1", "mid-x", "xin chào")), signature=signature)
    assert response.status_code == 403
    drain(channel_app)
    assert fake_graph.sent("/me/messages") == []
    with channel_app.extensions["bot"].db.session() as s:
        assert s.scalar(select(func.count()).select_from(InboxEvent)) == 0


def test_signed_with_another_secret_is_rejected(channel_app):
    response = fb_post(channel_app.test_client(), fb_body(fb_text("p", "m", "hi")), secret="not-the-secret")
    assert response.status_code == 403


def test_batched_delivery_handles_every_entry_and_event(channel_app, fake_graph):
    body = {
        "object": "page",
        "entry": [
            {"id": "PAGE", "time": 1, "messaging": [
                fb_text("a", "m-a1", "xin chào"),
                {"sender": {"id": "PAGE"}, "recipient": {"id": "a"}, "timestamp": 1, "message": {"mid": "echo-1", "text": "x", "is_echo": True}},
                {"sender": {"id": "a"}, "recipient": {"id": "PAGE"}, "timestamp": 1, "delivery": {"mids": ["x"], "watermark": 1}},
            ]},
            {"id": "PAGE", "time": 2, "messaging": [
                fb_text("b", "m-b1", "lương tối thiểu vùng 2026"),
                {"sender": {"id": "b"}, "recipient": {"id": "PAGE"}, "timestamp": 1, "read": {"watermark": 1}},
                {"sender": {"id": "c"}, "recipient": {"id": "PAGE"}, "timestamp": int(dt.datetime.now().timestamp() * 1000),
                 "postback": {"title": "Gặp cán bộ", "payload": "/request_human", "mid": "pb-c1"}},
            ]},
        ],
    }
    assert fb_post(channel_app.test_client(), body).status_code == 200
    drain(channel_app)
    recipients = sorted(s["recipient"]["id"] for s in sends(fake_graph))
    assert recipients == ["a", "b", "c"]
    by_user = {s["recipient"]["id"]: s["message"]["text"] for s in sends(fake_graph)}
    assert "5.310.000" in by_user["b"]
    assert "CD-" in by_user["c"] and "24 giờ" in by_user["c"]


def test_redelivered_message_is_answered_once(channel_app, fake_graph):
    client = channel_app.test_client()
    body = fb_body(fb_text("psid-9", "mid-dup", "xin chào"))
    for _ in range(3):
        assert fb_post(client, body).status_code == 200
    drain(channel_app)
    assert fb_post(client, body).status_code == 200
    drain(channel_app)
    assert len(sends(fake_graph)) == 1


def test_attachment_gets_please_type_text(channel_app, fake_graph):
    event = {"sender": {"id": "p"}, "recipient": {"id": "PAGE"}, "timestamp": 1,
             "message": {"mid": "att-1", "attachments": [{"type": "image", "payload": {"url": "http://x"}}]}}
    event["timestamp"] = int(dt.datetime.now().timestamp() * 1000)
    fb_post(channel_app.test_client(), fb_body(event))
    drain(channel_app)
    [sent] = sends(fake_graph)
    assert "gõ câu hỏi" in sent["message"]["text"]


def test_quick_reply_payload_answers_that_entry(channel_app, fake_graph):
    event = fb_text("p", "qr-1", "Nghỉ việc riêng")
    event["message"]["quick_reply"] = {"payload": "/faq/nghi_viec_rieng"}
    fb_post(channel_app.test_client(), fb_body(event))
    drain(channel_app)
    [sent] = sends(fake_graph)
    assert "Điều 115" in sent["message"]["text"]


@pytest.mark.parametrize("data", [b"{not json", b"[]", b'{"object": "user", "entry": []}'])
def test_malformed_but_signed_body_is_400(channel_app, data):
    import hashlib
    import hmac

    sig = "sha256=" + hmac.new(b"fb-app-secret", data, hashlib.sha256).hexdigest()
    response = channel_app.test_client().post("/webhooks/facebook/webhook", data=data, headers={"X-Hub-Signature-256": sig})
    assert response.status_code == 400
    assert "not json" not in response.get_data(as_text=True)


@pytest.mark.parametrize("fault", [Fault(500), Fault(429), Fault(400, {"error": {"message": "limit", "code": 613}}), Fault(200, {}, delay=1.5)])
def test_transient_errors_are_retried_with_backoff_and_delivered_once(channel_app, fake_graph, fault):
    runtime = channel_app.extensions["bot"]
    fake_graph.inject(fault)
    fb_post(channel_app.test_client(), fb_body(fb_text("p", "retry-1", "xin chào")))
    # The outbox's time stands still (a little ahead, so the new reply is due): however slow the
    # run, the retry 0.5 s after the failure is not due yet within this drain.
    started = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)
    runtime.outbox.clock = lambda: started
    drain(channel_app)
    with runtime.db.session() as s:
        row = s.scalars(select(OutboxMessage)).one()
        assert row.status == "pending" and row.attempts == 1 and row.last_error
        first_retry = row.next_attempt_at
    assert first_retry.replace(tzinfo=first_retry.tzinfo or dt.timezone.utc) > started
    runtime.outbox.clock = lambda: first_retry + dt.timedelta(seconds=1)
    drain(channel_app)
    with runtime.db.session() as s:
        row = s.scalars(select(OutboxMessage)).one()
        assert row.status == "sent" and row.platform_message_id
    assert len(fake_graph.sent("/me/messages")) == 2


def test_permanent_error_is_recorded_and_not_retried(channel_app, fake_graph):
    runtime = channel_app.extensions["bot"]
    fake_graph.inject(Fault(400, {"error": {"message": "Invalid OAuth access token", "code": 190}}))
    fb_post(channel_app.test_client(), fb_body(fb_text("p", "perm-1", "xin chào")))
    drain(channel_app)
    runtime.outbox.clock = lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    drain(channel_app)
    with runtime.db.session() as s:
        row = s.scalars(select(OutboxMessage)).one()
        assert row.status == "failed" and "FACEBOOK_PAGE_ACCESS_TOKEN" in row.last_error
    assert len(fake_graph.sent("/me/messages")) == 1


def test_window_rules(fake_graph):
    sender = MessengerSender(fake_graph.url + "/v21.0", "tok")
    now = dt.datetime(2026, 11, 27, 12, tzinfo=dt.timezone.utc)

    def ctx(hours, author):
        return SendContext(now - dt.timedelta(hours=hours), 0, author, now)

    sender.send("u", {"text": "a"}, ctx(23, "bot"))
    sender.send("u", {"text": "b"}, ctx(23, "officer"))
    sender.send("u", {"text": "c"}, ctx(30, "officer"))
    bodies = [r.json() for r in fake_graph.sent("/me/messages")]
    assert [b["messaging_type"] for b in bodies] == ["RESPONSE", "RESPONSE", "MESSAGE_TAG"]
    assert bodies[2]["tag"] == "HUMAN_AGENT" and "tag" not in bodies[0]
    with pytest.raises(WindowClosedError, match="7 ngày"):
        sender.send("u", {"text": "d"}, ctx(24 * 7 + 1, "officer"))
    with pytest.raises(WindowClosedError, match="24 giờ"):
        sender.send("u", {"text": "e"}, ctx(25, "bot"))
    assert len(fake_graph.sent("/me/messages")) == 3


def test_long_text_split_on_sentences_with_quick_replies_last(fake_graph):
    sender = MessengerSender(fake_graph.url + "/v21.0", "tok")
    now = dt.datetime.now(dt.timezone.utc)
    text = " ".join(f"Câu số {i} nói về quyền lợi của người lao động." for i in range(120))
    buttons = [{"title": f"Lựa chọn số {i} rất dài", "payload": f"/faq/x{i}"} for i in range(20)]
    requests = sender.build_requests("u", {"text": text, "buttons": buttons}, SendContext(now, 0, "bot", now))
    assert len(requests) >= 3
    assert all(len(r["message"]["text"]) <= 2000 for r in requests)
    assert all(r["message"]["text"].endswith(".") for r in requests)
    assert "".join(r["message"]["text"] for r in requests).replace(" ", "") == text.replace(" ", "")
    assert "quick_replies" not in requests[0]["message"]
    quick = requests[-1]["message"]["quick_replies"]
    assert len(quick) == 13 and all(len(q["title"]) <= 20 for q in quick)


def test_split_text_never_loses_characters():
    text = "a" * 4500
    parts = split_text(text, 2000)
    assert [len(p) for p in parts] == [2000, 2000, 500]


def test_parse_webhook_rejects_non_page_objects():
    with pytest.raises(ValueError):
        parse_webhook({"object": "instagram", "entry": []})
    assert verify_signature("s", b"x", None) is False


def test_malformed_events_are_skipped_not_a_crash():
    """Found by tests/test_properties.py: a non-object ``sender`` raised AttributeError, a non-list
    ``messaging`` TypeError, and a non-string postback title reached the inbox, which slices it."""
    good = fb_text("psid-ok", "mid-ok", "xin chào")
    body = fb_body({"sender": "psid-1", "message": {"mid": "m1", "text": "hi"}},
                   {"sender": {"id": "psid-2"}, "postback": {"title": {"a": 1}, "payload": "/greet", "mid": "m2"}}, good)
    body["entry"].append({"id": "PAGE", "messaging": 5})
    messages = parse_webhook(body)
    assert [(m.sender_id, m.kind, m.text) for m in messages] == [("psid-2", "postback", None), ("psid-ok", "text", "xin chào")]


def test_a_malformed_event_does_not_lose_the_rest_of_the_batch(channel_app):
    body = fb_body({"sender": "psid-1", "message": {"mid": "m1", "text": "hi"}}, fb_text("psid-ok", "mid-ok", "xin chào"))
    assert fb_post(channel_app.test_client(), body).status_code == 200
    with channel_app.extensions["bot"].db.session() as s:
        assert s.scalars(select(InboxEvent.sender_id)).all() == ["psid-ok"]


def test_channel_without_secrets_is_disabled(app, caplog):
    client = app.test_client()
    response = fb_post(client, fb_body(fb_text("p", "m", "hi")))
    assert response.status_code == 404
    assert response.get_json()["error"] == "channel_disabled"


def test_typing_indicator_before_a_reply_sent_in_parts(fake_graph):
    sender = MessengerSender(fake_graph.url + "/v21.0", "tok")
    now = dt.datetime.now(dt.timezone.utc)
    sender.send("u", {"text": "Câu trả lời dài. " * 200}, SendContext(now, 0, "bot", now))
    bodies = [r.json() for r in fake_graph.sent("/me/messages")]
    assert bodies[0] == {"recipient": {"id": "u"}, "sender_action": "typing_on"}
    assert len(bodies) >= 3 and all("message" in b for b in bodies[1:])
