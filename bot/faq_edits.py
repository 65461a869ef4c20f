"""FAQ entries edited in the browser: revisions in the database, laid over the files in ``faq/``.

The files (``faq/*.yml`` and the ``faq/<id>`` intents of ``nlu_data/``) stay what developers read and
version; a deployment's edits live in table ``faq_revisions`` (durable, shared by every process,
transactional). The entry in the files is version 0; each save adds version 1, 2, 3… holding every
editable field (``FIELDS``), example phrasings included.

The content in effect on a (Vietnam) day is, per entry, the revision that took effect last: its
``takes_effect_on`` date, or the day it was saved when it applies at once; on the same day the
higher version wins. So an immediate correction saved before a scheduled change does not cancel
it: the scheduled revision takes over on its date.

Saving is optimistic: the editor sends the version it started from (``base_version``); if another
maintainer saved in between, ``StaleEdit`` says who and when, and nothing is written. Content is
checked with the rules of ``python -m bot validate`` (``bot.knowledge.entry_errors`` and
``bot.validation.example_errors``). Every save and revert writes an ``audit_log`` row.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import vntime
from .config import Settings
from .knowledge import AS_OF_MAX_AGE_DAYS, ID_RE, FAQEntry, KnowledgeBase, KnowledgeBaseError, entry_errors, entry_from_mapping
from .storage.models import AuditLog, FaqRevision, utcnow

logger = logging.getLogger(__name__)

FIELDS = ("title", "topic", "group", "button", "answer", "legal_basis", "as_of", "effective_from", "escalate", "related", "tags",
          "calculator", "examples")
DB_SOURCE = "bản sửa trên trình duyệt"
FILES_AUTHOR = "tệp faq/"


class StaleEdit(Exception):
    """The entry changed since the editor opened it; the message (Vietnamese) says who changed it and when."""

    def __init__(self, entry_id: str, version: int | None, author: str | None, at: dt.datetime | None):
        self.entry_id, self.version, self.author, self.at = entry_id, version, author, at
        if version is None:
            text = f"Mục '{entry_id}' không còn như lúc bạn mở trang."
        elif author is None:
            text = f"Mục '{entry_id}' đã có sẵn trong tệp faq/ (phiên bản 0)."
        else:
            text = f"Mục '{entry_id}' vừa được {author} lưu lúc {vntime.format_short(at)} (phiên bản {version})."
        super().__init__(text + " Nội dung bạn nhập vẫn còn trong biểu mẫu: hãy xem bản mới rồi lưu lại.")


class InvalidEdit(ValueError):
    """The content breaks the rules of ``python -m bot validate``; ``errors`` lists them (Vietnamese)."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


# --- the files ----------------------------------------------------------------------------------


@dataclass
class FaqFiles:
    """What ``faq/`` and ``nlu_data/`` say: the knowledge base, each FAQ intent's example phrasings
    and the file that holds them, and every other intent's examples (for the duplicate rule)."""

    kb: KnowledgeBase
    examples: dict[str, list[str]] = field(default_factory=dict)  # "faq/<id>" -> examples
    example_files: dict[str, str] = field(default_factory=dict)  # "faq/<id>" -> the nlu_data file
    other_examples: dict[str, str] = field(default_factory=dict)  # example_key -> intent, not FAQ intents

    @classmethod
    def load(cls, settings: Settings) -> FaqFiles:
        from .training import project_nlu_data
        from .validation import example_key

        kb = KnowledgeBase.load(settings["FAQ_DIR"])
        files = cls(kb)
        for ex in project_nlu_data(settings).examples:
            if ex.intent.startswith("faq/"):
                files.examples.setdefault(ex.intent, []).append(ex.text)
                files.example_files.setdefault(ex.intent, ex.source)
            else:
                files.other_examples.setdefault(example_key(ex.text), ex.intent)
        return files

    def content(self, entry_id: str) -> dict | None:
        """Version 0 of an entry (None when the files do not have it)."""
        entry = self.kb.get(entry_id)
        return content_of(entry, self.examples.get(entry.intent, [])) if entry is not None else None


