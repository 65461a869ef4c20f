"""Fanpage comments end to end: signed ``feed`` webhooks in, private and public replies out to the
fake Graph API (``bot.comments``)."""

import datetime as dt
import hashlib
import hmac
import json
import time

import pytest
from sqlalchemy import select

from bot import comments
from bot.channels import comments as comment_channel
from bot.storage.models import FacebookComment, InboxEvent, Message, OutboxMessage, Ticket, TicketEvent

from .conftest import FB_SECRET, fb_body, fb_post, fb_text
from .fakes.servers import Fault

PAGE = "PAGE"
FAQ = "cho em hỏi nghỉ phép năm được mấy ngày ạ"
PERSONAL = "công ty nợ lương em 3 tháng rồi, em phải làm sao?"


def comment(cid, text=FAQ, verb="add", sender="user-1", created=None, post="PAGE_post1", **extra):
    value = {"from": {"id": sender, "name": "Nguyễn Thị Hoa"}, "post": {"id": post, "permalink_url": f"https://www.facebook.com/{post}/c"},
             "message": text, "post_id": post, "comment_id": cid, "created_time": created if created is not None else int(time.time()),
             "item": "comment", "parent_id": post, "verb": verb}
    value.update(extra)
    return value


def feed(*values, page=PAGE, messaging=None):
    entry = {"id": page, "time": int(time.time()), "changes": [{"field": "feed", "value": v} for v in values]}
    if messaging:
        entry["messaging"] = messaging
    return {"object": "page", "entry": [entry]}


def drain(app):
    app.extensions["bot"].workers.drain()


def private_replies(fake):
    return [r.json() for r in fake.sent("/me/messages") if "comment_id" in r.json().get("recipient", {})]


def public_replies(fake):
    return [(r.path, r.json()) for r in fake.sent("/comments")]


def comment_row(app, cid):
    with app.extensions["bot"].db.read() as s:
        return s.scalars(select(FacebookComment).where(FacebookComment.comment_id == cid)).one()


# --- answering --------------------------------------------------------------------------------------


def test_faq_comment_gets_one_private_answer_then_one_public_reply(channel_app, fake_graph):
    assert fb_post(channel_app.test_client(), feed(comment("c-1"))).status_code == 200
    drain(channel_app)
    [private] = private_replies(fake_graph)
    assert private["recipient"] == {"comment_id": "c-1"}
    assert private["message"]["text"].startswith(comments.PRIVATE_FAQ_INTRO) and "Căn cứ" in private["message"]["text"]
    assert len(private["message"]["text"]) <= comment_channel.MAX_PRIVATE_TEXT
    assert "Lưu ý về dữ liệu cá nhân" in private["message"]["text"]  # first contact: the privacy notice closes it
    [(path, public)] = public_replies(fake_graph)
    assert path == "/v21.0/c-1/comments" and public == {"message": comments.PUBLIC_FAQ_TEXT}
    assert fake_graph.sent("/comments")[0].query["access_token"] == "page-token"
    # the public reply never tells the worker's question or answer
    assert "nghỉ phép" not in public["message"]
    # the private reply went first
    paths = [r.path for r in fake_graph.requests]
    assert paths.index("/v21.0/me/messages") < paths.index("/v21.0/c-1/comments")
    row = comment_row(channel_app, "c-1")
    assert (row.decision, row.private_reply, row.public_reply, row.messenger_psid) == ("faq", "sent", "sent", "psid-c-1")
    with channel_app.extensions["bot"].db.read() as s:
        assert s.scalars(select(Ticket)).all() == []


def test_personal_case_gets_a_ticket_and_only_a_private_reply(channel_app, fake_graph):
    fb_post(channel_app.test_client(), feed(comment("c-2", PERSONAL)))
    drain(channel_app)
    with channel_app.extensions["bot"].db.read() as s:
        ticket = s.scalars(select(Ticket)).one()
        assert ticket.channel == comments.CHANNEL and ticket.question == PERSONAL
        assert ticket.due_at - ticket.created_at == dt.timedelta(hours=24) and ticket.priority == "high"
        actions = [e.action for e in s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))]
        assert "from_comment" in actions
    [private] = private_replies(fake_graph)
    assert private["recipient"] == {"comment_id": "c-2"} and ticket.code in private["message"]["text"]
    assert "nợ lương" not in private["message"]["text"] and "Lưu ý về dữ liệu cá nhân" in private["message"]["text"]
    assert public_replies(fake_graph) == []
    assert comment_row(channel_app, "c-2").public_reply == "none"


