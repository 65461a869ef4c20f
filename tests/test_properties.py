"""Property-based tests (hypothesis): public APIs fed arbitrary input never raise an undocumented
exception, and what they return keeps its contract.

Deterministic by default (``derandomize=True``, no example database), so ``bin/test`` gives the same
result on every run and the SQLite and PostgreSQL passes do not share files. To search harder while
working: ``HYPOTHESIS_PROFILE=explore bin/test -k properties`` (random seeds, many more examples).
"""

from __future__ import annotations

import os
import string
import tempfile
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot import cases
from bot.calculators import CALCULATORS, FACTS
from bot.channels import messenger, rest, zalo
from bot.channels.base import IncomingMessage
from bot.knowledge import load_places
from bot.nlu.entities import EXTRACTOR, EntityExtractor
from bot.nlu.normalize import PLACEHOLDER_PHONE, default_normalizer, strip_accents
from bot.nlu.training_data import TrainingData, TrainingDataError, load_training_data, load_training_file, parse_annotations

ROOT = Path(__file__).resolve().parent.parent

# No deadline: the first examples pay for loading the abbreviation table and compiling the regexes,
# and bin/test runs two pytest passes at once on a small machine; a deadline would make them flaky.
settings.register_profile("default", max_examples=200, derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", max_examples=2000, derandomize=False, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# --- text ----------------------------------------------------------------------------------------

# Every code point, lone surrogates (category Cs) included.
any_char = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
# Pieces of real worker messages, and the characters that trip up text code.
FRAGMENTS = [
    "lương", "luong", "lg", "8tr", "7tr5", "4 tr", "500k", "30 nghìn một giờ", "8.000.000đ", "8,000,000", "1,2 tỷ", "9000000",
    "năm", "nam", "tháng", "thang", "3n5t", "2 năm rưỡi", "gần 3 năm", "từ 3/2021 đến 8/2024", "từ 2019 đến nay", "đến nay",
    "giờ", "tiếng", "3h", "từ 22h đến 6h", "ngày", "nghỉ ốm 5 ngày", "tuổi", "sinh năm 1968", "tháng 3/1970", "nữ", "lao động nữ",
    "chủ nhật", "t7 cn", "ngày lễ", "ca đêm", "vùng I", "vùng 4", "nặng nhọc độc hại", "không đóng bảo hiểm", "bhtn", "BHXH",
    "hợp đồng", "thử việc", "tăng ca", "làm thêm", "mỗi", "không", "ko", "k", "0912 345 678", "+84912345678", "012345678901",
    "a@b.vn", "https://x.vn/a", "www.congdoan.vn", "Thuận An", "Bến Cát", "hoà", "thuỷ", "nhaaa", "hmmm", "kkkkk", ":)))", "<3",
    "😀", "👍🏽", "👨\u200d👩\u200d👧", "\ufe0f", "\u0301", "\u0323\u0300", "e\u0302\u0301", "\u202e", "שלום", "مرحبا", "\x00", "\ud800", "\udfff",
    "İ", "ß", "ǅ", "ﬃ", "\u00a0", "\u2028", "\t", "\n", " ", ".", ",", "/", "-", "%", "?", "!!!", "(", ")", "[", "]", "{", "}",
    "0", "1", "12", "99999999999999999999", "3,5", "7.5", "1e9", "-5",
]
fragment_text = st.lists(st.sampled_from(FRAGMENTS) | st.text(any_char, max_size=3), max_size=30).map("".join)
texts = st.one_of(st.text(any_char, max_size=200), fragment_text,
                  st.text(st.sampled_from("aăâeêioôơuưy đ\u0300\u0301\u0309\u0303\u0323tr k09"), max_size=60))

LONG = "lương 8tr, làm 3 năm 5 tháng, tăng ca 4 tiếng chủ nhật 😀 " * 300


@pytest.fixture(scope="module")
def normalizer():
    return default_normalizer()


@given(text=texts)
@example(text=LONG)
@example(text="\ud800\x00\u0301" * 50)
def test_normalize_returns_a_string_and_is_blind_to_unicode_form(normalizer, text):
    out = normalizer.normalize(text)
    assert isinstance(out, str)
    assert out == out.strip() and "  " not in out
    # The module's promise: "Unicode NFC, so that precomposed and combining forms compare equal".
    assert normalizer.normalize(unicodedata.normalize("NFD", text)) == out


@given(text=texts)
@example(text="ĐIỀU KHOẢN đ\u0110")
def test_strip_accents_removes_every_mark(text):
    out = strip_accents(text)
    assert isinstance(out, str)
    assert not any(unicodedata.combining(ch) for ch in out)
    assert "đ" not in out and "Đ" not in out


no_ascii_digits = texts.map(lambda s: "".join(ch for ch in s if ch not in string.digits))


@given(before=no_ascii_digits, digits=st.text(string.digits, min_size=8, max_size=8), after=no_ascii_digits)
@example(before="0", digits="12345678", after="")
def test_phone_numbers_never_survive_normalisation(normalizer, before, digits, after):
    """Personal data is replaced "so they neither leak into features nor into logs"."""
    phone = "09" + digits
    out = normalizer.normalize(f"{before} {phone} {after}")
    assert phone not in out and PLACEHOLDER_PHONE in out


# --- training data ---------------------------------------------------------------------------------

YAML_PIECES = [
    "version: \"3.1\"\n", "version: 2\n", "version: 2020-13-45\n", "nlu:\n", "- intent: hỏi_lương\n", "- synonym: a\n", "- lookup: b\n",
    "- regex: request_human\n", "  examples: |\n", "  examples: [1, 2, {a: b}]\n", "  examples: 5\n", "    - lương [8 triệu](salary)\n",
    "    - [x]{\"entity\": \"a\", \"role\": \"b\"}\n", "    - [x]{\"entity\": 1}\n", "    - [x]{bad json}\n", "    - [x]()\n",
    "    - không gạch đầu dòng\n", "    -\n", "responses:\n", "rules: []\n", "stories: ~\n", "1: x\n", "on: off\n", "null: 1\n",
    "? [a, b]\n: c\n", "&a [*a]\n", "x: &a [*a]\n", "!!python/object:os.system x\n", "x: !!binary aGk=\n", "- a\n", "{", "}", "[", "]",
    ":", "- ", "  ", "\t", "#", "'", "\"", "|", ">", "\x00", "\ufeff", "\ud800", "\n",
]
yaml_text = st.one_of(
    st.lists(st.sampled_from(YAML_PIECES) | st.text(any_char, max_size=5), max_size=25).map("".join),
    st.text(any_char, max_size=200),
)


def _check_training_data(load, content: str | bytes):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.yml"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", errors="surrogatepass")
        try:
            data = load(path)
        except TrainingDataError:
            return
        assert isinstance(data, TrainingData)
        for e in data.examples:
            assert isinstance(e.text, str) and e.text and isinstance(e.intent, str) and e.intent


