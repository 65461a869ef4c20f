"""Reports for leaders: the 24-hour promise, volumes by period, channel and topic, as a page and as CSV."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, g, render_template, request

from ..handoff import reports as report_ops
from ..runtime import current_runtime
from . import scope
from .auth import login_required

bp = Blueprint("reports", __name__)

GRAINS = ("day", "week", "month")


def requested_range(args) -> tuple[dt.datetime, dt.datetime, str]:
    """The report's [start, end) and grain from ``?from=YYYY-MM-DD&to=YYYY-MM-DD&grain=day|week|month``."""
    try:
        start, end = report_ops.report_range(args.get("from"), args.get("to"))
    except ValueError:
        abort(400, description="Ngày phải có dạng YYYY-MM-DD.")
    grain = args.get("grain") if args.get("grain") in GRAINS else "day"
    return start, end, grain


def _report():
    start, end, grain = requested_range(request.args)
    unit_ids = scope.unit_ids(g.officer.id)  # an officer of some units sees their units' figures
    with current_runtime().db.read() as s:
        return report_ops.sla_report(s, start, end, grain, unit_ids=unit_ids), start.date(), (end - dt.timedelta(days=1)).date(), grain


@bp.get("/reports")
@login_required
def index():
    data, start, end, grain = _report()
    max_total = max((sum(c.values()) for c in data["by_period"].values()), default=1) or 1
    return render_template("dashboard/reports.html", r=data, start=start, end=end, grain=grain, max_total=max_total)


@bp.get("/reports.csv")
@login_required
def csv_export():
    data, start, end, _ = _report()
    return Response("\ufeff" + report_ops.to_csv(data), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=bao-cao-{start}-{end}.csv"})
