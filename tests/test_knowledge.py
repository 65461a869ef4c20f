"""The knowledge base in faq/: structure and content rules."""

import datetime as dt
import re
from pathlib import Path

import pytest

from bot.knowledge import KnowledgeBase, KnowledgeBaseError, load_faq_file

ROOT = Path(__file__).resolve().parent.parent
COVERAGE = ROOT.parent / "shared" / "faq_coverage.md"


@pytest.fixture(scope="module")
def kb():
    return KnowledgeBase.load(ROOT / "faq")


def test_project_knowledge_base_is_valid_today(kb):
    assert kb.validate(dt.date.today()) == []


def test_every_answer_cites_and_states_first(kb):
    for e in kb.entries:
        lines = e.answer.splitlines()
        assert lines[-1].startswith("Căn cứ: "), e.id
        assert len(e.answer) <= 1000 and len(e.label) <= 20
        assert e.legal_basis and e.as_of


def test_handoff_only_programmes_promise_nothing(kb):
    for topic in ("ct_tet_sum_vay", "ct_thang_cong_nhan", "ct_ho_tro_doan_vien"):
        entries = [e for e in kb.entries if e.topic == topic]
        assert entries and all(e.escalate == "always" for e in entries)
        for e in entries:
            assert not re.search(r"\d[\d.]*\s*(đồng|triệu|nghìn|k\b)", e.answer), e.id


def test_minimum_wage_is_the_2026_figure(kb):
    entry = kb.get("luong_toi_thieu_vung")
    assert "5.310.000" in entry.answer and "293/2025/NĐ-CP" in entry.answer
    assert "4.960.000" not in entry.answer
    assert entry.effective_from == dt.date(2026, 1, 1)


@pytest.mark.skipif(not COVERAGE.exists(), reason="shared/faq_coverage.md not present")
def test_every_topic_of_the_coverage_list_has_an_entry(kb):
    topics = set(re.findall(r"^### `([a-z_]+)`", COVERAGE.read_text(encoding="utf-8"), re.M))
    assert len(topics) == 41
    assert topics - {e.topic for e in kb.entries} == set()


def test_validation_catches_repealed_law_and_bad_fields(tmp_path):
    (tmp_path / "x.yml").write_text(
        """group: x
entries:
  - id: Bad-Id
    topic: t
    title: "Câu hỏi"
    answer: "Trả lời theo {tinh_thanh}."
    legal_basis: [{document: "Luật BHXH 2014", number: "58/2014/QH13", article: "Điều 60"}]
    as_of: 2027-01-01
    related: [khong_co]
    escalate: sometimes
""",
        encoding="utf-8",
    )
    errors = "\n".join(KnowledgeBase.load(tmp_path).validate(dt.date(2026, 11, 27)))
    for fragment in ("snake_case", "escalate", "hết hiệu lực", "ở tương lai", "Căn cứ", "tinh_thanh", "khong_co"):
        assert fragment in errors


def test_broken_yaml_and_duplicates_name_the_file(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("group: x\nentries:\n  - id: a\n    title: [\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="bad.yml:"):
        load_faq_file(bad)
    bad.unlink()
    entry = "  - {id: a, topic: t, title: T, answer: 'A. Căn cứ: x', legal_basis: [{document: d, number: n}], as_of: 2026-11-01}\n"
    (tmp_path / "one.yml").write_text("group: one\nentries:\n" + entry, encoding="utf-8")
    (tmp_path / "two.yml").write_text("group: two\nentries:\n" + entry, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="trùng"):
        KnowledgeBase.load(tmp_path)


def test_calculator_names_are_checked(tmp_path):
    from bot.knowledge import KnowledgeBase

    faq = tmp_path / "faq"
    faq.mkdir()
    entry = (
        "group: g\ntitle: G\nentries:\n  - id: a\n    topic: a\n    title: \"A?\"\n    answer: \"Có.\\nCăn cứ: Điều 1 Bộ luật Lao động 2019.\"\n"
        "    legal_basis: [{document: \"Bộ luật Lao động 2019\", number: \"45/2019/QH14\", article: \"Điều 1\"}]\n"
        "    as_of: 2026-12-01\n    calculator: {name}\n"
    )
    (faq / "g.yml").write_text(entry.replace("{name}", "severance"), encoding="utf-8")
    kb = KnowledgeBase.load(faq)
    assert kb.get("a").calculator == "severance" and kb.with_calculator("severance").id == "a"
    assert not [e for e in kb.validate(today=dt.date(2026, 12, 3)) if "calculator" in e]
    (faq / "g.yml").write_text(entry.replace("{name}", "tinh_luong_thang_13"), encoding="utf-8")
    [error] = [e for e in KnowledgeBase.load(faq).validate(today=dt.date(2026, 12, 3)) if "calculator" in e]
    assert "tinh_luong_thang_13" in error and "severance" in error


def test_places_table(tmp_path):
    from bot.knowledge import KnowledgeBaseError, load_places

    assert load_places(tmp_path / "missing.yml") == {}
    path = tmp_path / "regions.yml"
    path.write_text('places:\n  "Thuận An": "i"\n  Bến Cát: II\n', encoding="utf-8")
    assert load_places(path) == {"Thuận An": "I", "Bến Cát": "II"}
    path.write_text('places:\n  "Thuận An": "V"\n', encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="Thuận An"):
        load_places(path)
    path.write_text('places: [oops\n', encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="YAML"):
        load_places(path)


def test_project_places_table_loads_empty():
    from bot.knowledge import load_places

    assert load_places(Path(__file__).resolve().parent.parent / "faq" / "places" / "regions.yml") == {}


@pytest.mark.parametrize("text", ["as_of: 2020-13-45\nplaces: {}\n", "places: {a: " + "[" * 3000 + "]" * 3000 + "}\n"])
def test_places_table_that_yaml_cannot_build_is_a_clear_error(tmp_path, text):
    from bot.knowledge import KnowledgeBaseError, load_places

    path = tmp_path / "regions.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="regions.yml"):
        load_places(path)