@given(content=yaml_text | st.binary(max_size=100))
@example(content="1: x\n")
@example(content="on: x\n")
@example(content="version: 2020-13-45\n")
@example(content="version: " + "9" * 5000 + "\n")
@example(content="x: " + "[" * 5000 + "]" * 5000 + "\n")
@example(content="nlu:\n- intent: a\n  examples: |\n    - [x]{\"entity\": \"a\", \"v\": " + "[" * 100_000 + "}\n")
def test_load_training_file_raises_only_training_data_error(content):
    _check_training_data(load_training_file, content)


@given(content=yaml_text)
@example(content="nlu: []\n1: x\n")
def test_load_training_data_raises_only_training_data_error(content):
    _check_training_data(lambda path: load_training_data([path.parent]), content)


@given(raw=fragment_text | st.lists(st.sampled_from(["[", "]", "(", ")", "{", "}", "\"entity\"", ":", "\"a\"", ",", "x", " ", "1"]),
                                  max_size=30).map("".join))
@example(raw="[x]{\"entity\": \"a\", \"v\": " + "[" * 100_000 + "}")
def test_parse_annotations_raises_only_value_error(raw):
    try:
        text, entities = parse_annotations(raw)
    except ValueError:
        return
    assert isinstance(text, str)
    for e in entities:
        assert 0 <= e["start"] <= e["end"] <= len(text)
        assert e["entity"]


# --- webhook parsers -----------------------------------------------------------------------------

# JSON as json.loads gives it (integers beyond 4,300 digits never get here: json.loads refuses them).
json_leaves = st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats() | st.text(any_char, max_size=10)
json_values = st.recursive(json_leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=12)