def test_request_for_an_officer_is_a_ticket_even_with_public_replies_on(channel_app, fake_graph):
    fb_post(channel_app.test_client(), feed(comment("c-3", "cho em gặp cán bộ công đoàn với ạ")))
    drain(channel_app)
    assert len(private_replies(fake_graph)) == 1 and public_replies(fake_graph) == []
    assert comment_row(channel_app, "c-3").decision == "ticket"


@pytest.mark.parametrize("text", ["Hay quá, cảm ơn ad", "👍👍❤️", "@Nguyễn Văn Bình", "Nguyễn Văn Bình", "Tuyệt vời ông mặt trời!", "...",
                                  "Nghỉ phép", "Nguyễn Văn Bình Nghỉ Phép Năm", "cảm ơn công đoàn 🙏", "@Ánh Ông Ưng 😍",
                                  "Xin chia sẻ bài viết này đến mọi người"])
def test_comments_that_are_not_questions_get_nothing(channel_app, fake_graph, text):
    assert fb_post(channel_app.test_client(), feed(comment("c-np", text))).status_code == 200
    drain(channel_app)
    assert fake_graph.requests == []
    assert comment_row(channel_app, "c-np").decision == "ignore"
    with channel_app.extensions["bot"].db.read() as s:
        assert s.scalars(select(Message.action).where(Message.direction == "in")).all() == ["ignored"]
    with channel_app.extensions["bot"].db.read() as s:
        assert s.scalars(select(Ticket)).all() == [] and s.scalars(select(OutboxMessage)).all() == []


def test_a_question_after_a_tag_is_answered(channel_app, fake_graph):
    fb_post(channel_app.test_client(), feed(comment("c-tagq", "@Ánh Nguyễn cho em hỏi nghỉ phép năm được mấy ngày")))
    drain(channel_app)
    assert len(private_replies(fake_graph)) == 1 and len(public_replies(fake_graph)) == 1


def test_unanswerable_question_goes_to_officers(channel_app, fake_graph):
    fb_post(channel_app.test_client(), feed(comment("c-q", "Cho em hỏi thủ tục thành lập công đoàn cơ sở thế nào ạ?")))
    drain(channel_app)
    row = comment_row(channel_app, "c-q")
    assert row.decision == "ticket" and row.ticket_id is not None
    assert len(private_replies(fake_graph)) == 1 and public_replies(fake_graph) == []


# --- what is not answered -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    comment("c-own", sender=PAGE),  # the page's own comment
    comment("c-ed", verb="edited"),
    comment("c-rm", verb="remove"),
    comment("c-hide", verb="hide"),
    {**comment("c-like"), "item": "reaction"},
    comment("c-empty", text=""),  # a photo or sticker alone
])
def test_own_comments_edits_removals_and_other_items_get_nothing(channel_app, fake_graph, value):
    assert fb_post(channel_app.test_client(), feed(value)).status_code == 200
    drain(channel_app)
    assert fake_graph.requests == []
    with channel_app.extensions["bot"].db.read() as s:
        assert s.scalars(select(InboxEvent)).all() == []


def test_comment_removed_before_it_is_answered_is_not_answered(channel_app, fake_graph):
    client = channel_app.test_client()
    fb_post(client, feed(comment("c-del", PERSONAL)))
    fb_post(client, feed(comment("c-del", None, verb="remove")))
    drain(channel_app)
    assert fake_graph.requests == []
    assert comment_row(channel_app, "c-del").decision == "removed"


