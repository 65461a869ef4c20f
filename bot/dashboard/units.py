"""The federation's units for admins (tree, contact details, pages and OAs with write-only secrets),
and the report per unit with roll-up for every officer (their own units; the root sees all)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from .. import units as unit_ops
from ..handoff import unit_reports
from ..runtime import current_runtime
from ..secretbox import SecretBox, SecretsKeyError
from ..storage.models import Ticket, UnitAccount
from . import scope
from .auth import admin_required, login_required
from .reports import requested_range

bp = Blueprint("units", __name__)

CONTACT_LABELS = {"hotline": "Đường dây nóng", "address": "Địa chỉ", "office_hours": "Giờ làm việc",
                  "fanpage_url": "Fanpage", "zalo_url": "Zalo OA"}


def _box() -> SecretBox:
    return SecretBox.from_settings(current_runtime().settings)


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@bp.get("/units")
@admin_required
def index():
    box, key_error = _box(), None
    with current_runtime().db.read() as s:
        root = unit_ops.root_unit(s)
        all_units = unit_ops.all_units(s)
        children = unit_ops.children_map(s)
        open_counts = dict(s.execute(select(Ticket.unit_id, func.count()).where(Ticket.status.in_(unit_ops.OPEN_STATUSES))
                                     .group_by(Ticket.unit_id)).all())
        accounts = s.scalars(select(UnitAccount).order_by(UnitAccount.unit_id, UnitAccount.channel, UnitAccount.external_id)).all()
        masked = {}
        for a in accounts:
            try:
                masked[a.id] = unit_ops.masked_secrets(box, a)
            except SecretsKeyError as exc:
                key_error = str(exc)
                masked[a.id] = {k: "(không đọc được)" for k in unit_ops.SECRET_FIELDS[a.channel]}
    by_id = {u.id: u for u in all_units}
    tree: list[tuple[int, object]] = []

    def walk(unit_id, depth):
        tree.append((depth, by_id[unit_id]))
        for child in sorted(children.get(unit_id, [])):
            walk(child, depth + 1)

    for top in sorted(children.get(None, [])):
        walk(top, 0)
    return render_template("dashboard/units.html", tree=tree, root=root, open_counts=open_counts, accounts=accounts, masked=masked,
                           contact_labels=CONTACT_LABELS, secret_fields=unit_ops.SECRET_FIELDS, secret_labels=unit_ops.SECRET_LABELS,
                           key_error=key_error, units_by_id=by_id)


def _apply(fn, success: str):
    try:
        with current_runtime().db.session() as s:
            fn(s)
        flash(success, "ok")
    except (unit_ops.UnitError, SecretsKeyError) as exc:
        flash(str(exc), "error")
    return redirect(url_for("units.index"))


def _contact_form() -> dict:
    return {k: request.form.get(k) for k in CONTACT_LABELS if k in request.form}


@bp.post("/units")
@admin_required
def add():
    form = request.form
    return _apply(lambda s: unit_ops.create_unit(s, form.get("name", ""), form.get("short_name", ""), _int(form.get("parent_id")),
                                                 **_contact_form()), "Đã thêm đơn vị.")


@bp.post("/units/<int:unit_id>")
@admin_required
def edit(unit_id):
    form = request.form
    return _apply(lambda s: unit_ops.update_unit(s, unit_id, name=form.get("name"), short_name=form.get("short_name"),
                                                 parent_id=_int(form.get("parent_id")), **_contact_form()), "Đã cập nhật đơn vị.")


@bp.post("/units/<int:unit_id>/delete")
@admin_required
def delete(unit_id):
    return _apply(lambda s: unit_ops.delete_unit(s, unit_id), "Đã xóa đơn vị.")


def _secrets_form(channel: str) -> dict:
    """Write-only fields: an empty box leaves the secret as it is."""
    return {k: request.form.get(k) for k in unit_ops.SECRET_FIELDS.get(channel, ()) if request.form.get(k)}


@bp.post("/units/accounts")
@admin_required
def add_account():
    form = request.form
    channel = form.get("channel", "")
    return _apply(lambda s: unit_ops.add_account(s, _box(), channel, form.get("external_id", ""), _int(form.get("unit_id")) or 0,
                                                 name=form.get("name"), app_id=form.get("app_id"),
                                                 public_replies=form.get("public_replies") == "on", **_secrets_form(channel)),
                  "Đã thêm trang/OA. Khởi động lại máy chủ nếu đây là trang/OA đầu tiên của kênh này.")


@bp.post("/units/accounts/<int:account_id>")
@admin_required
def edit_account(account_id):
    form = request.form

    def do(s):
        account = s.get(UnitAccount, account_id)
        if account is None:
            raise unit_ops.UnitError("Không tìm thấy trang/OA.")
        unit_ops.update_account(s, _box(), account, unit_id=_int(form.get("unit_id")), name=form.get("name"),
                                app_id=form.get("app_id"), public_replies=form.get("public_replies") == "on",
                                active=form.get("active") == "on", **_secrets_form(account.channel))

    return _apply(do, "Đã cập nhật trang/OA.")


# --- report per unit ---------------------------------------------------------------------------------


def _report():
    start, end, _ = requested_range(request.args)
    visible = scope.unit_ids(g.officer.id)
    with current_runtime().db.read() as s:
        rows = unit_reports.unit_report(s, start, end, visible)
    return rows, start.date(), (end - dt.timedelta(days=1)).date()


@bp.get("/units/report")
@login_required
def report():
    rows, start, end = _report()
    max_questions = max((r.total.questions for r in rows), default=0) or 1
    return render_template("dashboard/units_report.html", rows=rows, start=start, end=end, max_questions=max_questions)


@bp.get("/units/report.csv")
@login_required
def report_csv():
    rows, start, end = _report()
    return Response("\ufeff" + unit_reports.to_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=bao-cao-don-vi-{start}-{end}.csv"})
