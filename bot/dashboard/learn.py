"""«Học từ câu hỏi thật»: the review queue of real questions, labelled one click (or one key) at a time.

The domain logic is ``bot.learning.review``; this page lists the queue and records labels. A label
form answers JSON to the page's script (keyboard labelling) and redirects back otherwise (no JS).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for

from ..learning import LearningError
from ..learning import review as review_ops
from ..runtime import current_runtime
from .auth import maintainer_required

bp = Blueprint("learn", __name__)

CHOICES = {"new_question", "out_of_scope", "skip"}


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _intents() -> list[str]:
    runtime = current_runtime()
    return review_ops.known_intents(runtime.engine.kb, runtime.engine.model)


@bp.get("/learn")
@maintainer_required
def index():
    runtime = current_runtime()
    runtime.reload_model_if_changed()
    source = request.args.get("source") or None
    if source is not None and source not in review_ops.SOURCES:
        abort(400, description="Nguồn không hợp lệ.")
    model = runtime.engine.model
    parse_many = getattr(model, "parse_many", None)
    with runtime.db.read() as s:
        rows = review_ops.queue(s, parse_many, source)
        counts = review_ops.counts(s)
    kb = runtime.engine.kb
    titles = {e.intent: e.title for e in kb.entries}
    return render_template("dashboard/learn.html", rows=rows, source=source, sources=review_ops.SOURCE_LABELS, counts=counts,
                           intents=_intents(), titles=titles, model_version=getattr(model, "version", None))


@bp.post("/learn/label")
@maintainer_required
def label():
    form = request.form
    try:
        message_id = int(form.get("message_id", ""))
    except ValueError:
        return _refuse("Thiếu hoặc sai số tin nhắn.", 400)
    choice = form.get("choice", "")
    if choice.startswith("intent:"):
        kind, intent = "intent", choice[len("intent:"):]
    elif choice == "pick":
        kind, intent = "intent", form.get("intent", "")
    elif choice in CHOICES:
        kind, intent = choice, None
    else:
        return _refuse("Hãy chọn một nhãn cho câu hỏi.", 400)
    runtime = current_runtime()
    try:
        with runtime.db.session() as s:
            row = review_ops.label(s, message_id, kind, intent, g.officer.email, intents=_intents(), source=form.get("source") or None)
            done = f"Đã gắn nhãn: {review_ops.KIND_LABELS[row.label_kind]}" + (f" {row.intent}" if row.label_kind == "intent" else "") + "."
    except LearningError as exc:
        return _refuse(str(exc), exc.status)
    if _wants_json():
        return jsonify({"ok": True, "message": done})
    flash(done, "ok")
    return redirect(url_for("learn.index", source=form.get("filter") or None))


def _refuse(message: str, status: int):
    if _wants_json():
        return jsonify({"ok": False, "error": message}), status
    abort(status, description=message)
