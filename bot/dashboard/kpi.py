"""The communication programme's KPI (answer every question within 24 hours, double the answered
volume) as a page with server-side SVG charts and as CSV; the figures come from ``bot.handoff.kpi``."""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, render_template, request

from ..handoff import kpi as kpi_ops
from ..runtime import current_runtime
from . import scope
from .auth import login_required

bp = Blueprint("kpi", __name__)


def _report() -> kpi_ops.KpiReport:
    try:
        months = kpi_ops.month_range(request.args.get("from"), request.args.get("to"))
    except kpi_ops.KpiRangeError as exc:
        abort(400, description=str(exc))
    runtime = current_runtime()
    # An officer of some units sees their units' figures; the federation-wide monthly baseline is
    # then not theirs, so only a baseline year (computed on their units) gives them a target.
    unit_ids = scope.unit_ids(g.officer.id)
    baseline = runtime.settings["KPI_BASELINE_MONTHLY_ANSWERED"] if unit_ids is None else 0
    with runtime.db.read() as s:
        return kpi_ops.kpi_report(s, months, baseline, runtime.settings["KPI_BASELINE_YEAR"], unit_ids=unit_ids)


@bp.get("/kpi")
@login_required
def index():
    report = _report()
    # The answered chart's scale leaves room for the target line.
    scale = max([m.total.answered for m in report.months] + [report.target or 0, 1])
    return render_template("dashboard/kpi.html", r=report, scale=scale, channels=kpi_ops.CHANNELS,
                           kpi_channel_labels=kpi_ops.CHANNEL_LABELS_VI)


@bp.get("/kpi.csv")
@login_required
def csv_export():
    report = _report()
    first, last = report.months[0].month, report.months[-1].month
    return Response("\ufeff" + kpi_ops.to_csv(report), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=kpi-{first}-{last}.csv"})
