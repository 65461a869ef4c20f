"""The officers' dashboard (Vietnamese UI): login, queue, ticket page, reports, FAQ suggestions.

Security: hashed passwords, an HttpOnly SameSite session cookie, a CSRF token on every form, a
login rate limit, and roles (``officer``, ``admin``). No default account exists: the first admin is
created with ``python -m bot officers add EMAIL --name NAME --role admin``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import secrets
import threading
import time

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import func, or_, select

from ..handoff import officers as officer_ops
from ..handoff import replies
from ..handoff import reports as report_ops
from ..handoff import tickets as ticket_ops
from ..handoff.transcript import transcript
from ..storage.models import FaqSuggestion, Officer, Ticket, TicketEvent, TicketNote, utcnow
from ..vntime import format_short

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates", static_folder="static")

PAGE_SIZE = 100
MAX_PAGE_SIZE = 5000  # ?size=5000 shows a whole day's queue on one page
LOCK_SECONDS = 15 * 60
CHANNEL_LABELS = {"messenger": "Messenger", "zalo": "Zalo", "web": "Web"}
DELIVERY_LABELS = {"pending": "Đang gửi", "sending": "Đang gửi", "sent": "Đã gửi", "failed": "Gửi lỗi", "refused": "Bị từ chối"}


def runtime():
    return current_app.extensions["bot"]


# --- login rate limit (per e-mail + address, in this process) ----------------------------------


class LoginThrottle:
    def __init__(self):
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def locked(self, key, limit: int) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(key, []) if now - t < LOCK_SECONDS]
            self._failures[key] = recent
            return len(recent) >= limit

    def fail(self, key) -> None:
        with self._lock:
            self._failures.setdefault(key, []).append(time.monotonic())

    def reset(self, key) -> None:
        with self._lock:
            self._failures.pop(key, None)


def throttle() -> LoginThrottle:
    """One throttle per application (kept on the runtime)."""
    rt = runtime()
    if not hasattr(rt, "login_throttle"):
        rt.login_throttle = LoginThrottle()
    return rt.login_throttle


# --- auth and CSRF -----------------------------------------------------------------------------


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


@bp.app_context_processor
def inject():
    return {"csrf_token": csrf_token, "status_labels": ticket_ops.STATUS_LABELS_VI, "reason_labels": ticket_ops.REASON_LABELS_VI,
            "channel_labels": CHANNEL_LABELS,
            "delivery_labels": DELIVERY_LABELS, "local_time": format_short, "org_name": runtime().settings["ORG_NAME"]}


@bp.before_request
def load_officer():
    g.officer = None
    officer_id = session.get("officer_id")
    if officer_id is not None:
        with runtime().db.read() as s:
            officer = s.get(Officer, officer_id)
            if officer is not None and officer.active:
                g.officer = officer
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
            abort(400, description="csrf")


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.officer is None:
            return redirect(url_for("dashboard.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if g.officer.role != "admin":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()
        key = (email, request.remote_addr or "")
        limit = int(runtime().settings["LOGIN_MAX_FAILURES"])
        if throttle().locked(key, limit):
            error = "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút."
        else:
            with runtime().db.read() as s:
                officer = officer_ops.authenticate(s, email, request.form.get("password", ""))
            if officer is None:
                throttle().fail(key)
                error = "E-mail hoặc mật khẩu không đúng, hoặc tài khoản đã bị khóa."
            else:
                throttle().reset(key)
                session.clear()
                session["officer_id"] = officer.id
                csrf_token()
                target = request.args.get("next", "")
                return redirect(target if target.startswith("/dashboard") else url_for("dashboard.queue"))
    return render_template("dashboard/login.html", error=error), (429 if error and "15 phút" in error else 200)


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("dashboard.login"))


# --- queue -------------------------------------------------------------------------------------


QUEUE_COLUMNS = (Ticket.id, Ticket.code, Ticket.due_at, Ticket.priority, Ticket.channel, Ticket.topic, Ticket.status,
                 Ticket.assignee_id, func.substr(Ticket.question, 1, 140).label("question"), Ticket.resolved_at,
                 Officer.name.label("assignee_name"))


def _queue_query(args):
    # Plain rows, not ORM objects: the page may list thousands of tickets.
    stmt = select(*QUEUE_COLUMNS).join(Officer, Officer.id == Ticket.assignee_id, isouter=True)
    status = args.get("status", "active")
    if status == "active":
        stmt = stmt.where(Ticket.status.in_(ticket_ops.OPEN_STATUSES))
    elif status in ticket_ops.STATUS_LABELS_VI:
        stmt = stmt.where(Ticket.status == status)
    for field in ("priority", "channel", "topic"):
        if args.get(field):
            stmt = stmt.where(getattr(Ticket, field) == args[field])
    assignee = args.get("assignee")
    if assignee == "me":
        stmt = stmt.where(Ticket.assignee_id == g.officer.id)
    elif assignee == "none":
        stmt = stmt.where(Ticket.assignee_id.is_(None))
    elif assignee and assignee.isdigit():
        stmt = stmt.where(Ticket.assignee_id == int(assignee))
    q = args.get("q", "").strip()
    if q:
        like = f"%{q[:100]}%"
        stmt = stmt.where(or_(Ticket.code.ilike(like), Ticket.question.ilike(like), Ticket.display_name.ilike(like)))
    return stmt


@bp.get("/")
@login_required
def queue():
    page = max(1, request.args.get("page", 1, type=int))
    size = min(max(request.args.get("size", PAGE_SIZE, type=int), 10), MAX_PAGE_SIZE)
    with runtime().db.read() as s:
        stmt = _queue_query(request.args)
        total = s.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        tickets = s.execute(stmt.order_by(Ticket.due_at, Ticket.id).offset((page - 1) * size).limit(size)).all()
        officers = s.scalars(select(Officer).where(Officer.active.is_(True)).order_by(Officer.name)).all()
        topics = sorted(t for t in s.scalars(select(Ticket.topic).distinct()) if t)
    return render_template("dashboard/queue.html", tickets=tickets, total=total, page=page, pages=max(1, -(-total // size)),
                           officers=officers, topics=topics, args=request.args, now=utcnow())


# --- ticket page -------------------------------------------------------------------------------


def _ticket_or_404(s, code) -> Ticket:
    ticket = replies.find_ticket(s, code)
    if ticket is None:
        abort(404)
    return ticket


@bp.get("/tickets/<code>")
@login_required
def ticket(code):
    kb = runtime().engine.kb
    q = request.args.get("q", "").strip()
    with runtime().db.read() as s:
        t = _ticket_or_404(s, code)
        lines = transcript(s, t.id)
        notes = s.execute(select(TicketNote, Officer.name).join(Officer, Officer.id == TicketNote.officer_id, isouter=True)
                          .where(TicketNote.ticket_id == t.id).order_by(TicketNote.id)).all()
        events = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id)).all()
        officers = s.scalars(select(Officer).where(Officer.active.is_(True)).order_by(Officer.name)).all()
        assignee = s.get(Officer, t.assignee_id) if t.assignee_id else None
    canned = kb.search(q, limit=8) if q else []
    context = runtime().engine.responses.context
    return render_template("dashboard/ticket.html", t=t, transcript=lines, notes=notes, events=events,
                           officers=officers, assignee=assignee, canned=[(e, e.render(context)) for e in canned], q=q,
                           now=utcnow(), last_worker_question=next((m.text for m, _ in reversed(lines) if m.author == "worker"), t.question))


def _mutate(code, fn, success: str):
    try:
        with runtime().db.session() as s:
            t = _ticket_or_404(s, code)
            officer = s.get(Officer, g.officer.id)
            fn(s, t, officer)
        flash(success, "ok")
    except ticket_ops.TicketError as exc:
        flash(str(exc), "error")
    return redirect(url_for("dashboard.ticket", code=code))


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
        ticket_ops.assign(s, t, target, me)

    return _mutate(code, do, "Đã giao phiếu.")


@bp.post("/tickets/<code>/reply")
@login_required
def reply(code):
    resolve = request.form.get("action") == "send_resolve"
    try:
        replies.send_reply(runtime(), code, g.officer.id, request.form.get("text", ""), resolve)
        flash("Đã gửi câu trả lời" + (" và đóng phiếu." if resolve else "."), "ok")
    except replies.ReplyRefused as exc:
        flash("Không gửi được: " + exc.reason, "error")
    return redirect(url_for("dashboard.ticket", code=code))


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
        replies.suggest_faq(runtime(), code, g.officer.id, request.form.get("question", ""), request.form.get("answer", ""))
        flash("Đã gửi đề xuất câu hỏi thường gặp để quản trị viên duyệt.", "ok")
    except replies.ReplyRefused as exc:
        flash(exc.reason, "error")
    return redirect(url_for("dashboard.ticket", code=code))


# --- reports -----------------------------------------------------------------------------------


def report_range(args) -> tuple[dt.datetime, dt.datetime, str]:
    """The report's [start, end) and grain from the query string (?from=&to=&grain=)."""
    try:
        start, end = report_ops.report_range(args.get("from"), args.get("to"))
    except ValueError:
        abort(400, description="Ngày phải có dạng YYYY-MM-DD.")
    grain = args.get("grain", "day") if args.get("grain") in ("day", "week", "month") else "day"
    return start, end, grain


