"""Retrain jobs: requested from the dashboard, run by a worker, never in a web request.

``request_retrain`` queues a job with the labels it will train on; the database refuses a second
queued or running job (the unique ``training_jobs.slot``), whatever process asks. ``run_next``
(called by the workers' job loop, ``bot/workers.py``, or ``python -m bot retrain-job run-once``)
claims the oldest queued job with a conditional UPDATE, so one process of many runs it, assembles the
training data (``training_data``), trains with the code of ``python -m bot train`` into a new model
version that is NOT made current, writes its progress to the row, and compares the candidate with
the model in use (``bot.learning.compare``). A job whose process died (no heartbeat for
``STALE_AFTER``) is marked failed by the next claim, which frees the slot.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import time

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import vntime
from ..engine import Engine
from ..faq_edits import example_overrides
from ..knowledge import KnowledgeBase
from ..nlu import OUT_OF_SCOPE
from ..nlu.model import ModelRegistry, load_model
from ..nlu.training_data import Example, TrainingData
from ..storage import Database
from ..storage.models import QuestionLabel, TrainingJob, utcnow
from ..training import load_project_data, train_data
from . import Conflict, LearningError, NotFound
from .audit import record
from .compare import compare
from .review import TRAINABLE_KINDS

logger = logging.getLogger(__name__)

SLOT = "retrain"
ACTIVE = ("queued", "running")
STATUS_LABELS = {"queued": "Đang chờ", "running": "Đang huấn luyện", "succeeded": "Đã xong, chờ quyết định", "failed": "Lỗi",
                 "activated": "Đã dùng", "discarded": "Đã bỏ"}
STALE_AFTER = dt.timedelta(minutes=20)
LABEL_SOURCE = "question_labels"
# Progress (percent) at each step; training itself reports fold by fold in between.
_STEPS = {"data": 5, "train": 10, "trained": 80, "compare": 85, "done": 100}
_FOLD_RE = re.compile(r"(\d+)/(\d+)")


# --- the training data -------------------------------------------------------------------------


def training_data(settings, labels: list[QuestionLabel], faq_examples: dict[str, list[str]] | None = None
                  ) -> tuple[TrainingData, KnowledgeBase, list[QuestionLabel]]:
    """What a retrain trains on: the project's data (``nlu_data/`` and each FAQ entry's title, as
    ``python -m bot train``), the FAQ example phrasings edited in the browser (``faq_examples``:
    intent -> examples), and the accepted labels as examples of their intents.

    Plug point for the FAQ editor: the caller passes ``bot.faq_edits.example_overrides(session, today)``
    as ``faq_examples`` (``run_next`` marks the place). Labels of kind ``out_of_scope`` become examples
    of ``out_of_scope`` only when the project's data has that intent; ``new_question`` and ``skip``
    never become examples. Returns the data, the knowledge base and the labels actually used."""
    data, kb = load_project_data(settings)
    if faq_examples:  # an edited entry's phrasings replace the file's (a phrasing deleted in the editor is not trained on)
        titles = {e.intent: e.title for e in kb.entries}
        data.examples = [e for e in data.examples if e.intent not in faq_examples or e.text == titles.get(e.intent)]
    seen = {(e.intent, e.text.lower()) for e in data.examples}
    known = data.intent_counts()

    def add(text: str, intent: str, source: str, line: int) -> bool:
        if (intent, text.lower()) in seen:
            return False
        seen.add((intent, text.lower()))
        data.examples.append(Example(text, intent, source, line))
        return True

    for intent, texts in sorted((faq_examples or {}).items()):
        for text in texts:
            add(text, intent, "faq_edits", 0)
    used = []
    for row in labels:
        if row.label_kind not in TRAINABLE_KINDS or not row.intent or not row.text.strip():
            continue
        if row.label_kind == "out_of_scope" and OUT_OF_SCOPE not in known:
            continue
        add(row.text, row.intent, LABEL_SOURCE, row.id)
        used.append(row)
    return data, kb, used


# --- requesting --------------------------------------------------------------------------------


def active_job(session: Session) -> TrainingJob | None:
    return session.scalar(select(TrainingJob).where(TrainingJob.slot == SLOT))


def pending_labels(session: Session) -> list[QuestionLabel]:
    """Accepted labels no model has trained on yet, of the kinds that become examples."""
    return list(session.scalars(select(QuestionLabel).where(QuestionLabel.used_in_model.is_(None),
                                                            QuestionLabel.label_kind.in_(TRAINABLE_KINDS)).order_by(QuestionLabel.id)))


def request_retrain(db: Database, officer: str, label_ids: list[int] | None = None, base_version: str | None = None) -> int:
    """Queue a retrain on ``label_ids`` (default: every pending trainable label); returns the job id.

    Refused when a retrain is queued or running (the database's unique slot decides between two
    requests at once) or when there is nothing new to train on (no pending label and no example
    phrasings edited in the browser)."""
    with db.session() as s:
        pending = {row.id: row for row in pending_labels(s)}
        if label_ids is None:
            chosen = sorted(pending)
        else:
            unknown = sorted(set(label_ids) - set(pending))
            if unknown:
                raise LearningError(f"Nhãn không dùng được để huấn luyện (không có, đã dùng, hoặc loại không huấn luyện): {unknown}.")
            chosen = sorted(set(label_ids))
        if not chosen and not example_overrides(s, vntime.today()):
            raise LearningError("Chưa có nhãn mới hay câu hỏi mẫu nào sửa trên trình duyệt để huấn luyện. "
                                "Hãy gắn nhãn câu hỏi ở trang «Học từ câu hỏi thật» (hoặc sửa câu hỏi mẫu của một mục FAQ) trước.")
        if active_job(s) is not None:
            raise Conflict("Đang có một lượt huấn luyện chờ hoặc đang chạy. Hãy đợi lượt đó xong.")
    try:
        with db.session() as s:
            job = TrainingJob(status="queued", slot=SLOT, requested_by=officer, requested_at=utcnow(), include_label_ids=chosen,
                              base_version=base_version, progress=0, progress_message="Đang chờ tiến trình xử lý nhận việc…")
            s.add(job)
            s.flush()
            record(s, officer, "retrain_request", f"training_job:{job.id}", {"labels": len(chosen)})
            return job.id
    except IntegrityError:
        raise Conflict("Đang có một lượt huấn luyện chờ hoặc đang chạy. Hãy đợi lượt đó xong.") from None


def get_job(session: Session, job_id: int) -> TrainingJob:
    job = session.get(TrainingJob, job_id)
    if job is None:
        raise NotFound(f"Không có lượt huấn luyện số {job_id}.")
    return job


def job_status(job: TrainingJob) -> dict:
    """The JSON the models page polls."""
    return {"id": job.id, "status": job.status, "status_label": STATUS_LABELS[job.status], "progress": job.progress,
            "message": job.progress_message, "candidate_version": job.candidate_version, "base_version": job.base_version,
            "error": job.error, "finished": job.status not in ACTIVE}


# --- running -----------------------------------------------------------------------------------


def _fail_stale(db: Database, now: dt.datetime) -> None:
    with db.read() as s:
        if s.scalar(select(TrainingJob.id).where(TrainingJob.status == "running", TrainingJob.heartbeat_at < now - STALE_AFTER)) is None:
            return
    with db.session() as s:
        stale = s.scalars(select(TrainingJob).where(TrainingJob.status == "running", TrainingJob.heartbeat_at < now - STALE_AFTER)).all()
        for job in stale:
            job.status, job.slot, job.finished_at = "failed", None, now
            job.error = "Tiến trình huấn luyện đã dừng giữa chừng (không còn tín hiệu). Hãy yêu cầu huấn luyện lại."
            logger.warning("training job %s: no heartbeat since %s, marked failed", job.id, job.heartbeat_at)


def claim(db: Database, now: dt.datetime | None = None) -> int | None:
    """Take the oldest queued job for this process (a conditional UPDATE: one claimer wins)."""
    now = now or utcnow()
    _fail_stale(db, now)
    with db.read() as s:
        job_id = s.scalar(select(TrainingJob.id).where(TrainingJob.status == "queued").order_by(TrainingJob.id).limit(1))
    if job_id is None:
        return None
    with db.session() as s:
        won = s.execute(update(TrainingJob).where(TrainingJob.id == job_id, TrainingJob.status == "queued").values(
            status="running", started_at=now, heartbeat_at=now, progress=_STEPS["data"],
            progress_message="Đang chuẩn bị dữ liệu huấn luyện…")).rowcount
    return job_id if won == 1 else None


class _Reporter:
    """Writes progress messages to the job's row (short transactions; at most every half second)."""

    def __init__(self, db: Database, job_id: int):
        self.db, self.job_id, self._at = db, job_id, 0.0

    def __call__(self, message: str, percent: int | None = None, force: bool = False) -> None:
        if percent is None:
            fold = _FOLD_RE.search(message)
            if fold and int(fold.group(2)):
                span = _STEPS["trained"] - _STEPS["train"]
                percent = _STEPS["train"] + span * int(fold.group(1)) // (int(fold.group(2)) + 1)
        now = time.monotonic()
        if not force and percent is None and now - self._at < 0.5:
            return
        self._at = now
        values = {"progress_message": message[:1000], "heartbeat_at": utcnow()}
        if percent is not None:
            values["progress"] = percent
        with self.db.session() as s:
            s.execute(update(TrainingJob).where(TrainingJob.id == self.job_id).values(**values))


