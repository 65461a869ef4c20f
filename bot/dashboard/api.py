"""JSON API for integrations and tests: ``Authorization: Bearer <officer token>``.

Times are ISO 8601 with offset (Vietnam time, +07:00).
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select

from .. import comments
from ..errors import APIError
from ..handoff import officers as officer_ops
from ..handoff import replies
from ..handoff import reports as report_ops
from ..handoff import tickets as ticket_ops
from ..handoff.transcript import transcript
from ..runtime import current_runtime
from ..storage.models import Officer, Ticket
from ..vntime import isoformat_local
from . import scope
from .reports import requested_range

bp = Blueprint("api", __name__, url_prefix="/api")
MAX_TICKETS = 500


@bp.before_request
def authenticate():
    header = request.headers.get("Authorization", "")
    token = header[len("Bearer "):].strip() if header.startswith("Bearer ") else ""
    with current_runtime().db.read() as s:
        g.api_officer = officer_ops.by_token(s, token)
        if g.api_officer is not None:
            s.expunge(g.api_officer)
    if g.api_officer is None:
        raise APIError("Cần mã truy cập hợp lệ (Authorization: Bearer …).", 401, "unauthorized")
    scope.check_ticket_route(g.api_officer, api=True)  # a ticket of another unit: 403


def ticket_json(t: Ticket, assignee: Officer | None) -> dict:
    return {
        "code": t.code, "status": t.status, "priority": t.priority, "channel": t.channel, "topic": t.topic,
        "created_at": isoformat_local(t.created_at), "due_at": isoformat_local(t.due_at),
        "first_response_at": isoformat_local(t.first_response_at), "resolved_at": isoformat_local(t.resolved_at),
        "assignee": assignee.email if assignee else None, "question": t.question,
    }


@bp.get("/tickets")
def list_tickets():
    status = request.args.get("status")
    stmt = select(Ticket, Officer).join(Officer, Officer.id == Ticket.assignee_id, isouter=True)
    if status:
        if status not in ticket_ops.STATUS_LABELS_VI:
            raise APIError(f"status phải là một trong: {', '.join(ticket_ops.STATUS_LABELS_VI)}", 400, "invalid_field")
        stmt = stmt.where(Ticket.status == status)
    stmt = scope.restrict(stmt, g.api_officer.id)
    with current_runtime().db.read() as s:
        rows = s.execute(stmt.order_by(Ticket.due_at, Ticket.id).limit(MAX_TICKETS)).all()
        return jsonify({"tickets": [ticket_json(t, a) for t, a in rows]})


@bp.get("/tickets/<code>")
def get_ticket(code):
    with current_runtime().db.read() as s:
        t = replies.find_ticket(s, code)
        if t is None:
            raise APIError("Không tìm thấy phiếu.", 404, "not_found")
        assignee = s.get(Officer, t.assignee_id) if t.assignee_id else None
        body = ticket_json(t, assignee)
        body["transcript"] = [
            {"author": m.author, "text": m.text, "at": isoformat_local(m.created_at),
             **({"delivery": d.status, "delivery_error": d.last_error} if d else {})}
            for m, d in transcript(s, t.id)
        ]
        if t.channel == comments.CHANNEL:  # a fanpage comment: the post link and the private reply's state
            body["comment"] = comments.comment_view(s, t)
        return jsonify(body)


@bp.post("/tickets/<code>/reply")
def reply(code):
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        raise APIError("Cần JSON {\"text\": \"…\", \"resolve\": true|false}.", 400, "invalid_json")
    resolve = body.get("resolve", False)
    if not isinstance(resolve, bool):
        raise APIError("'resolve' phải là true hoặc false.", 400, "invalid_field")
    with current_runtime().db.read() as s:
        if replies.find_ticket(s, code) is None:
            raise APIError("Không tìm thấy phiếu.", 404, "not_found")
    try:
        result = current_runtime().replies.send(code, g.api_officer.id, body["text"], resolve)
    except replies.ReplyRefused as exc:
        raise APIError(exc.reason, 409, "reply_refused") from None
    return jsonify({"code": code.upper(), "outbox_id": result.outbox_id, "delivery": result.status}), 202


@bp.get("/reports/sla")
def sla():
    start, end, grain = requested_range(request.args)
    with current_runtime().db.read() as s:
        return jsonify(report_ops.sla_report(s, start, end, grain, unit_ids=scope.unit_ids(g.api_officer.id)))
