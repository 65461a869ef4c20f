"""Several units in one deployment, end to end against the fake Graph and Zalo servers: two pages and
one OA of three units; each message is answered through the page/OA that received it, with that
unit's own hotline and name; unknown pages/OAs are acknowledged and dropped; per-OA token refresh."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from bot.channels.zalo import expected_signature
from bot.cli import main
from bot.secretbox import SecretBox
from bot.storage.models import Conversation, InboxEvent, OutboxMessage, PlatformToken, Ticket, Unit, UnitAccount

from .conftest import FB_SECRET, ZALO_APP_ID, cli_caller, fb_body, fb_post, fb_text, zalo_text

KEY = Fernet.generate_key().decode()
FAQ = "/faq/cong_doan_gia_nhap_quyen_loi"  # its answer says "gọi {hotline} ({office_hours})"


@pytest.fixture
def federation(make_app, channel_config, runner):
    app = make_app({**channel_config, "SECRETS_KEY": KEY})
    env = {"DATABASE_URL": channel_config["DATABASE_URL"], "SECRETS_KEY": KEY}

    cli = cli_caller(runner, env)

    db = app.extensions["bot"].db
    cli("units", "add", "Liên đoàn Lao động Quận 1", "--short", "LĐLĐ Quận 1", "--hotline", "028 3829 1111")
    cli("units", "add", "Công đoàn các Khu chế xuất và công nghiệp", "--short", "CĐ KCX-KCN", "--hotline", "028 3730 2222")
    cli("units", "add", "Liên đoàn Lao động khu vực Bình Dương", "--short", "LĐLĐ KV Bình Dương", "--hotline", "0274 382 3333",
        "--office-hours", "7 giờ 30 đến 16 giờ 30")
    with db.read() as s:
        ids = {u.short_name: u.id for u in s.scalars(select(Unit))}
    cli("units", "account", "add", "messenger", "PAGE_Q1", "--unit", str(ids["LĐLĐ Quận 1"]), "--secrets-stdin",
        input="page_access_token=token-q1\napp_secret=secret-q1\n")
    cli("units", "account", "add", "messenger", "PAGE_BD", "--unit", str(ids["LĐLĐ KV Bình Dương"]), "--secrets-stdin",
        input="page_access_token=token-bd\n")  # no app secret of its own: the app's (FACEBOOK_APP_SECRET)
    cli("units", "account", "add", "zalo", "OA_KCN", "--unit", str(ids["CĐ KCX-KCN"]), "--app-id", ZALO_APP_ID, "--secrets-stdin",
        input="oa_secret_key=oa-kcn-secret\napp_secret=app-secret\naccess_token=access-1\nrefresh_token=refresh-1\n")
    return app, ids


def drain(app):
    app.extensions["bot"].workers.drain()


def page_event(page, psid, mid, text):
    event = fb_text(psid, mid, text)
    event["recipient"] = {"id": page}
    return fb_body(event, page=page)


def oa_event(oa, user, msg_id, text):
    event = zalo_text(user, msg_id, text)
    event["recipient"] = {"id": oa}
    return event


def zalo_signed(client, event, oa_secret):
    import json

    raw = json.dumps(event).encode()
    sig = expected_signature(ZALO_APP_ID, raw, str(event["timestamp"]), oa_secret)
    return client.post("/webhooks/zalo/webhook", data=raw, headers={"Content-Type": "application/json", "X-ZEvent-Signature": sig})


def graph_sends(fake_graph):
    return [(r.query["access_token"], r.json()) for r in fake_graph.sent("/me/messages") if "message" in r.json()]


def test_each_page_and_oa_answers_its_own_workers_with_its_units_hotline(federation, fake_graph, fake_zalo):
    app, ids = federation
    client = app.test_client()
    assert fb_post(client, page_event("PAGE_Q1", "psid-q1", "m-q1", FAQ), secret="secret-q1").status_code == 200
    assert fb_post(client, page_event("PAGE_BD", "psid-bd", "m-bd", FAQ), secret=FB_SECRET).status_code == 200
    assert zalo_signed(client, oa_event("OA_KCN", "zu-kcn", "zm-kcn", FAQ), "oa-kcn-secret").status_code == 200
    drain(app)

    sends = graph_sends(fake_graph)
    by_page = {}
    for token, body in sends:
        by_page.setdefault(token, []).append(body)
    assert set(by_page) == {"token-q1", "token-bd"}  # never the global page token
    q1_text = " ".join(b["message"]["text"] for b in by_page["token-q1"])
    bd_text = " ".join(b["message"]["text"] for b in by_page["token-bd"])
    assert {b["recipient"]["id"] for b in by_page["token-q1"]} == {"psid-q1"}
    assert "028 3829 1111" in q1_text and "LĐLĐ Quận 1" in q1_text and "0274 382 3333" not in q1_text
    assert "0274 382 3333" in bd_text and "7 giờ 30 đến 16 giờ 30" in bd_text and "028 3829 1111" not in bd_text
    [zalo] = fake_zalo.sent("/v3.0/oa/message/cs")
    assert zalo.headers["access_token"] == "access-1"
    assert "028 3730 2222" in zalo.json()["message"]["text"] and "CĐ KCX-KCN" in zalo.json()["message"]["text"]

    with app.extensions["bot"].db.read() as s:
        convs = {c.user_id: (c.unit_id, c.account_external_id) for c in s.scalars(select(Conversation))}
        accounts = {o.recipient_id: o.account_external_id for o in s.scalars(select(OutboxMessage))}
    assert convs == {"psid-q1": (ids["LĐLĐ Quận 1"], "PAGE_Q1"), "psid-bd": (ids["LĐLĐ KV Bình Dương"], "PAGE_BD"),
                     "zu-kcn": (ids["CĐ KCX-KCN"], "OA_KCN")}
    assert accounts == {"psid-q1": "PAGE_Q1", "psid-bd": "PAGE_BD", "zu-kcn": "OA_KCN"}


def test_a_ticket_belongs_to_the_receiving_unit_and_the_officer_answer_goes_out_through_its_page(federation, fake_graph, runner):
    app, ids = federation
    client = app.test_client()
    fb_post(client, page_event("PAGE_Q1", "psid-7", "m-7", "cho em gặp cán bộ công đoàn"), secret="secret-q1")
    drain(app)
    runtime = app.extensions["bot"]
    with runtime.db.read() as s:
        ticket = s.scalars(select(Ticket)).one()
    assert (ticket.unit_id, ticket.account_external_id) == (ids["LĐLĐ Quận 1"], "PAGE_Q1")
    from bot.handoff import officers

    with runtime.db.session() as s:
        officer_id = officers.create(s, "q1@congdoan.vn", "Cán bộ Quận 1", "officer", "mat-khau-rat-dai-123").id
    from .conftest import AuthActions, add_officer

    add_officer(runner, app, "tinh@congdoan.vn")
    auth = AuthActions(app.test_client())
    auth.login("tinh@congdoan.vn")
    page = auth.client.get(f"/dashboard/tickets/{ticket.code}").get_data(as_text=True)
    assert "Đơn vị: Liên đoàn Lao động Quận 1" in page and "trang/OA PAGE_Q1" in page
    runtime.replies.send(ticket.code, officer_id, "Chào bạn, cán bộ Quận 1 sẽ gọi lại cho bạn.", resolve=False)
    drain(app)
    officer_sends = [(t, b) for t, b in graph_sends(fake_graph) if "cán bộ Quận 1 sẽ gọi lại" in b["message"]["text"]]
    assert [(t, b["recipient"]["id"]) for t, b in officer_sends] == [("token-q1", "psid-7")]


def test_signatures_are_checked_with_the_pages_own_app_secret(federation, fake_graph):
    app, _ = federation
    client = app.test_client()
    forged = fb_post(client, page_event("PAGE_Q1", "psid-f", "m-f", FAQ), secret="secret-bd-or-anything")
    assert forged.status_code == 403
    other_page = fb_post(client, page_event("PAGE_BD", "psid-g", "m-g", FAQ), secret="secret-q1")  # Q1's secret does not sign BD
    assert other_page.status_code == 403
    wrong_oa = zalo_signed(client, oa_event("OA_KCN", "zu-x", "zm-x", FAQ), "not-the-oa-secret")
    assert wrong_oa.status_code == 403
    with app.extensions["bot"].db.read() as s:
        assert s.scalar(select(func.count(InboxEvent.id))) == 0


def test_unknown_page_or_oa_is_acknowledged_logged_and_dropped(federation, fake_graph, fake_zalo, caplog):
    app, _ = federation
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        assert fb_post(client, page_event("PAGE_UNKNOWN", "psid-u", "m-u", "bí mật riêng tư của tôi")).status_code == 200
        assert zalo_signed(client, oa_event("OA_UNKNOWN", "zu-u", "zm-u", "bí mật riêng tư của tôi"),
                           "oa-secret-key").status_code == 200  # signed with the global OA key
    drain(app)
    with app.extensions["bot"].db.read() as s:
        assert s.scalar(select(func.count(InboxEvent.id))) == 0
    assert graph_sends(fake_graph) == [] and fake_zalo.sent("/v3.0/oa/message/cs") == []
    logged = caplog.text
    assert "PAGE_UNKNOWN" in logged and "OA_UNKNOWN" in logged
    assert "bí mật riêng tư" not in logged and "token-q1" not in logged and KEY not in logged


def test_zalo_token_refreshed_per_oa_and_stored_encrypted(federation, fake_zalo):
    app, _ = federation
    fake_zalo.valid_tokens = {"something-else"}  # Zalo now rejects access-1
    zalo_signed(app.test_client(), oa_event("OA_KCN", "zu-r", "zm-r", FAQ), "oa-kcn-secret")
    drain(app)
    assert [r.headers["access_token"] for r in fake_zalo.sent("/v3.0/oa/message/cs")] == ["access-1", "access-2"]
    [refresh] = fake_zalo.sent("/v4/oa/access_token")
    assert refresh.form()["refresh_token"] == "refresh-1"
    box = SecretBox(KEY)
    with app.extensions["bot"].db.read() as s:
        account = s.scalars(select(UnitAccount).where(UnitAccount.external_id == "OA_KCN")).one()
        assert "access-2" not in account.access_token
        assert (box.decrypt(account.access_token), box.decrypt(account.refresh_token)) == ("access-2", "refresh-2")
        assert account.token_expires_at is not None
        assert s.get(PlatformToken, "zalo") is None  # the global token pair is untouched


def test_web_chat_picks_the_unit(federation):
    app, ids = federation
    client = app.test_client()
    kcn = ids["CĐ KCX-KCN"]
    replies = client.post(f"/webhooks/rest/webhook?unit={kcn}", json={"sender": "web-1", "message": FAQ}).get_json()
    assert "028 3730 2222" in " ".join(r["text"] for r in replies)
    field = client.post("/webhooks/rest/webhook", json={"sender": "web-2", "message": FAQ, "unit": ids["LĐLĐ Quận 1"]}).get_json()
    assert "028 3829 1111" in " ".join(r["text"] for r in field)
    root = client.post("/webhooks/rest/webhook", json={"sender": "web-3", "message": FAQ}).get_json()
    text = " ".join(r["text"] for r in root)
    assert "028 3730 2222" not in text and "028 3829 1111" not in text
    with app.extensions["bot"].db.read() as s:
        units = {c.user_id: c.unit_id for c in s.scalars(select(Conversation))}
        root_id = s.scalar(select(Unit.id).where(Unit.is_root.is_(True)))
    assert units == {"web-1": kcn, "web-2": ids["LĐLĐ Quận 1"], "web-3": root_id}
    bad = client.post("/webhooks/rest/webhook?unit=99999", json={"sender": "web-4", "message": FAQ})
    assert bad.status_code == 400 and "Không có đơn vị số 99999" in bad.get_json()["message"]
    word = client.post("/webhooks/rest/webhook?unit=abc", json={"sender": "web-4", "message": FAQ})
    assert word.status_code == 400
    assert f'data-unit="{kcn}"' in client.get(f"/?unit={kcn}").get_data(as_text=True)


def test_each_pages_verify_token_passes_the_handshake_and_public_replies_are_per_page(federation, runner, channel_config):
    app, _ = federation
    runner.invoke(main, ["units", "account", "set", "messenger", "PAGE_BD", "--no-public-replies", "--secrets-stdin"],
                  input="verify_token=bd-verify-token\n", env={"DATABASE_URL": channel_config["DATABASE_URL"], "SECRETS_KEY": KEY})
    client = app.test_client()
    query = {"hub.mode": "subscribe", "hub.challenge": "777"}
    assert client.get("/webhooks/facebook/webhook", query_string={**query, "hub.verify_token": "bd-verify-token"}).status_code == 200
    assert client.get("/webhooks/facebook/webhook", query_string={**query, "hub.verify_token": "fb-verify-token"}).status_code == 200
    assert client.get("/webhooks/facebook/webhook", query_string={**query, "hub.verify_token": "bd-verify"}).status_code == 403
    unit_channels = app.extensions["bot"].unit_channels
    assert unit_channels.public_replies_enabled("PAGE_BD") is False
    assert unit_channels.public_replies_enabled("PAGE_Q1") is True and unit_channels.public_replies_enabled("PAGE_OTHER") is True


def test_a_zalo_follow_of_an_oa_greets_through_that_oa(federation, fake_zalo):
    app, ids = federation
    import time

    event = {"app_id": ZALO_APP_ID, "event_name": "follow", "timestamp": str(int(time.time() * 1000)), "oa_id": "OA_KCN",
             "follower": {"id": "zu-follow"}}
    assert zalo_signed(app.test_client(), event, "oa-kcn-secret").status_code == 200
    drain(app)
    [greeting] = fake_zalo.sent("/v3.0/oa/message/cs")
    assert greeting.json()["recipient"]["user_id"] == "zu-follow" and "CĐ KCX-KCN" in greeting.json()["message"]["text"]
    with app.extensions["bot"].db.read() as s:
        conv = s.scalars(select(Conversation).where(Conversation.user_id == "zu-follow")).one()
    assert (conv.unit_id, conv.account_external_id) == (ids["CĐ KCX-KCN"], "OA_KCN")


def _comment_feed(page, cid, text):
    import time

    value = {"from": {"id": f"user-{cid}", "name": "Trần Văn Nam"}, "post": {"id": f"{page}_post"}, "message": text,
             "post_id": f"{page}_post", "comment_id": cid, "created_time": int(time.time()), "item": "comment",
             "parent_id": f"{page}_post", "verb": "add"}
    return {"object": "page", "entry": [{"id": page, "time": int(time.time()), "changes": [{"field": "feed", "value": value}]}]}


def test_comments_are_answered_through_the_page_they_were_left_on_and_its_public_reply_setting(federation, fake_graph, runner):
    app, ids = federation
    result = runner.invoke(main, ["units", "account", "set", "messenger", "PAGE_BD", "--no-public-replies"],
                           env={"DATABASE_URL": app.extensions["bot"].settings["DATABASE_URL"], "SECRETS_KEY": KEY})
    assert result.exit_code == 0, result.output
    client = app.test_client()
    question = "cho em hỏi nghỉ phép năm được mấy ngày ạ"
    assert fb_post(client, _comment_feed("PAGE_Q1", "c-q1", question), secret="secret-q1").status_code == 200
    assert fb_post(client, _comment_feed("PAGE_BD", "c-bd", question), secret=FB_SECRET).status_code == 200
    assert fb_post(client, _comment_feed("PAGE_NOT_OURS", "c-x", question), secret=FB_SECRET).status_code == 200
    drain(app)

    private = [(r.query["access_token"], r.json()["recipient"]["comment_id"]) for r in fake_graph.sent("/me/messages")
               if "comment_id" in r.json().get("recipient", {})]
    public = [(r.query["access_token"], r.path) for r in fake_graph.sent("/comments")]
    assert sorted(private) == [("token-bd", "c-bd"), ("token-q1", "c-q1")]
    assert public == [("token-q1", "/v21.0/c-q1/comments")]  # PAGE_BD's account turned public replies off
    with app.extensions["bot"].db.read() as s:
        assert s.scalar(select(func.count()).select_from(InboxEvent).where(InboxEvent.sender_id == "c-x")) == 0
        units_of = {c.user_id: c.unit_id for c in s.scalars(select(Conversation))}
    assert units_of == {"c-q1": ids["LĐLĐ Quận 1"], "c-bd": ids["LĐLĐ KV Bình Dương"]}


def test_unit_details_are_cached_briefly_and_a_change_through_the_cli_applies_at_once(make_app, channel_config, fake_graph, runner):
    """What each message looks up about units is kept UNIT_CACHE_SECONDS: a change written behind
    the server's back (another process) shows after that; one made through `units set` at once."""
    import time

    from sqlalchemy import update

    app = make_app({**channel_config, "SECRETS_KEY": KEY, "UNIT_CACHE_SECONDS": 1.0})
    env = {"DATABASE_URL": channel_config["DATABASE_URL"], "SECRETS_KEY": KEY}
    assert runner.invoke(main, ["units", "add", "LĐLĐ Quận 3", "--short", "Q3", "--hotline", "028 1111 1111"], env=env).exit_code == 0
    db = app.extensions["bot"].db
    with db.read() as s:
        q3 = s.scalars(select(Unit).where(Unit.short_name == "Q3")).one().id
    result = runner.invoke(main, ["units", "account", "add", "messenger", "PAGE_Q3", "--unit", str(q3), "--secrets-stdin"],
                           input="page_access_token=token-q3\n", env=env)
    assert result.exit_code == 0, result.output
    client = app.test_client()

    def hotline_in_answer(mid):
        fb_post(client, page_event("PAGE_Q3", f"psid-{mid}", mid, FAQ), secret=FB_SECRET)
        drain(app)
        return " ".join(body["message"]["text"] for _, body in graph_sends(fake_graph) if body["recipient"]["id"] == f"psid-{mid}")

    assert "028 1111 1111" in hotline_in_answer("m1")
    with db.session() as s:  # as another process would: no cache of this one is told
        s.execute(update(Unit).where(Unit.id == q3).values(hotline="028 2222 2222"))
    assert "028 1111 1111" in hotline_in_answer("m2")  # still the cached details
    time.sleep(1.1)
    assert "028 2222 2222" in hotline_in_answer("m3")
    assert runner.invoke(main, ["units", "set", str(q3), "--hotline", "028 3333 3333"], env=env).exit_code == 0
    assert "028 3333 3333" in hotline_in_answer("m4")  # through the units functions: at once
