"""Approved FAQ suggestions out of the database, into YAML files a maintainer completes before training.

An officer proposes an answer from a ticket, an admin approves it on the dashboard, and
``python -m bot faq export-suggestions`` appends each approved suggestion to ``faq/de_xuat.yml`` (an
entry with an empty ``legal_basis``) and ``nlu_data/faq_de_xuat.yml`` (its question as the one
example), then marks it exported. ``validate`` refuses the entries until they are completed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..nlu.normalize import strip_accents
from ..storage.models import FaqSuggestion

FAQ_FILE = "de_xuat.yml"
NLU_FILE = "faq_de_xuat.yml"
HEADER = ("# Exported FAQ suggestions: complete legal_basis and the answer's \"Căn cứ:\" line, add >= 30 examples, "
          "then validate and train.\n")


@dataclass
class Export:
    count: int
    faq_path: Path
    nlu_path: Path


def export_approved(session: Session, faq_dir: str | Path, nlu_dir: str | Path) -> Export:
    """Append every approved suggestion to the two files and mark it exported (committed with
    ``session``). With nothing approved, no file is written."""
    faq_path = Path(faq_dir) / FAQ_FILE
    nlu_path = Path(nlu_dir) / NLU_FILE
    faq_doc = _read(faq_path, {"group": "de_xuat", "title": "Đề xuất từ cán bộ", "entries": []})
    nlu_doc = _read(nlu_path, {"version": "3.1", "nlu": []})
    today = dt.date.today().isoformat()
    count = 0
    for sug in session.scalars(select(FaqSuggestion).where(FaqSuggestion.status == "approved").order_by(FaqSuggestion.id)):
        slug = re.sub(r"[^a-z0-9]+", "_", strip_accents(sug.question.lower())).strip("_")[:40] or "cau_hoi"
        entry_id = f"de_xuat_{sug.id}_{slug}"
        faq_doc["entries"].append({
            "id": entry_id, "topic": sug.topic or "de_xuat", "title": sug.question, "button": sug.question[:19],
            "answer": sug.answer, "legal_basis": [], "as_of": today, "related": [], "escalate": "offer",
            "tags": ["đề xuất từ cán bộ", "cần bổ sung căn cứ"],
        })
        nlu_doc["nlu"].append({"intent": f"faq/{entry_id}", "examples": f"- {sug.question}\n"})
        sug.status = "exported"
        count += 1
    if count:
        _write(faq_path, faq_doc)
        _write(nlu_path, nlu_doc)
    return Export(count, faq_path, nlu_path)


def _read(path: Path, empty: dict) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else empty


def _write(path: Path, doc: dict) -> None:
    path.write_text(HEADER + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")
