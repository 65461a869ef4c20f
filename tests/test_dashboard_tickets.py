"""The queue, a ticket's page and what officers do with it: claim, reply through the worker's channel,
notes, close and reopen; and the ticket's deadline."""

import datetime as dt

from sqlalchemy import func, select

from bot.handoff import tickets as ticket_ops
from bot.storage.models import Conversation, OutboxMessage, Ticket, TicketEvent

from .conftest import open_ticket


def test_queue_sorted_by_deadline_with_claim(channel_app, auth, officer):
    runtime = channel_app.extensions["bot"]
    first = open_ticket(channel_app, "w-a")
    second = open_ticket(channel_app, "w-b", "cty nợ lương em 3 tháng, giúp em với")
    with runtime.db.session() as s:
        s.scalars(select(Ticket).where(Ticket.code == second)).one().due_at -= dt.timedelta(hours=10)
    auth.login(officer)
    response = auth.client.get("/dashboard/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:500]
    assert html.index(second) < html.index(first)
    assert "Nhận xử lý" in html and "Hàng đợi phiếu hỏi (2)" in html
    assert 'data-due="' in html
    high = auth.client.get("/dashboard/?priority=high").get_data(as_text=True)
    assert second in high and first not in high
    response = auth.post(f"/dashboard/tickets/{first}/claim")
    assert response.status_code == 302
    with runtime.db.read() as s:
        t = s.scalars(select(Ticket).where(Ticket.code == first)).one()
        assert t.status == "assigned" and t.assignee_id is not None
    mine = auth.client.get("/dashboard/?assignee=me").get_data(as_text=True)
    assert first in mine and second not in mine


def test_reply_reaches_worker_through_messenger(channel_app, auth, officer, ticket, fake_graph):
    runtime = channel_app.extensions["bot"]
    auth.login(officer)
    page = f"/dashboard/tickets/{ticket}"
    assert "cho em gặp cán bộ công đoàn" in auth.client.get(page).get_data(as_text=True)
    response = auth.post(f"{page}/reply", {"text": "Chào bạn, cán bộ đã nhận câu hỏi.", "action": "send"})
    assert response.status_code == 302
    runtime.workers.drain()
    officer_msgs = [r.json() for r in fake_graph.sent("/me/messages") if r.json()["message"]["text"].startswith("Chào bạn, cán bộ")]
    assert len(officer_msgs) == 1 and officer_msgs[0]["messaging_type"] == "RESPONSE"
    with runtime.db.read() as s:
        t = s.scalars(select(Ticket)).one()
        assert t.status == "answered" and t.first_response_at is not None
    html = auth.client.get(page).get_data(as_text=True)
    assert "Đã gửi" in html
    auth.post(f"{page}/reply", {"text": "Phiếu đã được giải quyết.", "action": "send_resolve"})
    with runtime.db.read() as s:
        t = s.scalars(select(Ticket)).one()
        assert t.status == "resolved" and t.resolved_at is not None
        actions = [e.action for e in s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id))]
        assert actions == ["created", "replied", "replied"]


def test_reply_window_rules_for_officers(channel_app, auth, officer, ticket, fake_graph):
    runtime = channel_app.extensions["bot"]
    auth.login(officer)
    page = f"/dashboard/tickets/{ticket}"
    with runtime.db.session() as s:
        conv = s.scalars(select(Conversation)).one()
        conv.last_user_message_at -= dt.timedelta(days=3)
    auth.post(f"{page}/reply", {"text": "Trả lời sau 3 ngày", "action": "send"})
    runtime.workers.drain()
    late = [r.json() for r in fake_graph.sent("/me/messages") if r.json()["message"]["text"] == "Trả lời sau 3 ngày"]
    assert late[0]["messaging_type"] == "MESSAGE_TAG" and late[0]["tag"] == "HUMAN_AGENT"
    with runtime.db.session() as s:
        s.scalars(select(Conversation)).one().last_user_message_at -= dt.timedelta(days=5)
    response = auth.post(f"{page}/reply", {"text": "Quá muộn", "action": "send"}, follow_redirects=True)
    assert "Không gửi được" in response.get_data(as_text=True) and "7 ngày" in response.get_data(as_text=True)
    with runtime.db.read() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.author == "officer")) == 1


def test_notes_close_and_reopen(channel_app, auth, officer, ticket):
    auth.login(officer)
    page = f"/dashboard/tickets/{ticket}"
    auth.post(f"{page}/note", {"text": "Đã gọi điện, chờ giấy tờ"})
    assert "Đã gọi điện" in auth.client.get(page).get_data(as_text=True)
    refused = auth.post(f"{page}/close", {"reason": ""}, follow_redirects=True)
    assert "Cần ghi lý do" in refused.get_data(as_text=True)
    auth.post(f"{page}/close", {"reason": "Người lao động đã tự giải quyết"})
    auth.post(f"{page}/reopen")
    with channel_app.extensions["bot"].db.read() as s:
        t = s.scalars(select(Ticket)).one()
        assert t.status == "open" and t.closed_reason is None


def test_sla_deadline_for_a_ticket_created_at_2359(channel_app):
    runtime = channel_app.extensions["bot"]
    vn = dt.timezone(dt.timedelta(hours=7))
    created = dt.datetime(2026, 12, 31, 23, 59, tzinfo=vn)
    with runtime.db.session() as s:
        conv = Conversation(channel="web", user_id="late", slots={}, replies_since_user_message=0, followed=True)
        s.add(conv)
        s.flush()
        t = ticket_ops.open_ticket(s, conv, ticket_ops.HandOff("câu hỏi lúc nửa đêm", "request_human"), now=created, sla_hours=24)
        code = t.code
    with runtime.db.read() as s:
        t = s.scalars(select(Ticket).where(Ticket.code == code)).one()
        assert t.due_at.astimezone(vn) == dt.datetime(2027, 1, 1, 23, 59, tzinfo=vn)


def test_handoff_deadline_follows_sla_hours(make_app, channel_config, fake_graph):
    app = make_app({**channel_config, "SLA_HOURS": 8})
    code = open_ticket(app)
    with app.extensions["bot"].db.read() as s:
        t = s.scalars(select(Ticket).where(Ticket.code == code)).one()
        assert t.due_at - t.created_at == dt.timedelta(hours=8)
    texts = [r.json()["message"]["text"] for r in fake_graph.sent("/me/messages")]
    assert any("trong vòng 8 giờ" in t for t in texts)
