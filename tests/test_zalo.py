"""Zalo OA channel end to end against a local fake OpenAPI/OAuth server."""

import datetime as dt
import time

import pytest
from sqlalchemy import select

from bot.channels.base import SendContext, WindowClosedError
from bot.channels.zalo import CS_MAX_REPLIES, TokenStore, ZaloSender, expected_signature, parse_event
from bot.storage.models import OutboxMessage, PlatformToken

from .conftest import ZALO_APP_ID, zalo_post, zalo_text
from .fakes.servers import Fault


def drain(app):
    app.extensions["bot"].workers.drain()


def texts(fake):
    return [r.json()["message"]["text"] for r in fake.sent("/v3.0/oa/message/cs")]


def test_signature_is_plain_sha256_of_appid_body_timestamp_secret():
    import hashlib

    raw = b'{"a":1}'
    assert expected_signature("app", raw, "123", "sec") == "mac=" + hashlib.sha256(b'app{"a":1}123sec').hexdigest()


def test_text_message_answered_through_cs_api(channel_app, fake_zalo):
    client = channel_app.test_client()
    response = zalo_post(client, zalo_text("zu-1", "zm-1", "cho mình hỏi lương tối thiểu vùng năm nay"))
    assert response.status_code == 200 and response.get_json()["error"] == 0
    drain(channel_app)
    [req] = fake_zalo.sent("/v3.0/oa/message/cs")
    assert req.headers["access_token"] == "access-1"
    body = req.json()
    assert body["recipient"] == {"user_id": "zu-1"}
    assert "5.310.000" in body["message"]["text"]


@pytest.mark.parametrize("signature", ["", "mac=" + "0" * 64, "abc"])
def test_forged_signature_is_403(channel_app, fake_zalo, signature):
    response = zalo_post(channel_app.test_client(), zalo_text("zu", "zm-f", "xin chào"), signature=signature)
    assert response.status_code == 403
    drain(channel_app)
    assert fake_zalo.sent("/v3.0/oa/message/cs") == []


def test_wrong_secret_is_403(channel_app):
    assert zalo_post(channel_app.test_client(), zalo_text("zu", "zm", "hi"), oa_secret="other").status_code == 403


def test_echo_ignored_follow_welcomed_image_gets_text(channel_app, fake_zalo):
    client = channel_app.test_client()
    now = str(int(time.time() * 1000))
    zalo_post(client, {"app_id": ZALO_APP_ID, "event_name": "oa_send_text", "timestamp": now, "sender": {"id": "OA"},
                       "recipient": {"id": "zu-2"}, "message": {"text": "x", "msg_id": "oa-1"}})
    zalo_post(client, {"app_id": ZALO_APP_ID, "event_name": "follow", "timestamp": now, "oa_id": "OA", "follower": {"id": "zu-3"}})
    zalo_post(client, {"app_id": ZALO_APP_ID, "event_name": "user_send_image", "timestamp": now, "sender": {"id": "zu-4"},
                       "recipient": {"id": "OA"}, "message": {"msg_id": "img-1", "attachments": [{"type": "image"}]}})
    drain(channel_app)
    by_user = {r.json()["recipient"]["user_id"]: r.json()["message"]["text"] for r in fake_zalo.sent("/v3.0/oa/message/cs")}
    assert set(by_user) == {"zu-3", "zu-4"}
    assert by_user["zu-3"].startswith("Lưu ý về dữ liệu cá nhân") and "\n\nChào bạn" in by_user["zu-3"]  # first contact
    assert "gõ câu hỏi" in by_user["zu-4"]


def test_redelivery_answered_once(channel_app, fake_zalo):
    client = channel_app.test_client()
    event = zalo_text("zu-5", "zm-dup", "xin chào")
    for _ in range(3):
        zalo_post(client, event)
    drain(channel_app)
    assert len(fake_zalo.sent("/v3.0/oa/message/cs")) == 1


def test_expired_token_is_refreshed_and_new_pair_stored(channel_app, fake_zalo):
    fake_zalo.valid_tokens = {"something-else"}  # Zalo now rejects access-1 with -216
    zalo_post(channel_app.test_client(), zalo_text("zu-6", "zm-6", "xin chào"))
    drain(channel_app)
    sent = fake_zalo.sent("/v3.0/oa/message/cs")
    assert [r.headers["access_token"] for r in sent] == ["access-1", "access-2"]
    [refresh] = fake_zalo.sent("/v4/oa/access_token")
    assert refresh.form() == {"refresh_token": "refresh-1", "app_id": ZALO_APP_ID, "grant_type": "refresh_token"}
    with channel_app.extensions["bot"].db.session() as s:
        token = s.get(PlatformToken, "zalo")
        assert token.access_token == "access-2" and token.refresh_token == "refresh-2" and token.expires_at