def test_removal_delivered_before_the_comment_itself(channel_app, fake_graph):
    client = channel_app.test_client()
    fb_post(client, feed(comment("c-late", None, verb="remove")))
    fb_post(client, feed(comment("c-late", FAQ)))
    drain(channel_app)
    assert fake_graph.requests == []
    assert comment_row(channel_app, "c-late").decision == "removed"


def test_comment_removed_while_its_reply_is_queued_is_not_answered(channel_app, fake_graph):
    runtime = channel_app.extensions["bot"]
    client = channel_app.test_client()
    fb_post(client, feed(comment("c-q2")))
    runtime.workers.run_inbox_once()  # decided, replies queued, nothing sent yet
    fb_post(client, feed(comment("c-q2", None, verb="remove")))
    drain(channel_app)
    assert fake_graph.requests == []
    with runtime.db.read() as s:
        row = s.scalars(select(OutboxMessage)).one()
        assert row.status == "refused" and "xóa" in row.last_error


def test_redelivery_is_answered_once(channel_app, fake_graph):
    client = channel_app.test_client()
    body = feed(comment("c-dup"))
    assert fb_post(client, body).status_code == 200
    drain(channel_app)
    assert fb_post(client, body).status_code == 200
    fb_post(client, feed(comment("c-dup", "nghỉ phép năm được mấy ngày vậy ad?")))  # same id, other text
    drain(channel_app)
    assert len(private_replies(fake_graph)) == 1 and len(public_replies(fake_graph)) == 1
    with channel_app.extensions["bot"].db.read() as s:
        assert len(s.scalars(select(InboxEvent)).all()) == 1


def test_comment_and_messages_in_one_delivery_are_each_handled(channel_app, fake_graph):
    body = feed(comment("c-mix"), comment("c-mix-own", sender=PAGE), comment("c-mix-2", PERSONAL),
                messaging=[fb_text("psid-9", "mid-9", "xin chào")])
    assert fb_post(channel_app.test_client(), body).status_code == 200
    drain(channel_app)
    recipients = [r.json()["recipient"] for r in fake_graph.sent("/me/messages")]
    assert {"id": "psid-9"} in recipients
    assert sorted(r["comment_id"] for r in recipients if "comment_id" in r) == ["c-mix", "c-mix-2"]
    assert len(public_replies(fake_graph)) == 1


# --- old comments, public replies off ------------------------------------------------------------------


def test_comment_older_than_7_days_gets_a_generic_public_reply_only(channel_app, fake_graph):
    old = int(time.time()) - 8 * 86400
    fb_post(channel_app.test_client(), feed(comment("c-old", PERSONAL, created=old)))
    drain(channel_app)
    assert private_replies(fake_graph) == []
    [(_, public)] = public_replies(fake_graph)
    assert public == {"message": comments.PUBLIC_OLD_TEXT} and "lương" not in public["message"]
    with channel_app.extensions["bot"].db.read() as s:
        assert s.scalars(select(Ticket)).all() == []


def test_public_replies_off_for_the_page(make_app, channel_config, fake_graph):
    app = make_app({**channel_config, "FACEBOOK_COMMENT_PUBLIC_REPLIES_OFF_PAGES": f"OTHER, {PAGE}"})
    client = app.test_client()
    fb_post(client, feed(comment("c-off")))
    fb_post(client, feed(comment("c-off-old", created=int(time.time()) - 8 * 86400)))
    drain(app)
    assert [p["recipient"] for p in private_replies(fake_graph)] == [{"comment_id": "c-off"}]
    assert public_replies(fake_graph) == []


def test_public_replies_switch(make_app, channel_config):
    from bot.config import Settings

    on = Settings.load(channel_config)
    assert comments.public_replies_enabled(on, PAGE)
    assert not comments.public_replies_enabled(Settings.load({**channel_config, "FACEBOOK_COMMENT_PUBLIC_REPLIES": "false"}), PAGE)
    some_off = Settings.load({**channel_config, "FACEBOOK_COMMENT_PUBLIC_REPLIES_OFF_PAGES": "111,222"})
    assert not comments.public_replies_enabled(some_off, "222") and comments.public_replies_enabled(some_off, PAGE)


