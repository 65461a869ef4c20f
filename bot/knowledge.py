"""The FAQ knowledge base in ``faq/``: loading, validation and rendering.

One YAML file per topic group::

    group: tien_luong
    title: "Tiền lương"
    entries:
      - id: luong_toi_thieu_vung          # intent faq/luong_toi_thieu_vung
        topic: luong_toi_thieu_vung
        title: "Lương tối thiểu vùng năm 2026 là bao nhiêu?"
        button: "Lương tối thiểu"         # quick-reply label, <= 20 characters
        answer: |-
          ...
          Căn cứ: Điều 91 Bộ luật Lao động 2019; Nghị định 293/2025/NĐ-CP.
        legal_basis: [{document: ..., number: ..., article: ...}]
        as_of: 2026-11-27
        effective_from: 2026-01-01        # for time-sensitive figures
        related: [tra_luong_dung_han]
        escalate: never | offer | always
        tags: [...]
        calculator: severance             # optional: computes the worker's own figure (bot.calculators)

Answers may contain placeholders for the organisation (``{org_name}``, ``{hotline}`` …) filled from
configuration when rendered.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import yaml_lines

ESCALATE_VALUES = ("never", "offer", "always")
PLACEHOLDERS = ("org_name", "org_short_name", "hotline", "address", "office_hours", "fanpage_url", "zalo_url")
MAX_ANSWER_CHARS = 1000
MAX_BUTTON_CHARS = 20
AS_OF_MAX_AGE_DAYS = 366
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# Texts that were replaced and must never be cited as current law.
REPEALED_TEXTS = {
    "58/2014/QH13": "Luật Bảo hiểm xã hội 2014 (thay bằng Luật 41/2024/QH15 từ 01/7/2025)",
    "12/2012/QH13": "Luật Công đoàn 2012 (thay bằng Luật 50/2024/QH15 từ 01/7/2025)",
    "38/2013/QH13": "Luật Việc làm 2013 (thay bằng Luật 74/2025/QH15 từ 01/01/2026)",
    "74/2024/NĐ-CP": "Nghị định 74/2024/NĐ-CP về lương tối thiểu (thay bằng Nghị định 293/2025/NĐ-CP từ 01/01/2026)",
    "10/2012/QH13": "Bộ luật Lao động 2012 (thay bằng Bộ luật Lao động 2019 từ 01/01/2021)",
}


class KnowledgeBaseError(ValueError):
    """The knowledge base cannot be loaded; the message names the file (and line if known)."""


@dataclass(frozen=True)
class LegalBasis:
    document: str
    number: str
    article: str | None = None

    def cite(self) -> str:
        parts = [self.article, self.document]
        text = " ".join(p for p in parts if p)
        return f"{text} ({self.number})" if self.number and self.number not in text else text


@dataclass
class FAQEntry:
    id: str
    topic: str
    title: str
    answer: str
    legal_basis: list[LegalBasis]
    as_of: dt.date | None
    escalate: str = "never"
    button: str = ""
    effective_from: dt.date | None = None
    related: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    calculator: str | None = None  # a calculator in bot.calculators for the worker's own figure
    group: str = ""
    source: str = ""
    line: int = 0

    @property
    def intent(self) -> str:
        return f"faq/{self.id}"

    @property
    def label(self) -> str:
        """Short label for a quick-reply button (<= 20 characters)."""
        if self.button:
            return self.button
        return self.title if len(self.title) <= MAX_BUTTON_CHARS else self.title[: MAX_BUTTON_CHARS - 1] + "…"

    def render(self, context: dict[str, str]) -> str:
        return render_template(self.answer, context)


class _SafeDict(dict):
    def __missing__(self, key):  # unknown placeholders stay visible rather than crash
        return "{" + key + "}"


def render_template(text: str, context: dict[str, str]) -> str:
    return string.Formatter().vformat(text, (), _SafeDict(context))


def placeholders_in(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _as_date(value, where: str, key: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise KnowledgeBaseError(f"{where}: '{key}' phải là ngày dạng YYYY-MM-DD (gặp {value!r})") from None


def load_faq_file(path: str | Path) -> list[FAQEntry]:
    path = Path(path)
    source = str(path)
    try:
        doc = yaml_lines.load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        where = yaml_lines.error_location(exc, source)
        raise KnowledgeBaseError(f"{where}: YAML không hợp lệ: {getattr(exc, 'problem', None) or exc}") from None
    except UnicodeDecodeError:
        raise KnowledgeBaseError(f"{source}: tệp không phải UTF-8") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        raise KnowledgeBaseError(f"{source}:1: tệp FAQ cần khóa 'group' và danh sách 'entries'")
    group = str(doc.get("group") or path.stem)
    entries = []
    for raw in doc["entries"]:
        if not isinstance(raw, dict):
            raise KnowledgeBaseError(f"{source}: mỗi mục trong 'entries' phải là một bảng")
        entries.append(entry_from_mapping(raw, group, source, raw["__line__"]))
    return entries


def entry_from_mapping(raw: dict, group: str, source: str, line: int) -> FAQEntry:
    """One entry from its YAML mapping (a file's, or a browser edit's content); ``KnowledgeBaseError``
    names ``source:line`` when a required field is missing or a date cannot be read."""
    where = f"{source}:{line}"
    missing = [k for k in ("id", "topic", "title", "answer") if not raw.get(k)]
    if missing:
        raise KnowledgeBaseError(f"{where}: mục FAQ thiếu {', '.join(missing)}")
    basis = []
    for b in raw.get("legal_basis") or []:
        if not isinstance(b, dict) or not b.get("document"):
            raise KnowledgeBaseError(f"{where}: mỗi 'legal_basis' cần 'document' và 'number'")
        basis.append(LegalBasis(str(b["document"]), str(b.get("number") or ""), str(b["article"]) if b.get("article") else None))
    return FAQEntry(
        id=str(raw["id"]),
        topic=str(raw["topic"]),
        title=unicodedata.normalize("NFC", str(raw["title"]).strip()),
        answer=unicodedata.normalize("NFC", str(raw["answer"]).strip()),
        legal_basis=basis,
        as_of=_as_date(raw.get("as_of"), where, "as_of"),
        escalate=str(raw.get("escalate", "never")),
        button=str(raw.get("button") or ""),
        effective_from=_as_date(raw.get("effective_from"), where, "effective_from"),
        related=[str(r) for r in raw.get("related") or []],
        tags=[str(t) for t in raw.get("tags") or []],
        calculator=str(raw["calculator"]) if raw.get("calculator") else None,
        group=group,
        source=source,
        line=line,
    )


class KnowledgeBase:
    def __init__(self, entries: list[FAQEntry]):
        self.entries = entries
        self.by_id: dict[str, FAQEntry] = {}
        for e in entries:
            if e.id in self.by_id:
                other = self.by_id[e.id]
                raise KnowledgeBaseError(f"{e.source}:{e.line}: id '{e.id}' trùng với {other.source}:{other.line}")
            self.by_id[e.id] = e

    @classmethod
    def load(cls, folder: str | Path) -> KnowledgeBase:
        folder = Path(folder)
        if not folder.is_dir():
            raise KnowledgeBaseError(f"{folder}: không tìm thấy thư mục FAQ")
        entries: list[FAQEntry] = []
        for f in sorted(folder.glob("*.y*ml")):
            entries.extend(load_faq_file(f))
        return cls(entries)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, entry_id: str) -> FAQEntry | None:
        return self.by_id.get(entry_id)

    def for_intent(self, intent: str | None) -> FAQEntry | None:
        if intent and intent.startswith("faq/"):
            return self.by_id.get(intent[4:])
        return None

    def with_calculator(self, calculator: str) -> FAQEntry | None:
        """The first entry that computes with this calculator."""
        return next((e for e in self.entries if e.calculator == calculator), None)

    def topic_of(self, intent: str | None) -> str | None:
        """The topic of a FAQ intent's entry; None for any other intent."""
        entry = self.for_intent(intent)
        return entry.topic if entry is not None else None

    def search(self, query: str, limit: int = 10) -> list[FAQEntry]:
        """Simple accent-insensitive keyword search over titles, tags and answers (for officers)."""
        from .nlu.normalize import strip_accents

        words = [w for w in strip_accents(query.lower()).split() if w]
        if not words:
            return self.entries[:limit]
        scored = []
        for e in self.entries:
            hay_title = strip_accents((e.title + " " + " ".join(e.tags)).lower())
            hay = strip_accents(e.answer.lower())
            score = sum(3 * (w in hay_title) + (w in hay) for w in words)
            if score:
                scored.append((score, e.id, e))
        scored.sort(key=lambda t: (-t[0], t[1]))
        return [e for _, _, e in scored[:limit]]

    def validate(self, today: dt.date | None = None) -> list[str]:
        """Content checks; returns a list of error messages (empty when everything is fine)."""
        today = today or dt.date.today()
        errors = []
        ids = set(self.by_id)
        for e in self.entries:
            where = f"{e.source}:{e.line} [{e.id}]"
            errors.extend(f"{where}: {problem}" for problem in entry_errors(e, ids, today))
        return errors


