"""The FAQ editor for maintainers: list, edit with live checks and a channel preview, create, history
and revert. The work is in ``bot.faq_edits`` (revisions, checks) and ``bot.faq_preview``."""

from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for

from .. import faq_edits, faq_preview
from ..knowledge import ESCALATE_VALUES, KnowledgeBaseError
from ..runtime import current_runtime
from .auth import maintainer_required

bp = Blueprint("faq_editor", __name__)

BAD_ENCODING = "Nội dung gửi lên có ký tự không đọc được (không phải UTF-8). Vui lòng gõ lại bằng bàn phím tiếng Việt Unicode."
BAD_SCHEDULE = "Ngày áp dụng phải có dạng YYYY-MM-DD (ví dụ 2027-01-01)."
PAST_SCHEDULE = "Ngày áp dụng không được ở quá khứ; để trống nếu muốn áp dụng ngay."
BAD_VERSION = "Biểu mẫu thiếu số phiên bản. Vui lòng tải lại trang rồi thử lại."
RESERVED_IDS = ("new",)
# Bytes that are not UTF-8: werkzeug keeps them percent-quoted in urlencoded forms ("%E1") and
# replaces them with U+FFFD in multipart ones.
_QUOTED_BYTE = re.compile(r"%[89A-Fa-f][0-9A-Fa-f]")
FIELD_LABELS = {"title": "Câu hỏi", "topic": "Chủ đề", "group": "Nhóm", "button": "Nút bấm", "answer": "Câu trả lời",
                "legal_basis": "Căn cứ pháp lý", "as_of": "Ngày kiểm tra", "effective_from": "Hiệu lực từ", "escalate": "Chuyển cán bộ",
                "related": "Mục liên quan", "tags": "Từ khóa", "calculator": "Công cụ tính", "examples": "Câu hỏi mẫu"}
ESCALATE_LABELS = {"never": "Không", "offer": "Gợi ý gặp cán bộ", "always": "Luôn chuyển cán bộ"}


def shown(value) -> str:
    """A field's value as the history page shows it."""
    if value is None or value == []:
        return "—"
    if isinstance(value, list):
        return "\n".join(" · ".join(str(v) for v in (item.values() if isinstance(item, dict) else [item]) if v) for item in value)
    return str(value)


def _files() -> faq_edits.FaqFiles:
    return faq_edits.load_files(current_runtime().settings)


def _today() -> dt.date:
    return current_runtime().today()


def _split(value: str, sep: str) -> list[str]:
    return [part.strip() for part in (value or "").split(sep) if part.strip()]


def _form_content() -> dict:
    f = request.form
    basis = [{"document": d, "number": n, "article": a}
             for d, n, a in zip(f.getlist("basis_document"), f.getlist("basis_number"), f.getlist("basis_article"), strict=False)]
    return faq_edits.clean_content({
        "title": f.get("title"), "topic": f.get("topic"), "group": f.get("group"), "button": f.get("button"),
        "answer": (f.get("answer") or "").replace("\r\n", "\n"), "legal_basis": basis, "as_of": f.get("as_of"),
        "effective_from": f.get("effective_from"), "escalate": f.get("escalate"), "related": _split(f.get("related", ""), ","),
        "tags": _split(f.get("tags", ""), ","), "calculator": f.get("calculator"), "examples": _split(f.get("examples", ""), "\n"),
    })


def _form_problems() -> tuple[dt.date | None, list[str]]:
    """The schedule date typed (if any) and the problems of the form itself (encoding, dates)."""
    if any("\ufffd" in value or _QUOTED_BYTE.search(value) for _, values in request.form.lists() for value in values):
        return None, [BAD_ENCODING]
    raw = (request.form.get("takes_effect_on") or "").strip()
    if not raw:
        return None, []
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return None, [BAD_SCHEDULE]
    return day, [PAST_SCHEDULE] if day < _today() else []


def _preview(entry_id: str, content: dict) -> dict | None:
    try:
        entry = faq_edits.entry_from_content(entry_id or "muc_moi", content)
    except KnowledgeBaseError:
        return None
    return faq_preview.preview(current_runtime().engine.resources, entry)


def _render_form(entry_id: str | None, content: dict, base_version: int | None, errors=(), stale=None, newer=None, status=200):
    files = _files()
    with current_runtime().db.read() as s:
        groups = sorted({e.group for e in faq_edits.effective_entries(s, files.kb, _today()).entries})
        scheduled = [r for r in faq_edits.history(s, entry_id) if r.takes_effect_on and r.takes_effect_on > _today()] if entry_id else []
    page = render_template("dashboard/faq_edit.html", entry_id=entry_id, content=content, base_version=base_version, errors=list(errors),
                           stale=stale, newer=newer, groups=groups, scheduled=scheduled, preview=_preview(entry_id, content),
                           escalate_values=ESCALATE_VALUES, escalate_labels=ESCALATE_LABELS, form=request.form)
    return page, status


def _base_version() -> int | None:
    raw = request.form.get("base_version", "")
    if raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        abort(400, description=BAD_VERSION)


# --- pages ---------------------------------------------------------------------------------------


@bp.get("/faq")
@maintainer_required
def index():
    files, today = _files(), _today()
    q, group = request.args.get("q", "").strip()[:200], request.args.get("group", "").strip()[:120]
    with current_runtime().db.read() as s:
        kb = faq_edits.effective_entries(s, files.kb, today)
        edited, scheduled = faq_edits.edited_ids(s), faq_edits.scheduled_ids(s, today)
        soon = faq_edits.upcoming(s, kb, today)
    entries = kb.search(q, limit=len(kb)) if q else kb.entries
    entries = [e for e in entries if not group or e.group == group]
    return render_template("dashboard/faq_list.html", entries=entries, q=q, group=group, groups=sorted({e.group for e in kb.entries}),
                           edited=edited, scheduled=scheduled, stale=faq_edits.stale(kb, today), upcoming=soon, new_ids=set(kb.by_id) - set(files.kb.by_id))