def run_next(db: Database, settings, resources, faq_examples=None) -> int | None:
    """Claim and run the oldest queued job; returns its id, or None when nothing was queued.

    ``faq_examples``: the FAQ editor's example phrasings (``bot.faq_edits.example_overrides``; see
    ``training_data``)."""
    job_id = claim(db)
    if job_id is None:
        return None
    say = _Reporter(db, job_id)
    registry = ModelRegistry(settings["MODELS_DIR"])
    folder = None
    try:
        with db.read() as s:
            ids = get_job(s, job_id).include_label_ids or []
            rows = list(s.scalars(select(QuestionLabel).where(QuestionLabel.id.in_(ids)).order_by(QuestionLabel.id)))
            s.expunge_all()
        data, kb, used = training_data(settings, rows, faq_examples)
        say(f"Dữ liệu: {len(data.examples)} câu ví dụ, trong đó {len(used)} câu đã gắn nhãn.", _STEPS["train"], force=True)
        started = time.perf_counter()
        result = train_data(settings, data, kb, folds=int(settings["RETRAIN_FOLDS"]), activate=False, progress=say)
        folder = result.folder
        train_seconds = round(time.perf_counter() - started, 2)
        base_name = registry.current_name()
        with db.session() as s:
            job = get_job(s, job_id)
            job.candidate_version, job.base_version = folder.name, base_name
        say("Đã huấn luyện xong. Đang so sánh với mô hình đang dùng…", _STEPS["compare"], force=True)
        candidate = load_model(folder)
        base_model = registry.load_current() if base_name else candidate
        comparison = compare(settings, Engine(base_model, resources), Engine(candidate, resources),
                             [(r.id, r.text, r.intent) for r in used], progress=say)
        comparison["train_seconds"] = train_seconds
        comparison["n_examples"] = len(data.examples)
        comparison["labels_used"] = [r.id for r in used]
        with db.session() as s:
            job = get_job(s, job_id)
            job.comparison, job.status, job.slot = comparison, "succeeded", None
            job.progress, job.progress_message, job.finished_at = _STEPS["done"], "Xong. Xem bảng so sánh rồi quyết định.", utcnow()
        logger.info("training job %s: candidate %s trained in %.1f s, compared in %.1f s", job_id, folder.name, train_seconds,
                    comparison["seconds"])
    except Exception as exc:  # noqa: BLE001 - recorded on the row for the maintainer
        logger.exception("training job %s failed", job_id)
        if folder is not None and folder.exists() and registry.current_name() != folder.name:
            shutil.rmtree(folder, ignore_errors=True)
        with db.session() as s:
            job = get_job(s, job_id)
            job.status, job.slot, job.finished_at = "failed", None, utcnow()
            job.candidate_version = None
            job.error = str(exc)[:2000] or type(exc).__name__
    return job_id