_files_cache: dict[tuple, FaqFiles] = {}
_files_lock = threading.Lock()


def load_files(settings: Settings) -> FaqFiles:
    """``FaqFiles.load``, kept until a file of ``FAQ_DIR`` or ``NLU_DATA_DIR`` changes."""
    folders = [Path(settings["FAQ_DIR"]), Path(settings["NLU_DATA_DIR"])]
    stamp = tuple((str(p), p.stat().st_mtime_ns) for folder in folders for p in sorted(folder.rglob("*.y*ml")))
    key = (tuple(map(str, folders)), str(settings["CALIBRATION_FILE"]), stamp)
    with _files_lock:
        if key not in _files_cache:
            _files_cache.clear()
            _files_cache[key] = FaqFiles.load(settings)
        return _files_cache[key]


# --- content ------------------------------------------------------------------------------------


def content_of(entry: FAQEntry, examples: list[str]) -> dict:
    """Every editable field of an entry as plain JSON."""
    return {
        "title": entry.title, "topic": entry.topic, "group": entry.group, "button": entry.button, "answer": entry.answer,
        "legal_basis": [{"document": b.document, "number": b.number, "article": b.article} for b in entry.legal_basis],
        "as_of": entry.as_of.isoformat() if entry.as_of else None,
        "effective_from": entry.effective_from.isoformat() if entry.effective_from else None,
        "escalate": entry.escalate, "related": list(entry.related), "tags": list(entry.tags), "calculator": entry.calculator,
        "examples": list(examples),
    }


def clean_content(content: dict) -> dict:
    """Only the editable fields, texts in Unicode NFC without surrounding blanks, empty rows dropped."""

    def text(value) -> str:
        return unicodedata.normalize("NFC", str(value or "")).strip()

    def texts(values) -> list[str]:
        return [t for t in (text(v) for v in values or []) if t]

    basis = [{"document": text(b.get("document")), "number": text(b.get("number")), "article": text(b.get("article")) or None}
             for b in content.get("legal_basis") or [] if isinstance(b, dict)]
    return {
        "title": text(content.get("title")), "topic": text(content.get("topic")), "group": text(content.get("group")),
        "button": text(content.get("button")), "answer": text(content.get("answer")),
        "legal_basis": [b for b in basis if b["document"] or b["number"] or b["article"]],
        "as_of": text(content.get("as_of")) or None, "effective_from": text(content.get("effective_from")) or None,
        "escalate": text(content.get("escalate")) or "never", "related": texts(content.get("related")),
        "tags": texts(content.get("tags")), "calculator": text(content.get("calculator")) or None,
        "examples": texts(content.get("examples")),
    }


def entry_from_content(entry_id: str, content: dict, version: int = 0) -> FAQEntry:
    """The ``FAQEntry`` a revision describes; ``KnowledgeBaseError`` if a required field is missing
    or a date cannot be read."""
    return entry_from_mapping({**content, "id": entry_id}, content.get("group") or "", DB_SOURCE, version)


def _problem(exc: KnowledgeBaseError) -> str:
    """The message of a loading error without its 'source:line: ' prefix."""
    return str(exc).split(": ", 1)[-1]


# --- reading revisions --------------------------------------------------------------------------


def _effective_day(takes_effect_on: dt.date | None, created_at: dt.datetime) -> dt.date:
    return takes_effect_on or vntime.to_local(created_at).date()


