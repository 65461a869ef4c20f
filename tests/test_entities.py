"""The Vietnamese entity extractor (bot.nlu.entities) and Rasa entity annotations in training data."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.nlu.entities import EXTRACTOR, EntityExtractor, fold
from bot.nlu.training_data import TrainingDataError, load_training_data, parse_annotations

TODAY = dt.date(2026, 12, 3)


@pytest.fixture(scope="module")
def extractor():
    return EntityExtractor(places={"Thuận An": "I", "Bến Cát": "II"}, today=lambda: TODAY)


def found(extractor, text, kind):
    return [(e["value"], e.get("role"), text[e["start"]: e["end"]]) for e in extractor.extract(text) if e["entity"] == kind]


@pytest.mark.parametrize(("text", "value"), [
    ("lương 8tr", 8_000_000),
    ("lg 7tr5", 7_500_000),
    ("lương 7 triệu 500 nghìn", 7_500_000),
    ("luong 6tr2 mot thang", 6_200_000),
    ("lương 8.000.000đ", 8_000_000),
    ("lương 8,000,000 đồng", 8_000_000),
    ("lương 9000000", 9_000_000),
    ("thưởng 500k", 500_000),
    ("lương 1,2 tỷ", 1_200_000_000),
    ("lương -5 triệu", -5_000_000),
])
def test_money_as_chat_writes_it(extractor, text, value):
    assert [v for v, _, _ in found(extractor, text, "money")] == [value]


@pytest.mark.parametrize(("text", "role"), [
    ("lương giờ 30 nghìn", "hourly"),
    ("được trả 30k/h", "hourly"),
    ("30 nghìn một giờ", "hourly"),
    ("lương ngày 300k", "daily"),
    ("lương 9 triệu", "salary"),
    ("8tr/tháng", "salary"),
])
def test_money_roles(extractor, text, role):
    assert [r for _, r, _ in found(extractor, text, "money")] == [role]


@pytest.mark.parametrize("text", ["năm 2020 em vào làm", "làm 3 ca", "em 25 tuổi", "mã số 12345a", "điều 46"])
def test_no_money_in_plain_numbers(extractor, text):
    assert found(extractor, text, "money") == []


@pytest.mark.parametrize(("text", "months", "extra"), [
    ("em làm 3 năm 4 tháng", 40, {}),
    ("e lm dc 3n5t r", 41, {}),
    ("làm được 7 tháng", 7, {}),
    ("2 năm rưỡi", 30, {}),
    ("từ tháng 3/2021 đến tháng 8/2024", 41, {}),
    ("làm từ 03/2021 đến 08/2024", 41, {}),
    ("từ 2019 đến nay", 95, {"approximate": True}),
    ("gần 3 năm", 36, {"approximate": True}),
    ("đóng bhtn 2 năm", 24, {"role": "bhtn"}),
    ("1 năm có BHTN", 12, {"role": "bhtn"}),
    ("đóng bảo hiểm xã hội 16 năm", 192, {"role": "bhxh"}),
])
def test_durations(extractor, text, months, extra):
    [entity] = [e for e in extractor.extract(text) if e["entity"] == "duration"]
    assert entity["value"] == months
    for key, value in extra.items():
        assert entity[key] == value
    if "approximate" not in extra:
        assert "approximate" not in entity


def test_a_year_is_not_a_duration(extractor):
    assert found(extractor, "năm 2020 em vào làm", "duration") == []
    assert found(extractor, "sinh tháng 3 năm 1970", "duration") == []


@pytest.mark.parametrize(("text", "value"), [
    ("chị sinh tháng 3/1970", "1970-03"),
    ("sinh 05/1966", "1966-05"),
    ("chi sinh thang 3 nam 1970", "1970-03"),
    ("tôi sinh năm 1975", "1975"),
    ("sn 1980", "1980"),
])
def test_birth(extractor, text, value):
    assert [v for v, _, _ in found(extractor, text, "birth")] == [value]


@pytest.mark.parametrize(("text", "sex"), [
    ("tôi là lao động nữ", "nu"),
    ("em là nữ", "nu"),
    ("Nữ", "nu"),
    ("em là nam, sinh 1966", "nam"),
    ("Nam", "nam"),
    ("lao dong nu sinh 1975", "nu"),
])
def test_sex_where_the_text_says_it(extractor, text, sex):
    assert [v for v, _, _ in found(extractor, text, "sex")] == [sex]


@pytest.mark.parametrize("text", [
    "chị sinh năm 1970",         # a pronoun alone says nothing for sure
    "anh làm 5 năm",
    "em làm ở Việt Nam",
    "lam 3 nam roi",              # "năm" without diacritics is a year, never "nam"
    "phụ nữ có thai được nghỉ không",  # a general question, not the writer's sex — but see the next test
])
def test_sex_is_never_guessed(extractor, text):
    values = [v for v, _, _ in found(extractor, text, "sex")]
    assert "nam" not in values
    if "phụ nữ" not in text:
        assert values == []


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("làm thêm chủ nhật", "day_type", "nghi_tuan"),
    ("làm ngày lễ 30/4", "day_type", "le"),
    ("đi làm mùng 2 tết", "day_type", "le"),
    ("làm ca đêm", "night", True),
    ("em làm ở vùng 2", "region", "II"),
    ("lương tối thiểu vùng IV", "region", "IV"),
    ("em làm ở Thuận An", "region", "I"),
    ("công việc nặng nhọc độc hại", "hazardous", True),
    ("hợp đồng không xác định thời hạn", "contract_type", "khong_xac_dinh_thoi_han"),
    ("công ty không đóng bảo hiểm cho em", "insurance", "none"),
    ("nghỉ ốm 5 ngày", "days", 5),
    ("làm thêm 3 tiếng", "hours", 3.0),
    ("làm từ 22h đến 6h", "hours", 8.0),
    ("năm nay 45 tuổi", "age", 45),
])
def test_words_and_counts(extractor, text, kind, value):
    assert value in [v for v, _, _ in found(extractor, text, kind)]


def test_night_hours_from_a_clock_span(extractor):
    [night] = [e for e in extractor.extract("làm từ 20h đến 24h") if e["entity"] == "night"]
    assert night["night_hours"] == 2.0


def test_offsets_and_shape_are_rasa_like(extractor):
    text = "Em làm 4 năm 5 tháng, lương 9 triệu"
    entities = extractor.extract(text)
    assert [text[e["start"]: e["end"]] for e in entities] == ["4 năm 5 tháng", "9 triệu"]
    assert all(e["extractor"] == EXTRACTOR and {"entity", "value", "start", "end"} <= set(e) for e in entities)


def test_fold_keeps_length():
    text = "Người lao động ĐƯỢC nghỉ"
    assert len(fold(text)) == len(text)
    assert fold(text) == "nguoi lao dong duoc nghi"


def test_huge_and_empty_input(extractor):
    assert extractor.extract("") == []
    entities = extractor.extract("lương " + "9" * 400 + " triệu " * 2000)
    assert entities and entities[0]["value"] > 10**300  # a huge number, not a crash


def test_annotations_are_read_with_offsets():
    text, entities = parse_annotations('em lương [8 triệu](salary) làm [3 năm]{"entity": "duration", "role": "work"} rồi')
    assert text == "em lương 8 triệu làm 3 năm rồi"
    assert [(e["entity"], e.get("role"), text[e["start"]: e["end"]]) for e in entities] == [
        ("salary", None, "8 triệu"), ("duration", "work", "3 năm")]


def test_annotated_training_file(tmp_path):
    path = tmp_path / "nlu.yml"
    path.write_text('version: "3.1"\nnlu:\n- intent: faq/tro_cap_thoi_viec\n  examples: |\n'
                    "    - em làm [4 năm](duration) lương [9tr](money) thì được bao nhiêu\n", encoding="utf-8")
    [example] = load_training_data([path]).examples
    assert example.text == "em làm 4 năm lương 9tr thì được bao nhiêu"
    assert [e["value"] for e in example.entities] == ["4 năm", "9tr"]


def test_broken_annotation_is_a_clear_error(tmp_path):
    path = tmp_path / "nlu.yml"
    path.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - chào [bạn]{"role": "x"}\n', encoding="utf-8")
    with pytest.raises(TrainingDataError, match="nlu.yml:5.*chú thích thực thể"):
        load_training_data([path])