def mostly(good, *others):
    """``good`` three times out of four or so (``one_of`` would flatten nested alternatives and weigh them evenly)."""
    same = lambda value: value  # noqa: E731 - a mapped strategy is one alternative, not flattened
    return st.one_of(*(good.map(same) for _ in range(3)), *(other.map(same) for other in others))  # three distinct objects: one_of drops repeats


def shaped(required=None, **optional):
    """Mostly a dict shaped like a real event (``required`` keys present, some of ``optional``), sometimes
    one with any of the keys, sometimes any JSON value instead."""
    return mostly(st.fixed_dictionaries(required or {}, optional=optional),
                  st.fixed_dictionaries({}, optional={**(required or {}), **optional}), json_values)


id_ = mostly(st.text(min_size=1, max_size=6), st.text(max_size=6) | json_leaves)
timestamp = mostly(st.integers(0, 2 * 10**12) | st.text(string.digits, max_size=15), json_leaves)
sender = shaped({"id": id_})
fb_message = shaped({"mid": id_}, text=st.text(any_char, max_size=20) | json_values, is_echo=json_leaves,
                    quick_reply=shaped({"payload": json_values}), attachments=json_values)
fb_postback = shaped({"payload": json_values}, mid=id_, title=st.text(max_size=10) | json_values)
fb_event = mostly(shaped({"sender": sender, "message": fb_message}, recipient=sender, timestamp=timestamp),
                  shaped({"sender": sender, "postback": fb_postback}, recipient=sender, timestamp=timestamp),
                  shaped({"sender": sender}, delivery=json_values, read=json_values, message=fb_message, postback=fb_postback))
fb_entry = shaped({"messaging": mostly(st.lists(fb_event, min_size=1, max_size=3), st.lists(fb_event, max_size=3))}, id=id_, time=json_leaves)
fb_body = st.fixed_dictionaries({"object": mostly(st.just("page"), st.just("instagram"), json_leaves),
                                 "entry": mostly(st.lists(fb_entry, min_size=1, max_size=3), json_values)})
zalo_names = st.sampled_from(["user_send_text", "user_send_image", "user_send_sticker", "user_seen_message", "follow", "unfollow", "oa_send_text"])
zalo_event = st.fixed_dictionaries(
    {"event_name": mostly(zalo_names, json_leaves)},
    optional={"app_id": id_, "timestamp": timestamp, "sender": sender, "recipient": sender, "follower": sender,
              "message": shaped({"msg_id": id_}, text=st.text(any_char, max_size=20) | json_values, attachments=json_values)},
)
rest_body = st.fixed_dictionaries({}, optional={"sender": mostly(st.text(min_size=1, max_size=250), json_leaves),
                                                "message": mostly(st.text(any_char, max_size=50), json_values),
                                                "metadata": shaped({}, message_id=id_, name=json_values)})

KINDS = {"text", "postback", "attachment", "follow", "unfollow"}


def _check_message(m, channel: str):
    """The ``IncomingMessage`` contract the inbox relies on (``bot/inbox.py`` slices these strings)."""
    assert isinstance(m, IncomingMessage)
    assert m.channel == channel and m.kind in KINDS
    assert isinstance(m.sender_id, str) and m.sender_id
    assert isinstance(m.message_id, str) and m.message_id
    for value in (m.text, m.payload, m.display_name):
        assert value is None or isinstance(value, str)