def effective_revisions(session: Session, today: dt.date) -> dict[str, FaqRevision]:
    """Per entry, the revision in effect on ``today`` (entries never edited are absent). The choice is
    made on the small columns; only the chosen revisions' content is loaded."""
    rows = session.execute(select(FaqRevision.id, FaqRevision.entry_id, FaqRevision.version, FaqRevision.takes_effect_on,
                                  FaqRevision.created_at)
                           .where((FaqRevision.takes_effect_on.is_(None)) | (FaqRevision.takes_effect_on <= today)))
    best: dict[str, tuple] = {}
    for rev_id, entry_id, version, takes_effect_on, created_at in rows:
        key = (_effective_day(takes_effect_on, created_at), version, rev_id)
        if entry_id not in best or key > best[entry_id]:
            best[entry_id] = key
    chosen = [key[2] for key in best.values()]
    revisions = session.scalars(select(FaqRevision).where(FaqRevision.id.in_(chosen))).all() if chosen else []
    return {rev.entry_id: rev for rev in revisions}


def latest_revision(session: Session, entry_id: str) -> FaqRevision | None:
    return session.scalars(select(FaqRevision).where(FaqRevision.entry_id == entry_id).order_by(FaqRevision.version.desc()).limit(1)).first()


def last_revision_id(session: Session) -> int:
    """The newest revision id (0 when none): any process sees a save by it changing."""
    return session.scalar(select(func.max(FaqRevision.id))) or 0


def edited_ids(session: Session) -> set[str]:
    return set(session.scalars(select(FaqRevision.entry_id).distinct()))


def effective_entries(session: Session, base: KnowledgeBase, today: dt.date) -> KnowledgeBase:
    """The FAQ the bot answers from on ``today``: the files overlaid by the revision in effect of each
    entry, and the entries created in the browser (after the files', in order of creation)."""
    revisions = effective_revisions(session, today)
    entries = []
    for entry in base.entries:
        rev = revisions.pop(entry.id, None)
        entries.append(_entry_or(rev, entry))
    for rev in sorted(revisions.values(), key=lambda r: r.id):
        made = _entry_or(rev, None)
        if made is not None:
            entries.append(made)
    return KnowledgeBase(entries)


def _entry_or(rev: FaqRevision | None, fallback: FAQEntry | None) -> FAQEntry | None:
    if rev is None:
        return fallback
    try:
        return entry_from_content(rev.entry_id, rev.content, rev.version)
    except KnowledgeBaseError as exc:  # saved content is validated; this guards against hand-edited rows
        logger.error("FAQ revision %s of %s cannot be used (%s); keeping the previous content", rev.version, rev.entry_id, exc)
        return fallback