# --- refusals and retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status, error, state", [
    (400, {"error": {"message": "Activity already replied to", "code": 10900}}, "already"),
    (400, {"error": {"message": "This person isn't available right now.", "code": 551}}, "failed"),
    (403, {"error": {"message": "(#200) Permissions error", "code": 200}}, "failed"),
    (400, {"error": {"message": "(#10) outside the allowed window", "code": 10}}, "failed"),
    (400, {"error": {"message": "(#100) Object does not exist", "code": 100}}, "failed"),
])
def test_refused_private_reply_is_recorded_on_the_ticket_and_not_retried(channel_app, fake_graph, status, error, state):
    runtime = channel_app.extensions["bot"]
    fake_graph.refuse_private = (status, error)
    fb_post(channel_app.test_client(), feed(comment("c-ref", PERSONAL)))
    drain(channel_app)
    runtime.outbox.clock = lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)
    drain(channel_app)
    assert len(private_replies(fake_graph)) == 1 and public_replies(fake_graph) == []
    row = comment_row(channel_app, "c-ref")
    assert row.private_reply == state and row.private_error
    with runtime.db.read() as s:
        assert s.scalars(select(OutboxMessage)).one().status == ("refused" if error["error"]["code"] == 10 else "failed")
        [event] = s.scalars(select(TicketEvent).where(TicketEvent.action == "private_reply_refused")).all()
        assert str(error["error"]["code"]) in event.detail["reason"]


def test_refused_faq_private_reply_drops_the_public_reply(channel_app, fake_graph):
    fake_graph.refuse_private = (400, {"error": {"message": "This person isn't available right now.", "code": 551}})
    fb_post(channel_app.test_client(), feed(comment("c-ref2")))
    drain(channel_app)
    assert public_replies(fake_graph) == []  # it would say "we messaged you" while nothing arrived
    row = comment_row(channel_app, "c-ref2")
    assert (row.private_reply, row.public_reply) == ("failed", "dropped")


@pytest.mark.parametrize("fault", [Fault(500), Fault(429), Fault(400, {"error": {"message": "limit", "code": 613}})])
def test_transient_errors_on_a_private_reply_are_retried_and_delivered_once(channel_app, fake_graph, fault):
    runtime = channel_app.extensions["bot"]
    fake_graph.inject(fault)
    fb_post(channel_app.test_client(), feed(comment("c-tr")))
    drain(channel_app)
    assert public_replies(fake_graph) == [] and comment_row(channel_app, "c-tr").private_reply == "queued"
    runtime.outbox.clock = lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)
    drain(channel_app)
    assert len(fake_graph.sent("/me/messages")) == 2 and len(private_replies(fake_graph)) == 2  # the failed try + the good one
    assert len(public_replies(fake_graph)) == 1
    assert comment_row(channel_app, "c-tr").private_reply == "sent"


# --- officers ------------------------------------------------------------------------------------------------


def _comment_ticket(app, cid="c-off1", text=PERSONAL):
    fb_post(app.test_client(), feed(comment(cid, text)))
    drain(app)
    with app.extensions["bot"].db.read() as s:
        return s.scalars(select(Ticket).where(Ticket.user_id == cid)).one().code


def test_officer_sees_the_comment_with_a_link_to_the_post(channel_app, auth, officer, fake_graph):
    code = _comment_ticket(channel_app)
    auth.login(officer)
    html = auth.client.get(f"/dashboard/tickets/{code}").get_data(as_text=True)
    assert "https://www.facebook.com/PAGE_post1/c" in html and "Bình luận trên fanpage" in html
    assert "nợ lương em 3 tháng" in html and "đã gửi" in html
    assert "chưa nhắn lại cho trang qua Messenger" in html