@given(body=fb_body | json_values)
@example(body={"object": "page", "entry": [{"messaging": [{"sender": "x"}]}]})
@example(body={"object": "page", "entry": [{"messaging": 5}]})
@example(body={"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "postback": {"title": {"a": 1}}}]}]})
def test_messenger_parse_webhook(body):
    try:
        messages = messenger.parse_webhook(body)
    except ValueError:
        return
    assert isinstance(messages, list)
    for m in messages:
        _check_message(m, messenger.CHANNEL)


@given(event=zalo_event | json_values)
@example(event={"event_name": "user_send_text", "sender": {"id": "1"}, "message": "hi"})
@example(event={"event_name": "follow", "follower": "x"})
@example(event={"event_name": "user_send_text", "sender": [1]})
def test_zalo_parse_event(event):
    try:
        m = zalo.parse_event(event)
    except ValueError:
        return
    if m is not None:
        _check_message(m, zalo.CHANNEL)


@given(body=rest_body | json_values)
@example(body=[])
@example(body={"sender": "a", "metadata": {"message_id": {"x": 1}, "name": ["n"]}})
def test_rest_parse_message(body):
    try:
        m = rest.parse_message(body)
    except rest.InvalidMessage:
        return
    _check_message(m, rest.CHANNEL)
    assert m.sender_id == m.sender_id.strip()


# --- entities and the worker's case ------------------------------------------------------------------


@pytest.fixture(scope="module")
def extractor():
    import datetime as dt

    return EntityExtractor(places=load_places(ROOT / "faq" / "places" / "regions.yml"), today=lambda: dt.date(2026, 12, 3))


case_text = fragment_text | texts


@given(text=case_text)
@example(text=LONG)
@example(text="lương " + "9" * 4000 + " triệu, làm " + "9" * 3000 + " năm, 30 tuổi")
def test_entities_keep_their_shape(extractor, text):
    entities = extractor.extract(text)
    assert isinstance(entities, list)
    nfc = unicodedata.normalize("NFC", text)
    for e in entities:
        assert {"entity", "value", "start", "end", "extractor"} <= set(e)
        assert isinstance(e["entity"], str) and e["extractor"] == EXTRACTOR
        assert isinstance(e["start"], int) and isinstance(e["end"], int)
        assert 0 <= e["start"] <= e["end"] <= len(nfc)
    assert [(e["start"], e["end"]) for e in entities] == sorted((e["start"], e["end"]) for e in entities)


@given(text=case_text, data=st.data())
@example(text="lương " + "9" * 4000 + " triệu, làm " + "9" * 3000 + " năm, 30 tuổi", data=None)
def test_case_facts_and_plans_never_raise(extractor, text, data):
    entities = extractor.extract(text)
    for name, calc in CALCULATORS.items():
        fact_names = [f.name for f in (*calc.required, *calc.optional)]
        asking = data.draw(st.none() | st.sampled_from(fact_names), label=f"asking {name}") if data is not None else None
        facts = cases.facts_from(entities, name, asking=asking, text=text)
        assert isinstance(facts, dict)
        assert set(facts) <= {*fact_names, "age", "salary"}
        _check_plan(cases.evaluate(name, facts), name)


odd_strings = st.sampled_from(["", " ", "co", "khong", "có", "không", "thuong", "nghi_tuan", "le", "nam", "nu", "I", "IV", "9.000.000",
                               "9,5", "1e999999999", "-1e-999999999", "NaN", "sNaN", "-Infinity", "0x10", "١٢", "²", "12 năm"])
fact_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(10**40), 10**40), st.sampled_from([10**5000, -(10**5000), 2**63, -1, 0, 1]),
    st.floats(), st.sampled_from([float("inf"), float("-inf"), float("nan"), -0.0, 5e-324, 1.7e308]),
    st.decimals(), odd_strings, st.text(any_char, max_size=12), st.lists(st.integers(), max_size=2),
)
fact_dicts = st.dictionaries(st.sampled_from([*FACTS, "age", "probation_months", "daily_wage"]) | st.text(max_size=5), fact_values, max_size=8)


def _check_plan(plan, name):
    assert isinstance(plan, cases.CasePlan) and plan.calculator == name
    assert plan.calculation is not None or plan.invalid or plan.asking
    if plan.invalid:
        assert isinstance(plan.invalid, str)
    slot = plan.to_slot()  # what the actions render
    assert slot["calculator"] == name


@given(name=st.sampled_from(sorted(CALCULATORS)), facts=fact_dicts)
@example(name="overtime", facts={"night": 10**5000, "hours": 2, "salary": 9_000_000, "day_type": "thuong"})
@example(name="severance", facts={"age": 30, "months_worked": 10**5000})
@example(name="severance", facts={"age": 10**5000, "months_worked": 10**5001})
@example(name="sick_pay", facts={"hazardous": [1], "bhxh_months": Decimal("sNaN"), "sick_days": 3})
def test_evaluate_always_returns_a_plan(name, facts):
    _check_plan(cases.evaluate(name, facts), name)


def test_the_yaml_strategy_reaches_real_training_data():
    """Guard for the generators above: the hand-written pieces do parse into examples."""
    text = "".join(YAML_PIECES[i] for i in (0, 3, 4, 8, 11))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.yml"
        path.write_text(text, encoding="utf-8")
        assert load_training_file(path).examples[0].entities[0]["entity"] == "salary"
    assert yaml.safe_load(YAML_PIECES[0]) == {"version": "3.1"}