def example_overrides(session: Session, today: dt.date, base_examples: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    """Intent (``faq/<id>``) -> the full list of example phrasings, for every entry whose revision in
    effect changed them (compared with ``base_examples``, the files'; without it, every edited entry)."""
    out = {}
    for entry_id, rev in effective_revisions(session, today).items():
        intent = f"faq/{entry_id}"
        examples = list(rev.content.get("examples") or [])
        if base_examples is None or base_examples.get(intent) != examples:
            out[intent] = examples
    return out


def content_at(session: Session, files: FaqFiles, entry_id: str, version: int) -> dict | None:
    """The content of one version (0: the files')."""
    if version == 0:
        return files.content(entry_id)
    rev = session.scalars(select(FaqRevision).where(FaqRevision.entry_id == entry_id, FaqRevision.version == version)).first()
    return rev.content if rev is not None else None


def current(session: Session, files: FaqFiles, entry_id: str, today: dt.date) -> tuple[dict | None, int | None]:
    """What the editor starts from: the content in effect today and the entry's latest version (the
    ``base_version`` of a save). ``(None, None)`` for an unknown entry."""
    latest = latest_revision(session, entry_id)
    in_effect = effective_revisions(session, today).get(entry_id)
    if in_effect is not None:
        return in_effect.content, latest.version
    base = files.content(entry_id)
    if base is not None:
        return base, latest.version if latest else 0
    if latest is not None:  # created in the browser, scheduled for later: edit the newest
        return latest.content, latest.version
    return None, None


# --- checking and saving ------------------------------------------------------------------------


def check(session: Session, files: FaqFiles, entry_id: str, content: dict, today: dt.date, new: bool = False) -> list[str]:
    """The errors ``python -m bot validate`` would report for this entry with this content (empty: fine)."""
    from .validation import example_errors, example_key

    content = clean_content(content)
    errors = []
    if new:
        if not ID_RE.match(entry_id):
            errors.append("mã mục (id) phải là snake_case: chữ thường không dấu, số, gạch dưới")
        elif entry_id in files.kb.by_id or latest_revision(session, entry_id) is not None:
            errors.append(f"đã có mục '{entry_id}'; hãy chọn mã khác")
    if not ID_RE.match(content["group"]):
        errors.append("nhóm (group) phải là snake_case: chữ thường không dấu, số, gạch dưới")
    kb = effective_entries(session, files.kb, today)
    try:
        entry = entry_from_content(entry_id, content)
    except KnowledgeBaseError as exc:
        return errors + [_problem(exc)]
    errors += entry_errors(entry, set(kb.by_id) | {entry_id}, today)
    taken = dict(files.other_examples)
    examples = {**files.examples, **example_overrides(session, today)}
    for intent, texts in examples.items():
        if intent != entry.intent and intent[4:] in kb.by_id:
            for text in texts:
                taken.setdefault(example_key(text), intent)
    errors += example_errors(entry.intent, content["examples"], taken)
    return errors


def save(session: Session, entry_id: str, content: dict, base_version: int | None, author: str,
         takes_effect_on: dt.date | None = None, note: str = "", *, files: FaqFiles, today: dt.date | None = None,
         reverted_from: FaqRevision | None = None) -> FaqRevision:
    """Store a new version of ``entry_id`` (a new entry when ``base_version`` is None).

    Raises ``StaleEdit`` when ``base_version`` is not the entry's latest version, ``InvalidEdit`` with
    the list of errors when the content breaks the rules. ``takes_effect_on`` after ``today`` schedules
    the content; ``today`` or earlier means at once."""
    today = today or vntime.today()
    content = clean_content(content)
    latest = latest_revision(session, entry_id)
    in_files = entry_id in files.kb.by_id
    current_version = latest.version if latest else (0 if in_files else None)
    if base_version != current_version:
        if latest is not None:
            raise StaleEdit(entry_id, latest.version, latest.author, latest.created_at)
        raise StaleEdit(entry_id, current_version, None, None)
    errors = check(session, files, entry_id, content, today, new=current_version is None)
    if errors:
        raise InvalidEdit(errors)
    version = (current_version or 0) + 1
    rev = FaqRevision(entry_id=entry_id, version=version, content=content, author=author, note=(note or "").strip()[:2000],
                      takes_effect_on=takes_effect_on if takes_effect_on and takes_effect_on > today else None,
                      reverted_from=reverted_from.id if reverted_from is not None else None, created_at=utcnow())
    try:
        with session.begin_nested():
            session.add(rev)
            session.flush()
    except IntegrityError:  # saved by someone else between our read and our write
        other = latest_revision(session, entry_id)
        raise StaleEdit(entry_id, other.version if other else None, other.author if other else None,
                        other.created_at if other else None) from None
    detail = {"from_version": current_version or 0, "to_version": version}
    if rev.takes_effect_on:
        detail["takes_effect_on"] = rev.takes_effect_on.isoformat()
    if reverted_from is not None:
        detail["restored_version"] = reverted_from.version
    action = "faq_revert" if reverted_from is not None else "faq_edit"
    session.add(AuditLog(at=rev.created_at, actor=author, action=action, target=entry_id, detail=detail))
    return rev


REVERT_NOTE_PREFIX = "Khôi phục phiên bản"


def revert(session: Session, entry_id: str, to_version: int, author: str, *, files: FaqFiles, today: dt.date | None = None,
           base_version: int | None = None) -> FaqRevision:
    """A new revision copying version ``to_version`` (0: the files'), in effect at once; ``base_version``
    (the latest version the maintainer saw) makes it optimistic like a save."""
    content = content_at(session, files, entry_id, to_version)
    if content is None:
        raise InvalidEdit([f"mục '{entry_id}' không có phiên bản {to_version}"])
    latest = latest_revision(session, entry_id)
    if latest is None:
        raise InvalidEdit([f"mục '{entry_id}' chưa được sửa lần nào"])
    source = session.scalars(select(FaqRevision).where(FaqRevision.entry_id == entry_id, FaqRevision.version == to_version)).first()
    base = latest.version if base_version is None else base_version
    return save(session, entry_id, content, base, author, note=f"{REVERT_NOTE_PREFIX} {to_version}", files=files,
                today=today, reverted_from=source or _FileVersion())


class _FileVersion:
    """Version 0 as a revert source: it has no row."""

    id = None
    version = 0


# --- history, review lists ---------------------------------------------------------------------


@dataclass
class HistoryItem:
    version: int
    author: str
    created_at: dt.datetime | None
    note: str
    takes_effect_on: dt.date | None
    reverted_from: int | None  # the version restored
    changes: list[tuple[str, object, object]]  # (field, before, after)


def history(session: Session, entry_id: str, files: FaqFiles | None = None) -> list[HistoryItem]:
    """Every version of an entry, newest first, each with the fields it changed from the one before."""
    revs = list(session.scalars(select(FaqRevision).where(FaqRevision.entry_id == entry_id).order_by(FaqRevision.version)))
    versions_by_id = {r.id: r.version for r in revs}
    base = files.content(entry_id) if files is not None else None
    items = []
    if base is not None:
        items.append(HistoryItem(0, FILES_AUTHOR, None, "", None, None, []))
    before = base or {}
    for rev in revs:
        changes = [(name, before.get(name), rev.content.get(name)) for name in FIELDS if before.get(name) != rev.content.get(name)]
        restored = versions_by_id.get(rev.reverted_from) if rev.reverted_from else (0 if rev.note.startswith(REVERT_NOTE_PREFIX + " 0") else None)
        items.append(HistoryItem(rev.version, rev.author, rev.created_at, rev.note, rev.takes_effect_on, restored, changes))
        before = rev.content
    return items[::-1]


def stale(kb: KnowledgeBase, today: dt.date) -> list[FAQEntry]:
    """Entries whose content was last checked (``as_of``) more than 12 months ago, or never."""
    old = [e for e in kb.entries if e.as_of is None or (today - e.as_of).days > AS_OF_MAX_AGE_DAYS]
    return sorted(old, key=lambda e: (e.as_of or dt.date.min, e.id))


@dataclass(frozen=True)
class Upcoming:
    entry_id: str
    title: str
    on: dt.date
    kind: str  # scheduled (a revision takes effect) | effective_from (the entry's figures apply from)
    version: int | None = None


def upcoming(session: Session, kb: KnowledgeBase, today: dt.date, days: int = 60) -> list[Upcoming]:
    """Scheduled revisions and entries whose ``effective_from`` fall in the next ``days`` days."""
    until = today + dt.timedelta(days=days)
    out = []
    rows = session.scalars(select(FaqRevision).where(FaqRevision.takes_effect_on > today, FaqRevision.takes_effect_on <= until))
    for rev in rows:
        out.append(Upcoming(rev.entry_id, str(rev.content.get("title") or rev.entry_id), rev.takes_effect_on, "scheduled", rev.version))
    for e in kb.entries:
        if e.effective_from is not None and today < e.effective_from <= until:
            out.append(Upcoming(e.id, e.title, e.effective_from, "effective_from"))
    return sorted(out, key=lambda u: (u.on, u.entry_id, u.kind))


def scheduled_ids(session: Session, today: dt.date) -> set[str]:
    """Entries with a revision that takes effect after ``today``."""
    return set(session.scalars(select(FaqRevision.entry_id).where(FaqRevision.takes_effect_on > today).distinct()))
