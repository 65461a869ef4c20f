"""Rate limits on the public endpoints, and security headers (over HTTP)."""

import socket

from sqlalchemy import func, select

from bot.storage.models import InboxEvent

REDIS_TEST_URL = "redis://127.0.0.1:6379/13"


def _say(client, sender, i, **kwargs):
    return client.post("/webhooks/rest/webhook", json={"sender": sender, "message": f"câu hỏi số {i}"}, **kwargs)


def _frozen(app, at=1_800_000_010.0):
    app.extensions["rate_limiter"].clock = lambda: at  # every request in the same one-minute window


def _stored(app, sender):
    with app.extensions["bot"].db.read() as s:
        return s.scalar(select(func.count()).select_from(InboxEvent).where(InboxEvent.sender_id == sender))


def test_a_flooding_sender_gets_429_with_retry_after_and_nothing_is_stored(make_app):
    app = make_app({"RATE_LIMIT_PER_SENDER": 5})
    _frozen(app)
    client = app.test_client()
    assert [_say(client, "flood", i).status_code for i in range(5)] == [200] * 5
    refused = _say(client, "flood", 5)
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "rate_limited"
    assert "quá nhiều tin nhắn" in refused.get_json()["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert _stored(app, "flood") == 5  # the refused message was not accepted (the widget shows the error)
    assert _say(client, "someone-else", 0).status_code == 200  # another person is not held back
    app.extensions["rate_limiter"].clock = lambda: 1_800_000_010.0 + 60  # next minute
    assert _say(client, "flood", 6).status_code == 200


def test_the_address_limit_counts_every_public_endpoint_and_trusts_a_configured_proxy(make_app):
    app = make_app({"RATE_LIMIT_PER_ADDRESS": 4, "RATE_LIMIT_PER_SENDER": 0})
    _frozen(app)
    client = app.test_client()
    codes = [_say(client, f"s{i}", i).status_code for i in range(3)]
    codes.append(client.post("/model/parse", json={"text": "lương tối thiểu"}).status_code)
    codes.append(client.post("/model/parse", json={"text": "lương tối thiểu"}).status_code)
    assert codes == [200, 200, 200, 200, 429]

    proxied = make_app({"RATE_LIMIT_PER_ADDRESS": 2, "TRUSTED_PROXY_HOPS": 1})
    _frozen(proxied)
    pc = proxied.test_client()
    # Behind the proxy each worker has their own address; without the setting they would all share one.
    assert [_say(pc, f"p{i}", i, headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code for i in range(6)] == [200] * 6
    same = [_say(pc, f"q{i}", i, headers={"X-Forwarded-For": "10.0.9.9"}).status_code for i in range(3)]
    assert same == [200, 200, 429]


def test_web_processes_share_the_counts_through_redis(make_app):
    import redis

    redis.Redis.from_url(REDIS_TEST_URL).flushdb()
    apps = [make_app({"WORKER_MODE": "redis", "REDIS_URL": REDIS_TEST_URL, "RATE_LIMIT_PER_SENDER": 3}) for _ in range(2)]
    for app in apps:
        _frozen(app, 1_800_000_130.0)
    a, b = (app.test_client() for app in apps)
    assert [_say(a, "shared", 0).status_code, _say(b, "shared", 1).status_code, _say(a, "shared", 2).status_code] == [200] * 3
    assert _say(b, "shared", 3).status_code == 429


def test_an_unreachable_counter_lets_questions_through(make_app):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app({"WORKER_MODE": "redis", "REDIS_URL": f"redis://127.0.0.1:{port}/0", "RATE_LIMIT_PER_SENDER": 1})
    client = app.test_client()
    assert [_say(client, "r", i).status_code for i in range(3)] == [200, 200, 200]


def test_security_headers(client):
    page = client.get("/dashboard/login")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    api = client.post("/model/parse", json={"text": "xin chào"})
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Frame-Options" not in client.get("/").headers  # the chat page may be framed by the union's site