def test_token_refreshed_before_it_expires(fake_zalo):
    now = dt.datetime(2026, 11, 27, 12, tzinfo=dt.timezone.utc)
    store = TokenStore("access-1", "refresh-1", expires_at=now + dt.timedelta(minutes=5))
    sender = ZaloSender(fake_zalo.url, fake_zalo.url, ZALO_APP_ID, "app-secret", store, clock=lambda: now)
    sender.send("u", {"text": "hi"}, SendContext(now, 0, "bot", now))
    assert len(fake_zalo.sent("/v4/oa/access_token")) == 1
    assert fake_zalo.sent("/v3.0/oa/message/cs")[0].headers["access_token"] == "access-2"
    assert store.refresh_token == "refresh-2"


def test_customer_service_window(fake_zalo):
    now = dt.datetime(2026, 11, 27, 12, tzinfo=dt.timezone.utc)
    sender = ZaloSender(fake_zalo.url, fake_zalo.url, ZALO_APP_ID, "app-secret", TokenStore("access-1", "refresh-1"))
    sender.send("u", {"text": "ok"}, SendContext(now - dt.timedelta(hours=47), CS_MAX_REPLIES - 1, "officer", now))
    with pytest.raises(WindowClosedError, match="48 giờ"):
        sender.send("u", {"text": "late"}, SendContext(now - dt.timedelta(hours=49), 0, "officer", now))
    with pytest.raises(WindowClosedError, match="8 tin"):
        sender.send("u", {"text": "too many"}, SendContext(now, CS_MAX_REPLIES, "officer", now))
    assert len(fake_zalo.sent("/v3.0/oa/message/cs")) == 1


def test_reply_count_is_tracked_and_reset_by_worker_message(channel_app, fake_zalo):
    client = channel_app.test_client()
    runtime = channel_app.extensions["bot"]
    zalo_post(client, zalo_text("zu-7", "zm-7a", "xin chào"))
    drain(channel_app)
    from bot.storage.models import Conversation

    with runtime.db.session() as s:
        conv = s.scalars(select(Conversation).where(Conversation.user_id == "zu-7")).one()
        assert conv.replies_since_user_message == 1
    zalo_post(client, zalo_text("zu-7", "zm-7b", "cảm ơn"))
    drain(channel_app)
    with runtime.db.session() as s:
        conv = s.scalars(select(Conversation).where(Conversation.user_id == "zu-7")).one()
        assert conv.replies_since_user_message == 1


def test_server_errors_retried(channel_app, fake_zalo):
    runtime = channel_app.extensions["bot"]
    fake_zalo.inject(Fault(503))
    zalo_post(channel_app.test_client(), zalo_text("zu-8", "zm-8", "xin chào"))
    drain(channel_app)
    with runtime.db.session() as s:
        row = s.scalars(select(OutboxMessage)).one()
        assert row.status == "pending" and row.attempts == 1
        retry_at = row.next_attempt_at
    runtime.outbox.clock = lambda: retry_at + dt.timedelta(seconds=1)
    drain(channel_app)
    assert len(texts(fake_zalo)) == 2
    with runtime.db.session() as s:
        assert s.scalars(select(OutboxMessage)).one().status == "sent"


def test_clarify_options_are_numbered_and_a_number_picks_one():
    body = {"text": "Ý bạn là?", "numbered_options": True,
            "buttons": [{"title": "Nghỉ phép năm", "payload": "/faq/nghi_phep_nam"}, {"title": "Gặp cán bộ", "payload": "/request_human"}]}
    [text] = ZaloSender.render_text(body)
    assert "1. Nghỉ phép năm" in text and "Gặp cán bộ" not in text


def test_parse_event_rejects_garbage():
    with pytest.raises(ValueError):
        parse_event({"foo": 1})
    assert parse_event({"event_name": "user_seen_message", "sender": {"id": "u"}, "message": {"msg_id": "1"}}) is None


@pytest.mark.parametrize("event", [
    {"event_name": "user_send_text", "sender": {"id": "u"}, "message": "hi"},
    {"event_name": "user_send_text", "sender": ["u"], "message": {"msg_id": "1", "text": "hi"}},
    {"event_name": "follow", "follower": "u"},
])
def test_malformed_nested_fields_are_ignored_not_a_crash(event):
    """Found by tests/test_properties.py: a non-object ``sender``, ``message`` or ``follower`` raised AttributeError."""
    assert parse_event(event) is None
