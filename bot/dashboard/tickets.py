"""A ticket's page (transcript, notes, history, canned FAQ answers) and what officers do with it:
claim, assign, reply through the worker's channel, note, resolve, close, reopen, suggest an FAQ."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from .. import comments
from ..handoff import replies
from ..handoff import tickets as ticket_ops
from ..handoff.transcript import transcript
from ..runtime import current_runtime
from ..storage.models import Officer, Ticket, TicketEvent, TicketNote, Unit, utcnow
from . import scope
from .auth import login_required

bp = Blueprint("tickets", __name__)


def _ticket_or_404(s, code) -> Ticket:
    ticket = replies.find_ticket(s, code)
    if ticket is None:
        abort(404)
    return ticket


@bp.get("/tickets/<code>")
@login_required
def detail(code):
    engine = current_runtime().engine
    q = request.args.get("q", "").strip()
    with current_runtime().db.read() as s:
        t = _ticket_or_404(s, code)
        lines = transcript(s, t.id)
        notes = s.execute(select(TicketNote, Officer.name).join(Officer, Officer.id == TicketNote.officer_id, isouter=True)
                          .where(TicketNote.ticket_id == t.id).order_by(TicketNote.id)).all()
        events = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id)).all()
        officers = s.scalars(select(Officer).where(Officer.active.is_(True)).order_by(Officer.name)).all()
        assignee = s.get(Officer, t.assignee_id) if t.assignee_id else None
        comment = comments.comment_view(s, t) if t.channel == comments.CHANNEL else None
        unit = s.get(Unit, t.unit_id) if t.unit_id else None
    canned = engine.kb.search(q, limit=8) if q else []
    context = engine.responses.context
    last_worker_question = next((m.text for m, _ in reversed(lines) if m.author == "worker"), t.question)
    return render_template("dashboard/ticket.html", t=t, transcript=lines, notes=notes, events=events,
                           officers=officers, assignee=assignee, canned=[(e, e.render(context)) for e in canned], q=q,
                           now=utcnow(), last_worker_question=last_worker_question, comment=comment, unit=unit)


def _mutate(code, fn, success: str):
    try:
        with current_runtime().db.session() as s:
            t = _ticket_or_404(s, code)
            officer = s.get(Officer, g.officer.id)
            fn(s, t, officer)
        flash(success, "ok")
    except ticket_ops.TicketError as exc:
        flash(str(exc), "error")
    return redirect(url_for("tickets.detail", code=code))


@bp.post("/tickets/<code>/claim")
@bp.post("/claim/<code>")
@login_required
def claim(code):
    return _mutate(code, lambda s, t, me: ticket_ops.assign(s, t, me, me), "Bạn đã nhận xử lý phiếu.")


@bp.post("/tickets/<code>/assign")
@login_required
def assign(code):
    target_id = request.form.get("officer_id", type=int)

    def do(s, t, me):
        target = s.get(Officer, target_id) if target_id else None
        if target is None:
            raise ticket_ops.TicketError("Chưa chọn cán bộ.")
        if not scope.allowed(target.id, t.unit_id):
            raise ticket_ops.TicketError(f"{target.name} không thuộc đơn vị của phiếu này nên không nhận được phiếu.")
        ticket_ops.assign(s, t, target, me)

    return _mutate(code, do, "Đã giao phiếu.")


@bp.post("/tickets/<code>/reply")
@login_required
def reply(code):
    resolve = request.form.get("action") == "send_resolve"
    try:
        current_runtime().replies.send(code, g.officer.id, request.form.get("text", ""), resolve)
        flash("Đã gửi câu trả lời" + (" và đóng phiếu." if resolve else "."), "ok")
    except replies.ReplyRefused as exc:
        flash("Không gửi được: " + exc.reason, "error")
    return redirect(url_for("tickets.detail", code=code))


@bp.post("/tickets/<code>/note")
@login_required
def note(code):
    return _mutate(code, lambda s, t, me: ticket_ops.add_note(s, t, me, request.form.get("text", "")), "Đã lưu ghi chú nội bộ.")


@bp.post("/tickets/<code>/resolve")
@login_required
def resolve(code):
    return _mutate(code, lambda s, t, me: ticket_ops.resolve(s, t, me), "Đã đóng phiếu (đã giải quyết).")


@bp.post("/tickets/<code>/close")
@login_required
def close(code):
    return _mutate(code, lambda s, t, me: ticket_ops.close(s, t, me, request.form.get("reason", "")), "Đã đóng phiếu.")


@bp.post("/tickets/<code>/reopen")
@login_required
def reopen(code):
    return _mutate(code, lambda s, t, me: ticket_ops.reopen(s, t, me), "Đã mở lại phiếu.")


@bp.post("/tickets/<code>/suggest")
@login_required
def suggest(code):
    try:
        current_runtime().replies.suggest_faq(code, g.officer.id, request.form.get("question", ""), request.form.get("answer", ""))
        flash("Đã gửi đề xuất câu hỏi thường gặp để quản trị viên duyệt.", "ok")
    except replies.ReplyRefused as exc:
        flash(exc.reason, "error")
    return redirect(url_for("tickets.detail", code=code))