def _report():
    start, end, grain = report_range(request.args)
    with runtime().db.read() as s:
        return report_ops.sla_report(s, start, end, grain), start.date(), (end - dt.timedelta(days=1)).date(), grain


@bp.get("/reports")
@login_required
def reports():
    data, start, end, grain = _report()
    max_total = max((sum(c.values()) for c in data["by_period"].values()), default=1) or 1
    return render_template("dashboard/reports.html", r=data, start=start, end=end, grain=grain, max_total=max_total)


@bp.get("/reports.csv")
@login_required
def reports_csv():
    data, start, end, _ = _report()
    return Response("\ufeff" + report_ops.to_csv(data), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=bao-cao-{start}-{end}.csv"})


# --- FAQ suggestions (admin) -------------------------------------------------------------------


@bp.get("/suggestions")
@admin_required
def suggestions():
    with runtime().db.read() as s:
        rows = s.execute(select(FaqSuggestion, Officer.name).join(Officer, Officer.id == FaqSuggestion.officer_id, isouter=True)
                         .order_by(FaqSuggestion.status, FaqSuggestion.id.desc()).limit(200)).all()
    return render_template("dashboard/suggestions.html", rows=rows)


@bp.post("/suggestions/<int:sid>")
@admin_required
def review_suggestion(sid):
    decision = request.form.get("decision")
    if decision not in ("approved", "rejected"):
        abort(400)
    with runtime().db.session() as s:
        row = s.get(FaqSuggestion, sid)
        if row is None:
            abort(404)
        row.status = decision
        row.reviewed_by = g.officer.id
    flash("Đã duyệt đề xuất." if decision == "approved" else "Đã từ chối đề xuất.", "ok")
    return redirect(url_for("dashboard.suggestions"))
