"""The FAQ editor's library (bot/faq_edits.py): overlay, optimistic locking, validation, history, schedule."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot import faq_edits
from bot.config import Settings
from bot.storage.models import AuditLog

TODAY = dt.date(2026, 12, 3)


@pytest.fixture(scope="module")
def files():
    return faq_edits.FaqFiles.load(Settings.load({}))


def edited(files, entry_id="nghi_phep_nam", **changes):
    content = files.content(entry_id)
    return {**content, **changes}


def new_content(files, title="Công đoàn có hỗ trợ đoàn viên khi bị tai nạn giao thông không?"):
    return {
        "title": title, "topic": "tro_cap_tai_nan_doan_vien", "group": "cong_doan", "button": "Hỗ trợ tai nạn",
        "answer": "Công đoàn cơ sở có thể thăm hỏi, hỗ trợ đoàn viên gặp tai nạn theo quy chế chi tiêu của đơn vị.\n"
                  "Căn cứ: Điều 10 Luật Công đoàn 2024 (50/2024/QH15).",
        "legal_basis": [{"document": "Luật Công đoàn 2024", "number": "50/2024/QH15", "article": "Điều 10"}],
        "as_of": "2026-12-01", "escalate": "offer",
        "examples": [f"đoàn viên bị tai nạn giao thông công đoàn có hỗ trợ không lần {i}" for i in range(30)],
    }


def test_an_edit_overlays_the_files_and_is_audited(db, files):
    with db.session() as s:
        answer = files.kb.get("nghi_phep_nam").answer.replace("12 ngày", "mười hai ngày")
        rev = faq_edits.save(s, "nghi_phep_nam", edited(files, answer=answer), 0, "bao@congdoan.vn", note="viết chữ",
                             files=files, today=TODAY)
        assert rev.version == 1
    with db.read() as s:
        kb = faq_edits.effective_entries(s, files.kb, TODAY)
        assert "mười hai ngày" in kb.get("nghi_phep_nam").answer
        assert kb.get("nghi_phep_nam").group == files.kb.get("nghi_phep_nam").group
        assert [e.id for e in kb.entries] == [e.id for e in files.kb.entries]
        [audit] = s.scalars(select(AuditLog)).all()
    assert (audit.actor, audit.action, audit.target, audit.detail) == ("bao@congdoan.vn", "faq_edit", "nghi_phep_nam",
                                                                       {"from_version": 0, "to_version": 1})


def test_a_second_save_from_the_same_version_is_stale(db, files):
    with db.session() as s:
        faq_edits.save(s, "nghi_phep_nam", edited(files, button="Phép năm"), 0, "an@congdoan.vn", files=files, today=TODAY)
    with db.session() as s, pytest.raises(faq_edits.StaleEdit) as stale:
        faq_edits.save(s, "nghi_phep_nam", edited(files, button="Nghỉ phép"), 0, "binh@congdoan.vn", files=files, today=TODAY)
    assert "an@congdoan.vn" in str(stale.value) and "phiên bản 1" in str(stale.value)
    with db.read() as s:
        assert faq_edits.latest_revision(s, "nghi_phep_nam").content["button"] == "Phép năm"


def test_invalid_content_is_refused_with_the_validate_messages(db, files):
    bad = edited(files, answer=files.kb.get("bhxh_mot_lan").answer + " Xem Luật 58/2014/QH13.",
                 legal_basis=[], related=["khong_co"], examples=["nghỉ phép năm"])
    with db.session() as s, pytest.raises(faq_edits.InvalidEdit) as refused:
        faq_edits.save(s, "nghi_phep_nam", bad, 0, "an@congdoan.vn", files=files, today=TODAY)
    text = "\n".join(refused.value.errors)
    assert "58/2014/QH13" in text and "thiếu legal_basis" in text and "related 'khong_co' không tồn tại" in text
    assert "chỉ có 1 câu ví dụ" in text
    with db.read() as s:
        assert faq_edits.last_revision_id(s) == 0


def test_an_example_of_another_intent_is_refused(db, files):
    examples = files.examples["faq/nghi_phep_nam"] + [files.examples["faq/luong_toi_thieu_vung"][0]]
    with db.read() as s:
        errors = faq_edits.check(s, files, "nghi_phep_nam", edited(files, examples=examples), TODAY)
    assert errors == [f"câu '{examples[-1]}' có trong cả 'faq/luong_toi_thieu_vung' và 'faq/nghi_phep_nam'"]


def test_a_new_entry_and_its_examples(db, files):
    with db.session() as s:
        faq_edits.save(s, "tai_nan_doan_vien", new_content(files), None, "an@congdoan.vn", files=files, today=TODAY)
    with db.read() as s:
        kb = faq_edits.effective_entries(s, files.kb, TODAY)
        overrides = faq_edits.example_overrides(s, TODAY, files.examples)
    assert kb.entries[-1].id == "tai_nan_doan_vien" and len(kb) == len(files.kb) + 1
    assert list(overrides) == ["faq/tai_nan_doan_vien"] and len(overrides["faq/tai_nan_doan_vien"]) == 30
    with db.session() as s, pytest.raises(faq_edits.StaleEdit):
        faq_edits.save(s, "tai_nan_doan_vien", new_content(files), None, "binh@congdoan.vn", files=files, today=TODAY)
    with db.read() as s:
        assert "đã có mục 'nghi_phep_nam'" in " ".join(faq_edits.check(s, files, "nghi_phep_nam", new_content(files), TODAY, new=True))


def test_scheduled_content_takes_effect_on_its_date(db, files):
    new_year = dt.date(2027, 1, 1)
    with db.session() as s:
        faq_edits.save(s, "luong_toi_thieu_vung", edited(files, "luong_toi_thieu_vung", title="Lương tối thiểu vùng năm 2027?"), 0,
                       "an@congdoan.vn", takes_effect_on=new_year, files=files, today=TODAY)
        # an immediate correction saved afterwards does not cancel the scheduled change
        faq_edits.save(s, "luong_toi_thieu_vung", edited(files, "luong_toi_thieu_vung", button="Lương tối thiểu"), 1,
                       "binh@congdoan.vn", files=files, today=TODAY)
    with db.read() as s:
        before = faq_edits.effective_entries(s, files.kb, dt.date(2026, 12, 31)).get("luong_toi_thieu_vung")
        after = faq_edits.effective_entries(s, files.kb, new_year).get("luong_toi_thieu_vung")
        soon = faq_edits.upcoming(s, files.kb, TODAY)
    assert before.title == files.kb.get("luong_toi_thieu_vung").title and before.button == "Lương tối thiểu"
    assert after.title == "Lương tối thiểu vùng năm 2027?"
    assert [(u.entry_id, u.on, u.kind) for u in soon if u.kind == "scheduled"] == [("luong_toi_thieu_vung", new_year, "scheduled")]


def test_history_and_revert(db, files):
    with db.session() as s:
        faq_edits.save(s, "nghi_phep_nam", edited(files, button="Phép năm"), 0, "an@congdoan.vn", note="ngắn hơn", files=files, today=TODAY)
        faq_edits.save(s, "nghi_phep_nam", edited(files, button="Phép năm 2026"), 1, "binh@congdoan.vn", files=files, today=TODAY)
        faq_edits.revert(s, "nghi_phep_nam", 1, "an@congdoan.vn", files=files, today=TODAY)
        faq_edits.revert(s, "nghi_phep_nam", 0, "an@congdoan.vn", files=files, today=TODAY)
    with db.read() as s:
        items = faq_edits.history(s, "nghi_phep_nam", files)
        kb = faq_edits.effective_entries(s, files.kb, TODAY)
        actions = s.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert [i.version for i in items] == [4, 3, 2, 1, 0]
    assert [i.reverted_from for i in items] == [0, 1, None, None, None]
    assert items[3].changes == [("button", files.kb.get("nghi_phep_nam").button, "Phép năm")] and items[3].note == "ngắn hơn"
    assert items[2].changes == [("button", "Phép năm", "Phép năm 2026")]
    assert kb.get("nghi_phep_nam") == files.kb.get("nghi_phep_nam").__class__(**{**vars(files.kb.get("nghi_phep_nam")),
                                                                                  "source": faq_edits.DB_SOURCE, "line": 4})
    assert actions == ["faq_edit", "faq_edit", "faq_revert", "faq_revert"]


def test_stale_review_list(files):
    assert faq_edits.stale(files.kb, TODAY) == []
    old = faq_edits.stale(files.kb, dt.date(2028, 1, 1))
    assert len(old) == len(files.kb)
