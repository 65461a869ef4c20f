import unicodedata

import pytest

from bot.nlu.normalize import (
    PLACEHOLDER_EMAIL,
    PLACEHOLDER_IDCARD,
    PLACEHOLDER_PHONE,
    PLACEHOLDER_URL,
    AbbreviationTableError,
    Normalizer,
    collapse_elongation,
    default_normalizer,
    load_abbreviations,
    normalize_tone_placement,
    strip_accents,
)


@pytest.fixture(scope="module")
def norm():
    return default_normalizer()


def test_nfc_and_decomposed_input_give_the_same_result(norm):
    composed = "Nghỉ phép năm"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert norm(decomposed) == norm(composed) == "nghỉ phép năm"


@pytest.mark.parametrize(
    "new_style, old_style",
    [("hoà", "hòa"), ("thuỷ", "thủy"), ("khoẻ", "khỏe"), ("hoá đơn", "hóa đơn"), ("quý", "quý"), ("người", "người")],
)
def test_one_tone_mark_placement(new_style, old_style):
    assert normalize_tone_placement(new_style) == normalize_tone_placement(old_style) == old_style


def test_tone_placement_leaves_closed_syllables_alone():
    for word in ("toàn", "hoàng", "khuyết", "giường", "quyền", "nguyễn", "gì", "giữa"):
        assert normalize_tone_placement(word) == word


def test_lowercase_and_whitespace(norm):
    assert norm("  CHO EM   HỎI\tVỀ BHXH  ") == "cho em hỏi về bảo hiểm xã hội"


def test_personal_data_is_masked(norm):
    out = norm("Gọi 0912 345 678 hoặc +84987654321, mail a.b@gmail.com, web https://x.vn/a?b=1, CCCD 012345678901")
    assert "0912" not in out and "gmail" not in out and "x.vn" not in out and "012345678901" not in out
    assert out.count(PLACEHOLDER_PHONE) == 2
    assert PLACEHOLDER_EMAIL in out and PLACEHOLDER_URL in out and PLACEHOLDER_IDCARD in out


def test_money_and_years_are_not_mistaken_for_phone_numbers(norm):
    out = norm("lương 5.310.000 đồng từ năm 2026")
    assert "5.310.000" in out and "2026" in out


def test_money_written_the_chat_way_is_spelled_out(norm):
    assert norm("lương 6tr với 6 tr, phụ cấp 500k") == "lương 6 triệu với 6 triệu , phụ cấp 500 nghìn"
    assert norm("lương 4tr5 một tháng") == "lương 4 triệu 5 một tháng"
    assert norm("được k ad") == "được không admin"  # a lone k is still "không"


def test_elongation_collapsed_but_acronyms_kept():
    assert collapse_elongation("nhaaa") == "nha"
    assert collapse_elongation("điiii") == "đi"
    assert collapse_elongation("hảaaa") == "hả"
    assert collapse_elongation("cccd") == "cccd"
    assert collapse_elongation("xoong") == "xoong"
    assert collapse_elongation("kkkkk") == "kkkkk"  # laughter must not become "k" (= "không")


def test_emoji_removed(norm):
    assert norm("cảm ơn ad 😍😍👍") == "cảm ơn admin"
    assert norm("😭😭😭") == ""


def test_teencode_expanded_as_whole_words(norm):
    assert norm("e ko dc nghỉ t7 vs cn à") == "em không được nghỉ thứ bảy với chủ nhật à"
    assert norm("cty đóng bhxh, bhtn, hđlđ") == "công ty đóng bảo hiểm xã hội, bảo hiểm thất nghiệp, hợp đồng lao động"
    # "k" inside "50k" is not the teencode "k" (it is "nghìn")
    assert norm("phụ cấp 50k") == "phụ cấp 50 nghìn"


def test_strip_accents():
    assert strip_accents("Điều khoản người lao động") == "Dieu khoan nguoi lao dong"


def test_abbreviation_table_errors_name_the_file(tmp_path):
    bad = tmp_path / "abbr.yml"
    bad.write_text("abbreviations:\n  ko: [không\n", encoding="utf-8")
    with pytest.raises(AbbreviationTableError, match="abbr.yml:"):
        load_abbreviations(bad)
    bad.write_text("abbreviations:\n  ko: ''\n", encoding="utf-8")
    with pytest.raises(AbbreviationTableError, match="ko"):
        load_abbreviations(bad)
    for text in ("version: 2020-13-45\nabbreviations: {}\n", "abbreviations: " + "[" * 3000 + "]" * 3000 + "\n"):
        bad.write_text(text, encoding="utf-8")  # YAML that parses but cannot be built: a date, deep nesting
        with pytest.raises(AbbreviationTableError, match="abbr.yml"):
            load_abbreviations(bad)


def test_custom_table():
    n = Normalizer({"xyz": "xin chào"})
    assert n("XYZ bạn") == "xin chào bạn"
