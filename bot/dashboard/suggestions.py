"""FAQ suggestions written by officers from their replies, reviewed by admins
(approved ones are exported with ``python -m bot faq export-suggestions``)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from ..runtime import current_runtime
from ..storage.models import FaqSuggestion, Officer
from .auth import admin_required

bp = Blueprint("suggestions", __name__)


@bp.get("/suggestions")
@admin_required
def index():
    with current_runtime().db.read() as s:
        rows = s.execute(select(FaqSuggestion, Officer.name).join(Officer, Officer.id == FaqSuggestion.officer_id, isouter=True)
                         .order_by(FaqSuggestion.status, FaqSuggestion.id.desc()).limit(200)).all()
    return render_template("dashboard/suggestions.html", rows=rows)


@bp.post("/suggestions/<int:sid>")
@admin_required
def review(sid):
    decision = request.form.get("decision")
    if decision not in ("approved", "rejected"):
        abort(400)
    with current_runtime().db.session() as s:
        row = s.get(FaqSuggestion, sid)
        if row is None:
            abort(404)
        row.status = decision
        row.reviewed_by = g.officer.id
    flash("Đã duyệt đề xuất." if decision == "approved" else "Đã từ chối đề xuất.", "ok")
    return redirect(url_for("suggestions.index"))
