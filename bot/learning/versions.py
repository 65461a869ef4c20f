"""The maintainer's decisions on models: activate a candidate, discard it, roll back to any version.

Activating or rolling back rewrites ``models/CURRENT`` (``ModelRegistry.use``, which refuses a model
that cannot load); every server and worker process switches within seconds
(``Runtime.reload_model_if_changed``). Each decision is recorded in ``audit_log``.
"""

from __future__ import annotations

import shutil

from sqlalchemy import select, update

from ..nlu.model import ModelError, ModelRegistry
from ..storage import Database
from ..storage.models import QuestionLabel, TrainingJob, utcnow
from . import Conflict, LearningError, NotFound
from .audit import record
from .retrain import get_job


def _decidable(session, job_id: int) -> TrainingJob:
    job = get_job(session, job_id)
    if job.status != "succeeded" or not job.candidate_version:
        raise Conflict(f"Lượt huấn luyện số {job_id} không có mô hình mới chờ quyết định (trạng thái: {job.status}).")
    return job


def activate(db: Database, registry: ModelRegistry, job_id: int, officer: str) -> str:
    """Make the job's candidate the model in use; its labels are marked as used by it."""
    with db.session() as s:
        job = _decidable(s, job_id)
        version = job.candidate_version
        try:
            registry.use(version)
        except ModelError as exc:
            raise LearningError(str(exc)) from None
        used = (job.comparison or {}).get("labels_used", job.include_label_ids or [])
        if used:
            s.execute(update(QuestionLabel).where(QuestionLabel.id.in_(used), QuestionLabel.used_in_model.is_(None))
                      .values(used_in_model=version))
        job.status, job.finished_at = "activated", job.finished_at or utcnow()
        record(s, officer, "model_activate", f"model:{version}", {"job": job_id, "previous": job.base_version, "labels": len(used)})
    return version


def discard(db: Database, registry: ModelRegistry, job_id: int, officer: str) -> str:
    """Delete the job's candidate model; its labels stay pending for a later retrain."""
    with db.session() as s:
        job = _decidable(s, job_id)
        version = job.candidate_version
        if registry.current_name() == version:
            raise Conflict("Mô hình này đang được dùng; không bỏ được.")
        shutil.rmtree(registry.root / version, ignore_errors=True)
        job.status = "discarded"
        record(s, officer, "model_discard", f"model:{version}", {"job": job_id})
    return version


def rollback(db: Database, registry: ModelRegistry, version: str, officer: str) -> str:
    """Use an earlier model version again (any version in the models folder)."""
    previous = registry.current_name()
    if version == previous:
        raise Conflict(f"Mô hình {version} đang được dùng.")
    try:
        registry.use(version)
    except ModelError as exc:
        raise NotFound(str(exc)) from None
    with db.session() as s:
        record(s, officer, "model_rollback", f"model:{version}", {"previous": previous})
    return version


def history(db: Database, registry: ModelRegistry) -> list[dict]:
    """Every model version, newest first: when trained, its figures, whether in use, its retrain job."""
    current = registry.current_name()
    with db.read() as s:
        jobs = {j.candidate_version: j for j in s.scalars(select(TrainingJob).where(TrainingJob.candidate_version.is_not(None)))}
        out = []
        for v in reversed(registry.versions()):
            meta = v["metadata"]
            metrics = meta.get("metrics") or {}
            job = jobs.get(v["version"])
            independent = None
            if job is not None and job.comparison:
                independent = next((st["candidate"] for st in job.comparison.get("sets", []) if st["name"] == "independent"), None)
            out.append({"version": v["version"], "trained_at": meta.get("trained_at"), "n_examples": meta.get("n_examples"),
                        "cv_accuracy": metrics.get("cv_accuracy"), "calibration": metrics.get("calibration"),
                        "threshold": (meta.get("thresholds") or {}).get("confidence"), "current": v["version"] == current,
                        "job_id": job.id if job else None, "independent": independent})
    return out
