"""``python -m bot export``: the FAQ in effect today written back into faq/ and nlu_data/."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest

from bot import faq_edits, vntime
from bot.cli import main
from bot.config import Settings
from bot.knowledge import KnowledgeBase

from .conftest import ROOT


@pytest.fixture
def copies(tmp_path):
    faq_dir = shutil.copytree(ROOT / "faq", tmp_path / "faq")
    nlu_dir = shutil.copytree(ROOT / "nlu_data", tmp_path / "nlu_data")
    return faq_dir, nlu_dir


def run_export(runner, database_url, faq_dir, nlu_dir):
    result = runner.invoke(main, ["export", "--faq-dir", str(faq_dir), "--nlu-dir", str(nlu_dir)], env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    return result.output


def validate(runner, faq_dir, nlu_dir):
    env = {"FAQ_DIR": str(faq_dir), "NLU_DATA_DIR": str(nlu_dir), "CALIBRATION_FILE": str(nlu_dir / "calibration.yml")}
    return runner.invoke(main, ["validate"], env=env)


def diff(a, b) -> str:
    return subprocess.run(["diff", "-r", str(a), str(b)], capture_output=True, text=True).stdout


def test_an_unedited_database_writes_nothing(runner, database_url, copies):
    faq_dir, nlu_dir = copies
    assert "không ghi gì" in run_export(runner, database_url, faq_dir, nlu_dir)
    assert diff(ROOT / "faq", faq_dir) == "" and diff(ROOT / "nlu_data", nlu_dir) == ""
    assert [vars(e) | {"source": ""} for e in KnowledgeBase.load(faq_dir).entries] == \
        [vars(e) | {"source": ""} for e in KnowledgeBase.load(ROOT / "faq").entries]


def test_an_edit_round_trips(runner, db, copies):
    faq_dir, nlu_dir = copies
    files = faq_edits.FaqFiles.load(Settings.load({}))
    today = vntime.today()
    entry = files.content("luong_toi_thieu_vung")
    changed = {**entry, "answer": entry["answer"].replace("Đây là mức thấp nhất", "Đây là mức lương thấp nhất"),
               "tags": entry["tags"] + ["lương: tối thiểu, 2026"], "examples": entry["examples"][:-1] + ["lương tối thiểu vùng mới nhất là bao nhiêu"]}
    new = {"title": "Đoàn viên bị tai nạn có được công đoàn hỗ trợ không?", "topic": "ho_tro_tai_nan", "group": "cong_doan",
           "button": "Hỗ trợ tai nạn", "escalate": "offer", "as_of": "2026-12-01",
           "answer": "Công đoàn cơ sở thăm hỏi đoàn viên gặp tai nạn theo quy chế của đơn vị.\n\nCăn cứ: Điều 10 Luật Công đoàn 2024.",
           "legal_basis": [{"document": "Luật Công đoàn 2024", "number": "50/2024/QH15", "article": "Điều 10"}],
           "examples": [f"đoàn viên tai nạn công đoàn hỗ trợ gì {i}" for i in range(30)]}
    with db.session() as s:
        faq_edits.save(s, "luong_toi_thieu_vung", changed, 0, "an@congdoan.vn", files=files, today=today)
        faq_edits.save(s, "ho_tro_tai_nan", new, None, "an@congdoan.vn", files=files, today=today)
        faq_edits.save(s, "nghi_phep_nam", {**files.content("nghi_phep_nam"), "button": "Phép năm 2027"}, 0, "an@congdoan.vn",
                       takes_effect_on=today + dt.timedelta(days=30), files=files, today=today)
    output = run_export(runner, db.url, faq_dir, nlu_dir)
    assert "Đã xuất 2 mục FAQ đã sửa (1 mục mới) vào 4 tệp." in output
    assert "Chưa xuất (hẹn áp dụng từ" in output and "nghi_phep_nam, phiên bản 1" in output
    changed_files = diff(ROOT / "faq", faq_dir) + diff(ROOT / "nlu_data", nlu_dir)
    assert sorted(line.split()[-1] for line in changed_files.splitlines() if line.startswith("diff")) == \
        sorted(str(p) for p in (faq_dir / "cong_doan.yml", faq_dir / "tien_luong.yml", nlu_dir / "faq_tien_luong.yml", nlu_dir / "faq_cong_doan.yml"))
    with db.read() as s:
        expected = faq_edits.effective_entries(s, files.kb, today)
    exported = KnowledgeBase.load(faq_dir)
    assert [e.id for e in exported.entries if e.group == "cong_doan"][-1] == "ho_tro_tai_nan"
    for entry_id in ("luong_toi_thieu_vung", "ho_tro_tai_nan", "nghi_phep_nam"):
        a, b = exported.get(entry_id), expected.get(entry_id)
        assert (a.title, a.answer, a.tags, a.legal_basis, a.as_of, a.escalate, a.button) == (b.title, b.answer, b.tags, b.legal_basis, b.as_of,
                                                                                            b.escalate, b.button)
    assert exported.get("nghi_phep_nam").button != "Phép năm 2027"
    again = faq_edits.FaqFiles.load(Settings.load({"FAQ_DIR": str(faq_dir), "NLU_DATA_DIR": str(nlu_dir),
                                                  "CALIBRATION_FILE": str(nlu_dir / "calibration.yml")}))
    assert again.examples["faq/luong_toi_thieu_vung"] == changed["examples"]
    assert again.examples["faq/ho_tro_tai_nan"] == new["examples"]
    result = validate(runner, faq_dir, nlu_dir)
    assert result.exit_code == 0, result.output
    # exporting again changes nothing more
    snapshot = {p: p.read_bytes() for p in [*faq_dir.rglob("*.yml"), *nlu_dir.rglob("*.yml")]}
    run_export(runner, db.url, faq_dir, nlu_dir)
    assert {p: p.read_bytes() for p in snapshot} == snapshot


def test_yaml_breaking_characters_survive_the_round_trip(runner, db, copies):
    """Colons, hashes, both quotes, a leading dash and new lines typed in the browser come back
    from the exported files exactly as typed."""
    faq_dir, nlu_dir = copies
    files = faq_edits.FaqFiles.load(Settings.load({}))
    today = vntime.today()
    entry = files.content("nghi_phep_nam")
    answer = ('- Ghi chú: "12 ngày" là mức # tối thiểu; người lao động \'bình thường\'.\n\n  Thụt dòng: [a, b]\n'
              + entry["answer"][-700:])
    examples = entry["examples"][:-3] + ['phép năm: "12 ngày" hay 14?', "# nghỉ phép năm 2026 mấy ngày", "- phép năm 'đủ năm' là sao"]
    changed = {**entry, "answer": answer, "title": 'Nghỉ phép năm: được mấy ngày? "12" hay hơn', "examples": examples}
    with db.session() as s:
        faq_edits.save(s, "nghi_phep_nam", changed, 0, "an@congdoan.vn", files=files, today=today)
    run_export(runner, db.url, faq_dir, nlu_dir)
    exported = KnowledgeBase.load(faq_dir).get("nghi_phep_nam")
    assert (exported.answer, exported.title) == (answer, changed["title"])
    again = faq_edits.FaqFiles.load(Settings.load({"FAQ_DIR": str(faq_dir), "NLU_DATA_DIR": str(nlu_dir),
                                                  "CALIBRATION_FILE": str(nlu_dir / "calibration.yml")}))
    assert again.examples["faq/nghi_phep_nam"] == examples
    assert validate(runner, faq_dir, nlu_dir).exit_code == 0