def test_api_shows_the_comment(runner, channel_app, officer, fake_graph):
    from bot.cli import main

    code = _comment_ticket(channel_app, "c-api")
    env = {"DATABASE_URL": channel_app.extensions["bot"].settings["DATABASE_URL"]}
    token = runner.invoke(main, ["officers", "token", officer], env=env).output.strip()
    body = channel_app.test_client().get(f"/api/tickets/{code}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["channel"] == comments.CHANNEL and body["comment"]["link"] == "https://www.facebook.com/PAGE_post1/c"
    assert body["comment"]["private_label"].startswith("đã gửi") and body["comment"]["removed"] is False


def test_post_link_without_permalink(channel_app, auth, officer, fake_graph):
    value = comment("c-nolink", PERSONAL)
    del value["post"]
    fb_post(channel_app.test_client(), feed(value))
    drain(channel_app)
    assert comments.post_link(comment_row(channel_app, "c-nolink")) == "https://www.facebook.com/PAGE_post1"


def test_officer_reply_after_the_private_reply_is_refused_until_the_worker_writes_on_messenger(channel_app, auth, officer, fake_graph):
    runtime = channel_app.extensions["bot"]
    code = _comment_ticket(channel_app, "c-o2")
    auth.login(officer)
    page = f"/dashboard/tickets/{code}"
    auth.post(f"{page}/reply", {"text": "Chào bạn, cán bộ công đoàn đây.", "action": "send"})
    html = auth.client.get(page).get_data(as_text=True)
    assert "Không gửi được" in html and "MỘT lần cho mỗi bình luận" in html and "chưa nhắn lại" in html
    drain(channel_app)
    assert len(private_replies(fake_graph)) == 1
    # the worker answers the private reply in Messenger: the officer's reply goes there
    fb_post(channel_app.test_client(), fb_body(fb_text("psid-c-o2", "mid-o2", "dạ em cảm ơn")))
    drain(channel_app)
    assert "câu trả lời tiếp theo của cán bộ sẽ đi qua Messenger" in auth.client.get(page).get_data(as_text=True)
    auth.post(f"{page}/reply", {"text": "Chào bạn, cán bộ công đoàn đây.", "action": "send"})
    drain(channel_app)
    sent = [r.json() for r in fake_graph.sent("/me/messages") if r.json().get("message", {}).get("text") == "Chào bạn, cán bộ công đoàn đây."]
    assert len(sent) == 1 and sent[0]["recipient"] == {"id": "psid-c-o2"} and sent[0]["messaging_type"] == "RESPONSE"
    with runtime.db.read() as s:
        assert s.scalars(select(Ticket).where(Ticket.code == code)).one().status == "answered"


def test_officer_reply_is_the_private_reply_when_none_went_out(channel_app, auth, officer, fake_graph):
    fake_graph.refuse_private = (403, {"error": {"message": "(#200) Permissions error", "code": 200}})
    code = _comment_ticket(channel_app, "c-o3")
    fake_graph.refuse_private = None  # the admin fixed the page's permissions
    auth.login(officer)
    auth.post(f"/dashboard/tickets/{code}/reply", {"text": "Chào bạn, cán bộ xin trả lời riêng.", "action": "send"})
    drain(channel_app)
    replies = private_replies(fake_graph)
    assert len(replies) == 2 and replies[-1] == {"recipient": {"comment_id": "c-o3"}, "message": {"text": "Chào bạn, cán bộ xin trả lời riêng."}}
    assert comment_row(channel_app, "c-o3").private_reply == "sent"
    # a second officer reply: the one private reply is used, no Messenger yet
    response = auth.post(f"/dashboard/tickets/{code}/reply", {"text": "Thêm một ý nữa.", "action": "send"}, follow_redirects=True)
    assert "MỘT lần cho mỗi bình luận" in response.get_data(as_text=True)
    drain(channel_app)
    assert len(private_replies(fake_graph)) == 2


def test_officer_reply_to_a_removed_comment_is_refused(channel_app, auth, officer, fake_graph):
    fake_graph.refuse_private = (400, {"error": {"message": "no", "code": 551}})
    code = _comment_ticket(channel_app, "c-o4")
    fb_post(channel_app.test_client(), feed(comment("c-o4", None, verb="remove")))
    auth.login(officer)
    response = auth.post(f"/dashboard/tickets/{code}/reply", {"text": "Chào bạn.", "action": "send"}, follow_redirects=True)
    assert "đã bị xóa hoặc ẩn" in response.get_data(as_text=True)


# --- malformed payloads --------------------------------------------------------------------------------------


def _post_raw(app, raw: bytes):
    sig = "sha256=" + hmac.new(FB_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return app.test_client().post("/webhooks/facebook/webhook", data=raw,
                                  headers={"X-Hub-Signature-256": sig, "Content-Type": "application/json"})


@pytest.mark.parametrize("bad", [
    {"field": "feed"},
    {"field": "feed", "value": None},
    {"field": "feed", "value": "comment"},
    {"field": "feed", "value": {"item": "comment", "verb": "add"}},  # no comment id
    {"field": "feed", "value": {**comment("x"), "comment_id": {"id": 1}}},
    {"field": "feed", "value": {**comment("x2"), "comment_id": "9" * 300}},
    {"field": "feed", "value": {**comment("x3"), "verb": 7}},
    {"field": "feed", "value": {**comment("x5"), "message": {"text": "hi"}}},
    {"field": "other", "value": comment("x6")},
    "not a change",
    None,
])
def test_malformed_changes_are_skipped_and_valid_ones_processed(channel_app, fake_graph, bad):
    body = feed(comment("c-good"))
    body["entry"][0]["changes"].insert(0, bad)
    body["entry"].insert(0, {"id": PAGE, "changes": "nope"})
    body["entry"].append("junk")
    assert _post_raw(channel_app, json.dumps(body).encode()).status_code == 200
    drain(channel_app)
    assert [p["recipient"] for p in private_replies(fake_graph)] == [{"comment_id": "c-good"}]
    assert len(public_replies(fake_graph)) <= 1


def test_wrong_typed_fields_of_a_comment_are_tolerated(channel_app, fake_graph):
    value = {**comment(12345, PERSONAL), "from": {"id": 42, "name": ["x"]}, "created_time": "2026-12-03T10:00:00+0000",
             "post_id": None, "post": {"permalink_url": "javascript:alert(1)"}}
    other = {**comment("c-x4", PERSONAL), "from": "someone", "post": [1], "created_time": "yesterday"}
    assert fb_post(channel_app.test_client(), feed(value, other)).status_code == 200
    drain(channel_app)
    assert sorted(p["recipient"]["comment_id"] for p in private_replies(fake_graph)) == ["12345", "c-x4"]
    assert comments.post_link(comment_row(channel_app, "12345")) is None
    assert comment_row(channel_app, "c-x4").created_time is None


def test_huge_text_and_nul_bytes(channel_app, fake_graph):
    huge = "cho em hỏi nghỉ phép năm " + "rất dài " * 20000 + "\x00 ạ?"
    nul = comment("c-nul\x00", "nợ lương\x00 em phải làm sao", post="P\x00", post_id="P\x00")
    nul["post"]["permalink_url"] = "https://www.facebook.com/x\x00y"
    nul["from"]["name"] = "Hoa\x00\ud800"
    assert fb_post(channel_app.test_client(), feed(comment("c-huge", huge), nul)).status_code == 200
    drain(channel_app)
    ids = sorted(p["recipient"]["comment_id"] for p in private_replies(fake_graph))
    assert ids == ["c-huge", "c-nul"]
    with channel_app.extensions["bot"].db.read() as s:
        assert all("\x00" not in (e.text or "") for e in s.scalars(select(InboxEvent)))


@pytest.mark.parametrize("body", [b"[]", b'{"object": "user", "entry": []}', b'{"object": "page", "entry": {}}', b"\x00\xff", b"{"])
def test_a_body_that_is_not_a_page_webhook_is_400_json(channel_app, body):
    response = _post_raw(channel_app, body)
    assert response.status_code == 400 and response.is_json


def test_unsigned_feed_is_403_and_stores_nothing(channel_app, fake_graph):
    assert fb_post(channel_app.test_client(), feed(comment("c-sig")), signature="sha256=" + "0" * 64).status_code == 403
    drain(channel_app)
    assert fake_graph.requests == []
    with channel_app.extensions["bot"].db.read() as s:
        assert s.scalars(select(FacebookComment)).all() == []


# --- the sender on its own -------------------------------------------------------------------------------------


def test_sender_window_and_one_message(fake_graph):
    from bot.channels.base import SendContext, WindowClosedError

    sender = comment_channel.CommentSender(fake_graph.url + "/v21.0", "tok")
    now = dt.datetime.now(dt.timezone.utc)
    result = sender.send("c-s", {"text": "x" * 5000}, SendContext(now - dt.timedelta(days=6), 0, "bot", now))
    assert result.recipient_id == "psid-c-s"
    [req] = fake_graph.sent("/me/messages")
    assert len(req.json()["message"]["text"]) <= comment_channel.MAX_PRIVATE_TEXT and "messaging_type" not in req.json()
    with pytest.raises(WindowClosedError):
        sender.send("c-s2", {"text": "x"}, SendContext(now - dt.timedelta(days=7, minutes=1), 0, "officer", now))
    assert len(fake_graph.sent("/me/messages")) == 1


# --- personal data ---------------------------------------------------------------------------------------------


def test_person_deletion_and_purge_forget_the_comment(channel_app, fake_graph):
    from bot import privacy

    db = channel_app.extensions["bot"].db
    fb_post(channel_app.test_client(), feed(comment("c-p1"), comment("c-p2")))
    drain(channel_app)
    assert comment_row(channel_app, "c-p1").messenger_psid == "psid-c-p1"
    fb_post(channel_app.test_client(), fb_body(fb_text("psid-c-p1", "mid-p1", "xin chào")))  # they write on Messenger
    drain(channel_app)
    counts = privacy.delete_person(db, "messenger", "psid-c-p1", actor="canbo@congdoan.vn")
    assert "facebook_comments" not in counts and comment_row(channel_app, "c-p1").messenger_psid is None
    counts = privacy.delete_person(db, comments.CHANNEL, "c-p1", actor="canbo@congdoan.vn")
    assert counts["facebook_comments"] == 1
    with db.read() as s:
        assert s.scalars(select(FacebookComment.comment_id)).all() == ["c-p2"]
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400)
    assert privacy.purge(db, 365, now=later).counts["facebook_comments"] == 1
    with db.read() as s:
        assert s.scalars(select(FacebookComment)).all() == []
    # a redelivery after all that is still not answered again (the inbox keeps the comment id)
    fb_post(channel_app.test_client(), feed(comment("c-p2")))
    drain(channel_app)
    assert len(private_replies(fake_graph)) == 2


# --- with the project's trained model (slow tier) --------------------------------------------------------------

REAL_COMMENTS = [
    ("Hay quá, cảm ơn ad", "ignore"), ("👍👍❤️", "ignore"), ("@Nguyễn Văn Bình", "ignore"), ("Nguyễn Văn Bình", "ignore"),
    ("Trần Thị Mai Phạm Văn Hùng", "ignore"), ("Đã xem", "ignore"), ("ok", "ignore"), ("Hữu ích quá", "ignore"),
    ("Chia sẻ cho mọi người cùng biết", "ignore"), ("Mai Anh ơi vào xem này", "ignore"), ("Cảm ơn công đoàn nhiều ạ", "ignore"),
    ("cho em hỏi nghỉ phép năm được mấy ngày ạ", "faq"), ("lương tối thiểu vùng 2 năm nay là bao nhiêu vậy ad?", "faq"),
    ("Thai sản được nghỉ mấy tháng?", "faq"), ("đóng bảo hiểm xã hội bao nhiêu năm thì được hưởng lương hưu", "faq"),
    ("công ty nợ lương em 3 tháng rồi, em phải làm sao?", "ticket"), ("em bị đuổi việc khi đang mang thai, công đoàn giúp em với", "ticket"),
    ("cho em gặp cán bộ công đoàn", "ticket"),
]


def test_real_model_sorts_typical_comments(make_app, channel_config, project_model):
    engine = make_app(channel_config, nlu=project_model).extensions["bot"].engine
    got = [(text, comments.classify(engine.understand(text).decision, text)) for text, _ in REAL_COMMENTS]
    assert got == REAL_COMMENTS