def entry_errors(e: FAQEntry, known_ids: set[str], today: dt.date) -> list[str]:
    """The content rules of one entry (``python -m bot validate`` and the browser editor share them);
    ``known_ids``: the ids its ``related`` may name. Messages carry no location."""
    errors = []
    if not ID_RE.match(e.id):
        errors.append("id phải là snake_case (chữ thường, số, gạch dưới)")
    if e.escalate not in ESCALATE_VALUES:
        errors.append(f"escalate phải là một trong {', '.join(ESCALATE_VALUES)}")
    if not e.legal_basis:
        errors.append("thiếu legal_basis (căn cứ pháp lý)")
    for b in e.legal_basis:
        if b.number in REPEALED_TEXTS:
            errors.append(f"trích dẫn văn bản đã hết hiệu lực: {REPEALED_TEXTS[b.number]}")
    for number, label in REPEALED_TEXTS.items():
        if number in e.answer:
            errors.append(f"câu trả lời nhắc {number} — {label}; hãy kiểm tra không nêu như văn bản hiện hành")
    if e.as_of is None:
        errors.append("thiếu as_of (ngày kiểm tra nội dung)")
    elif (today - e.as_of).days > AS_OF_MAX_AGE_DAYS:
        errors.append(f"as_of {e.as_of.isoformat()} đã quá 12 tháng; hãy rà soát lại nội dung")
    elif e.as_of > today:
        errors.append(f"as_of {e.as_of.isoformat()} ở tương lai")
    if len(e.answer) > MAX_ANSWER_CHARS:
        errors.append(f"câu trả lời dài {len(e.answer)} ký tự (tối đa {MAX_ANSWER_CHARS})")
    if "Căn cứ" not in e.answer:
        errors.append("câu trả lời phải có dòng 'Căn cứ: …'")
    if len(e.label) > MAX_BUTTON_CHARS:
        errors.append(f"button dài quá {MAX_BUTTON_CHARS} ký tự")
    unknown = placeholders_in(e.answer) - set(PLACEHOLDERS)
    if unknown:
        errors.append(f"placeholder không hợp lệ: {', '.join(sorted(unknown))} (cho phép: {', '.join(PLACEHOLDERS)})")
    if e.calculator and e.calculator not in _calculator_names():
        errors.append(f"calculator '{e.calculator}' không có (có: {', '.join(sorted(_calculator_names()))})")
    for r in e.related:
        if r not in known_ids:
            errors.append(f"related '{r}' không tồn tại")
    if unicodedata.normalize("NFC", e.answer) != e.answer:
        errors.append("văn bản chưa chuẩn hóa Unicode NFC")
    return errors


def _calculator_names() -> set[str]:
    from .calculators import CALCULATORS

    return set(CALCULATORS)


REGIONS = ("I", "II", "III", "IV")


def load_places(path: str | Path) -> dict[str, str]:
    """The union's own table of places -> minimum-wage region (``faq/places/regions.yml``)."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:  # also impossible dates, huge integers, deep nesting
        raise KnowledgeBaseError(f"{path}: YAML không hợp lệ ({exc.__class__.__name__})") from None
    places = raw.get("places") or {} if isinstance(raw, dict) else None
    if not isinstance(places, dict):
        raise KnowledgeBaseError(f"{path}: 'places' phải là bảng tên địa bàn: vùng")
    table = {}
    for name, region in places.items():
        region = str(region).strip().upper()
        if region not in REGIONS:
            raise KnowledgeBaseError(f"{path}: '{name}': vùng phải là một trong {', '.join(REGIONS)} (gặp: {region})")
        table[unicodedata.normalize("NFC", str(name).strip())] = region
    return table
