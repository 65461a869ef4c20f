"""«Mô hình»: retrain on the accepted labels (run by a worker), follow its progress, compare the
candidate with the model in use, activate or discard it, roll back to any earlier version.

The domain logic is ``bot.learning.retrain`` and ``bot.learning.versions``.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from ..learning import LearningError, compare
from ..learning import retrain as retrain_ops
from ..learning import versions as version_ops
from ..runtime import current_runtime
from ..storage.models import TrainingJob
from .auth import maintainer_required

bp = Blueprint("models", __name__)


def _fail(exc: LearningError):
    abort(exc.status, description=str(exc))


@bp.get("/models")
@maintainer_required
def index():
    runtime = current_runtime()
    with runtime.db.read() as s:
        pending = len(retrain_ops.pending_labels(s))
        active = retrain_ops.active_job(s)
        jobs = s.scalars(select(TrainingJob).order_by(TrainingJob.id.desc()).limit(10)).all()
    return render_template("dashboard/models.html", pending=pending, active=active, jobs=jobs, labels=retrain_ops.STATUS_LABELS,
                           history=version_ops.history(runtime.db, runtime.models), worker_mode=runtime.settings["WORKER_MODE"])


@bp.post("/models/retrain")
@maintainer_required
def retrain():
    runtime = current_runtime()
    try:
        job_id = retrain_ops.request_retrain(runtime.db, g.officer.email, base_version=runtime.models.current_name())
    except LearningError as exc:
        _fail(exc)
    flash("Đã yêu cầu huấn luyện lại. Tiến trình xử lý sẽ chạy trong nền; trang này tự cập nhật tiến độ.", "ok")
    return redirect(url_for("models.job", job_id=job_id))


def _job(job_id: int) -> TrainingJob:
    with current_runtime().db.read() as s:
        try:
            return retrain_ops.get_job(s, job_id)
        except LearningError as exc:
            _fail(exc)


@bp.get("/models/jobs/<int:job_id>")
@maintainer_required
def job(job_id):
    row = _job(job_id)
    return render_template("dashboard/model_job.html", job=row, status=retrain_ops.job_status(row), c=row.comparison,
                           outcomes=compare.OUTCOMES, outcome_labels=compare.OUTCOME_LABELS)


@bp.get("/models/jobs/<int:job_id>/status")
@maintainer_required
def job_status(job_id):
    return jsonify(retrain_ops.job_status(_job(job_id)))


@bp.post("/models/jobs/<int:job_id>/<any(activate, discard):decision>")
@maintainer_required
def decide(job_id, decision):
    runtime = current_runtime()
    try:
        if decision == "activate":
            version = version_ops.activate(runtime.db, runtime.models, job_id, g.officer.email)
            runtime.reload_model_if_changed(force=True)  # this process at once; the others within seconds
            flash(f"Đang dùng mô hình mới {version}. Mọi tiến trình chuyển sang mô hình này trong vài giây.", "ok")
        else:
            version = version_ops.discard(runtime.db, runtime.models, job_id, g.officer.email)
            flash(f"Đã bỏ mô hình {version}. Các nhãn vẫn chờ lượt huấn luyện sau.", "ok")
    except LearningError as exc:
        _fail(exc)
    return redirect(url_for("models.index"))


@bp.post("/models/rollback")
@maintainer_required
def rollback():
    runtime = current_runtime()
    version = request.form.get("version", "").strip()
    if not version:
        abort(400, description="Hãy chọn phiên bản mô hình.")
    try:
        version_ops.rollback(runtime.db, runtime.models, version, g.officer.email)
    except LearningError as exc:
        _fail(exc)
    runtime.reload_model_if_changed(force=True)
    flash(f"Đã quay về mô hình {version}.", "ok")
    return redirect(url_for("models.index"))