@bp.route("/faq/new", methods=["GET", "POST"])
@maintainer_required
def create():
    if request.method == "GET":
        blank = faq_edits.clean_content({"as_of": _today().isoformat(), "escalate": "never", "group": request.args.get("group", "")})
        return _render_form(None, blank, None)
    entry_id = (request.form.get("entry_id") or "").strip()
    return _save(entry_id, new=True)


@bp.route("/faq/<entry_id>", methods=["GET", "POST"])
@maintainer_required
def edit(entry_id):
    if request.method == "POST":
        return _save(entry_id, new=False)
    with current_runtime().db.read() as s:
        content, version = faq_edits.current(s, _files(), entry_id, _today())
    if content is None:
        abort(404, description=f"Không có mục FAQ '{entry_id}'.")
    return _render_form(entry_id, content, version)


def _save(entry_id: str, new: bool):
    runtime = current_runtime()
    files = _files()
    content = _form_content()
    day, problems = _form_problems()
    base_version = _base_version()
    if not new:
        with runtime.db.read() as s:
            if faq_edits.current(s, files, entry_id, _today())[0] is None:
                abort(404, description=f"Không có mục FAQ '{entry_id}'.")
    elif entry_id in RESERVED_IDS:
        problems.append(f"mã '{entry_id}' được dành riêng; hãy chọn mã khác")
    if problems:
        return _render_form(entry_id if not new else None, content, base_version, problems, status=400)
    try:
        with runtime.db.session() as s:
            rev = faq_edits.save(s, entry_id, content, base_version, g.officer.email, takes_effect_on=day,
                                 note=request.form.get("note", ""), files=files, today=_today())
            version, scheduled_on = rev.version, rev.takes_effect_on
    except faq_edits.InvalidEdit as exc:
        return _render_form(entry_id if not new else None, content, base_version, exc.errors, status=400)
    except faq_edits.StaleEdit as exc:
        with runtime.db.read() as s:
            newer, latest = faq_edits.current(s, files, entry_id, _today())
        return _render_form(entry_id if not new else None, content, latest, stale=str(exc), newer=newer, status=409)
    runtime.reload_knowledge_if_changed(force=True)
    if scheduled_on:
        flash(f"Đã lưu phiên bản {version}; nội dung sẽ được áp dụng từ ngày {scheduled_on:%d/%m/%Y}.", "ok")
    else:
        flash(f"Đã lưu phiên bản {version}; bot trả lời theo nội dung mới ngay.", "ok")
    return redirect(url_for("faq_editor.edit", entry_id=entry_id))


@bp.post("/faq/<entry_id>/check")
@maintainer_required
def check(entry_id):
    """Live validation while the maintainer types: the errors a save would report, and the preview."""
    new = entry_id == "new"
    if new:
        entry_id = (request.form.get("entry_id") or "").strip()
    content = _form_content()
    _, problems = _form_problems()
    if new and entry_id in RESERVED_IDS:
        problems.append(f"mã '{entry_id}' được dành riêng; hãy chọn mã khác")
    with current_runtime().db.read() as s:
        if not new and faq_edits.current(s, _files(), entry_id, _today())[0] is None:
            return jsonify({"errors": [f"Không có mục FAQ '{entry_id}'."], "preview": None}), 404
        errors = problems + faq_edits.check(s, _files(), entry_id or "muc_moi", content, _today(), new=new and bool(entry_id))
    if new and not entry_id:
        errors.insert(0, "cần mã mục (id)")
    return jsonify({"errors": errors, "preview": _preview(entry_id, content)})


@bp.get("/faq/<entry_id>/history")
@maintainer_required
def history(entry_id):
    with current_runtime().db.read() as s:
        items = faq_edits.history(s, entry_id, _files())
    if not items:
        abort(404, description=f"Không có mục FAQ '{entry_id}'.")
    return render_template("dashboard/faq_history.html", entry_id=entry_id, items=items, labels=FIELD_LABELS, latest=items[0].version,
                           shown=shown, errors=[])


@bp.post("/faq/<entry_id>/revert")
@maintainer_required
def revert(entry_id):
    runtime = current_runtime()
    with runtime.db.read() as s:
        items = faq_edits.history(s, entry_id, _files())
    if not items:
        abort(404, description=f"Không có mục FAQ '{entry_id}'.")
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        abort(400, description="Thiếu số phiên bản cần khôi phục.")
    try:
        with runtime.db.session() as s:
            rev = faq_edits.revert(s, entry_id, version, g.officer.email, files=_files(), today=_today(), base_version=_base_version())
            new_version = rev.version
    except (faq_edits.InvalidEdit, faq_edits.StaleEdit) as exc:
        errors = exc.errors if isinstance(exc, faq_edits.InvalidEdit) else [str(exc)]
        with runtime.db.read() as s:
            items = faq_edits.history(s, entry_id, _files())
        page = render_template("dashboard/faq_history.html", entry_id=entry_id, items=items, labels=FIELD_LABELS,
                               latest=items[0].version, errors=errors, shown=shown)
        return page, 409 if isinstance(exc, faq_edits.StaleEdit) else 400
    runtime.reload_knowledge_if_changed(force=True)
    flash(f"Đã khôi phục phiên bản {version} thành phiên bản mới {new_version}.", "ok")
    return redirect(url_for("faq_editor.history", entry_id=entry_id))
