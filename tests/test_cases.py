"""The worker's own case: entities -> facts -> a figure or the next question (bot.cases, the policy
rows, the engine's long-message reading), and the form over several REST messages."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot import cases, policy
from bot.engine import Engine
from bot.nlu.entities import EntityExtractor
from bot.storage.models import Conversation, Ticket
from tests.fakes.nlu import ScriptedNLU

from .test_dialogue import say

EXTRACT = EntityExtractor(today=lambda: dt.date(2026, 12, 3)).extract


def parse(text, intent="faq/tro_cap_thoi_viec", confidence=0.95):
    return {"text": text, "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": intent, "confidence": confidence}, {"name": "greet", "confidence": 0.01}],
            "entities": EXTRACT(text)}


# --- facts ---------------------------------------------------------------------------------------


def test_facts_of_the_issue_example():
    text = "em làm 4 năm 5 tháng, 1 năm có BHTN, lương 9 triệu, nghỉ việc đúng luật thì được trợ cấp thôi việc bao nhiêu?"
    assert cases.facts_from(EXTRACT(text), "severance") == {"months_worked": 53, "bhtn_months": 12, "salary": 9_000_000}


def test_no_insurance_means_zero_bhtn():
    facts = cases.facts_from(EXTRACT("làm 3 năm lương 7tr, công ty không đóng bảo hiểm"), "severance")
    assert facts["bhtn_months"] == 0


def test_approximate_durations_are_not_facts():
    assert "months_worked" not in cases.facts_from(EXTRACT("em làm gần 3 năm, lương 8tr"), "severance")


def test_small_wage_is_hourly_for_overtime():
    facts = cases.facts_from(EXTRACT("được trả 25k, làm thêm 4 tiếng chủ nhật"), "overtime")
    assert facts == {"hourly_wage": 25_000, "hours": 4.0, "day_type": "nghi_tuan"}


@pytest.mark.parametrize(("asking", "text", "expected"), [
    ("salary", "9", {"salary": 9_000_000}),
    ("salary", "9tr5", {"salary": 9_500_000}),
    ("months_worked", "3 năm 2 tháng", {"months_worked": 38}),
    ("bhtn_months", "không", {"bhtn_months": 0}),
    ("bhtn_months", "2 năm", {"bhtn_months": 24}),
    ("sex", "Nữ", {"sex": "nu"}),
    ("birth_year", "1972", {"birth_year": 1972}),
])
def test_bare_answers_fill_the_fact_asked(asking, text, expected):
    calculator = {"sex": "retirement", "birth_year": "retirement"}.get(asking, "severance")
    assert cases.facts_from(EXTRACT(text), calculator, asking=asking, text=text) == expected


# --- plans ---------------------------------------------------------------------------------------


def test_complete_facts_give_a_figure():
    plan = cases.evaluate("severance", {"months_worked": 53, "bhtn_months": 12, "salary": 9_000_000})
    assert plan.calculation.value == 15_750_000 and plan.form_slot() is None


def test_missing_fact_opens_a_form():
    plan = cases.evaluate("severance", {"months_worked": 53, "salary": 9_000_000}, faq_id="tro_cap_thoi_viec")
    assert plan.calculation is None and plan.asking == "bhtn_months" and "bảo hiểm thất nghiệp" in plan.question
    assert plan.form_slot() == {"calculator": "severance", "facts": {"months_worked": 53, "salary": 9_000_000},
                                "asking": "bhtn_months", "reasks": 0, "faq_id": "tro_cap_thoi_viec"}


def test_absurd_fact_asks_to_check_and_reasks_it():
    plan = cases.evaluate("severance", {"months_worked": 960, "bhtn_months": 0, "salary": 9_000_000})
    assert plan.calculation is None and plan.invalid and "80 năm" in plan.invalid
    assert plan.asking == "months_worked" and "months_worked" not in plan.facts
    fixed = cases.continue_form(plan.form_slot(), parse("8 năm"))
    assert fixed.calculation is not None and fixed.calculation.value == 0.5 * 9_000_000 * 8


def test_working_time_longer_than_a_working_life():
    plan = cases.evaluate("severance", {"months_worked": 30 * 12, "bhtn_months": 0, "salary": 9_000_000, "age": 35})
    assert plan.invalid and plan.calculation is None


@pytest.mark.parametrize(("name", "facts", "asking"), [
    ("severance", {"months_worked": 10**5000, "bhtn_months": 0, "salary": 9_000_000, "age": 30}, "months_worked"),
    ("overtime", {"night": 10**5000, "hours": 2, "salary": 9_000_000, "day_type": "thuong"}, "night"),
    ("sick_pay", {"sick_days": "1e999999999", "bhxh_months": 12, "salary": 9_000_000}, "sick_days"),
    ("severance", {"months_worked": 12, "bhtn_months": 0, "salary": "1e999999999"}, "salary"),
])
def test_numbers_too_big_to_print_ask_to_check_instead_of_crashing(name, facts, asking):
    """Found by tests/test_properties.py: str() of an integer over 4,300 digits raised ValueError, and
    abs() of Decimal("1e999999999") raised decimal.Overflow, out of ``evaluate``."""
    plan = cases.evaluate(name, facts)
    assert plan.calculation is None and plan.invalid and plan.asking == asking


@pytest.mark.parametrize("text", ["thôi", "Hủy", "thôi ạ", "không cần nữa", "dừng lại"])
def test_cancel_words(text):
    assert cases.is_cancel(text)


@pytest.mark.parametrize("text", ["thôi việc thì sao", "hủy hợp đồng", "không"])
def test_not_cancel(text):
    assert not cases.is_cancel(text)


# --- policy rows -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kb(resources):
    return resources.kb


def test_general_question_gets_the_faq_answer(kb):
    d = policy.decide(parse("làm thêm ngày chủ nhật được tính bao nhiêu phần trăm", "faq/lam_them_gio_tien_luong"), kb)
    assert d.action == policy.ACTION_ANSWER and d.case is None


def test_case_question_gets_a_figure(kb):
    d = policy.decide(parse("lương giờ 30 nghìn, làm thêm 3 tiếng chủ nhật được bao nhiêu?", "faq/lam_them_gio_tien_luong"), kb)
    assert d.action == policy.ACTION_CALCULATE and d.kind == "answer" and d.case.calculation.value == 180_000


def test_retirement_never_guesses_sex_from_a_pronoun(kb):
    d = policy.decide(parse("chị sinh tháng 3/1970 thì khi nào nghỉ hưu?", "faq/huu_tri__tuoi_nghi_huu"), kb)
    assert d.action == policy.ACTION_FORM and d.kind == "form" and d.case.asking == "sex"
    d = policy.decide(parse("Nữ", "out_of_scope", 0.3), kb, form=d.case.form_slot())
    assert d.action == policy.ACTION_CALCULATE and d.case.calculation.value == "07/2027"


def test_form_rows(kb):
    start = policy.decide(parse("/calc/severance", "calc/severance", 1.0), kb)
    form = start.case.form_slot()
    assert start.action == policy.ACTION_FORM and start.case.asking == "months_worked"
    assert policy.decide(parse("thôi", "deny", 0.9), kb, form=form).action == policy.ACTION_FORM_CANCEL
    next_ = policy.decide(parse("4 năm", "out_of_scope", 0.2), kb, form=form)
    assert next_.action == policy.ACTION_FORM and next_.case.asking == "salary"
    other = policy.decide(parse("cho em gặp cán bộ", "request_human", 0.9), kb, form=form)
    assert other.action == policy.ACTION_HANDOFF  # a request for a person leaves the form
    again = policy.decide(parse("em không nhớ", "out_of_scope", 0.2), kb, form=form)
    assert again.action == policy.ACTION_FORM and again.reason == "form_reask"
    form = again.case.form_slot()
    form = policy.decide(parse("hmm", "out_of_scope", 0.2), kb, form=form).case.form_slot()
    assert policy.decide(parse("???", "out_of_scope", 0.2), kb, form=form).action == policy.ACTION_FALLBACK


# --- long messages (engine) ----------------------------------------------------------------------


def test_two_questions_get_two_answers(resources):
    engine = Engine(ScriptedNLU(), resources)
    turn = engine.ask("Chào anh chị. Em nghỉ phép năm được mấy ngày? Còn lương tối thiểu vùng hiện nay là bao nhiêu ạ?")
    assert turn.decision.faq_id == "nghi_phep_nam"
    assert [d.faq_id for d in turn.also] == ["luong_toi_thieu_vung"]
    assert turn.text.count("Căn cứ") == 2
    assert [a["faq_id"] for a in turn.to_ask_json()["also"]] == ["luong_toi_thieu_vung"]


def test_an_unanswerable_second_question_is_handed_off_with_the_answer(resources):
    engine = Engine(ScriptedNLU(), resources)
    turn = engine.ask("Em muốn hỏi nghỉ phép năm được mấy ngày? Và công ty bắt em ký cam kết không kết hôn trong 3 năm thì có đúng không?")
    assert turn.decision.handoff and turn.decision.faq_id == "nghi_phep_nam" and turn.decision.reason == "second_question"
    assert "Căn cứ" in turn.text


def test_short_messages_are_read_whole(resources):
    nlu = ScriptedNLU()
    Engine(nlu, resources).ask("nghỉ phép năm được mấy ngày")
    assert nlu.calls == ["nghỉ phép năm được mấy ngày"]


# --- the form over REST --------------------------------------------------------------------------


def test_form_over_several_messages(app, client):
    [answer] = say(client, "cho em hỏi nghỉ phép năm được mấy ngày", sender="f1")
    assert {"title": "Tính cho tôi", "payload": "/calc/annual_leave"} in answer["buttons"]
    [question] = say(client, "/calc/annual_leave", sender="f1")
    assert "gõ \"thôi\" để dừng" in question["text"] and "bao lâu" in question["text"]
    [result] = say(client, "em làm được 7 tháng", sender="f1")
    assert "7 ngày" in result["text"] and "Căn cứ" in result["text"]
    with app.extensions["bot"].db.read() as s:
        assert "form" not in s.scalars(select(Conversation).where(Conversation.user_id == "f1")).one().slots


def test_form_cancel_and_leave(app, client):
    say(client, "/calc/annual_leave", sender="f2")
    [cancelled] = say(client, "thôi", sender="f2")
    assert "dừng" in cancelled["text"]
    say(client, "/calc/annual_leave", sender="f3")
    [handoff] = say(client, "cho em gặp cán bộ", sender="f3")
    assert "CD-" in handoff["text"]
    with app.extensions["bot"].db.read() as s:
        assert s.scalars(select(Ticket.user_id)).all() == ["f3"]
        assert "form" not in s.scalars(select(Conversation).where(Conversation.user_id == "f3")).one().slots


def test_ask_json_is_stateless_and_reports_the_form(runner, resources, tmp_path):
    engine = Engine(ScriptedNLU(), resources)
    out = engine.ask("/calc/annual_leave").to_ask_json()
    assert out["action"] == "form" and out["form"]["asking"] == "months_worked" and out["calculation"] is None
    out = engine.ask("nghỉ phép năm của em thế nào, em làm 7 tháng rồi").to_ask_json()
    assert out["action"] == "answer" and out["calculation"]["value"] == 7 and out["calculation"]["calculator"] == "annual_leave"
    assert {"entity": "duration", "value": 7} .items() <= next(e for e in out["entities"] if e["entity"] == "duration").items()


# --- the issue's examples, with the project's trained model (slow tier) --------------------------


@pytest.mark.parametrize(("text", "calculator", "value", "shown"), [
    ("em làm 4 năm 5 tháng, 1 năm có BHTN, lương 9 triệu, nghỉ việc đúng luật thì được trợ cấp thôi việc bao nhiêu?",
     "severance", 15_750_000, "15.750.000"),
    ("lương giờ 30 nghìn, làm thêm 3 tiếng chủ nhật được bao nhiêu?", "overtime", 180_000, "180.000"),
    ("lao động nữ sinh tháng 3/1970 thì khi nào nghỉ hưu?", "retirement", "07/2027", "07/2027"),
    ("e lm dc 2n, lg 8tr, cty ko đóng bh, nghỉ việc thì trợ cấp thôi việc dc bn ạ", "severance", 8_000_000, "8.000.000"),
])
def test_worker_case_with_the_project_model(project_model, resources, text, calculator, value, shown):
    out = Engine(project_model, resources).ask(text).to_ask_json()
    assert out["calculation"] == {**out["calculation"], "calculator": calculator, "value": value}
    assert shown in out["text"] and "Căn cứ:" in out["text"]


def test_missing_sex_is_asked_with_the_project_model(project_model, resources):
    out = Engine(project_model, resources).ask("chị sinh tháng 3/1970 thì khi nào nghỉ hưu?").to_ask_json()
    assert out["action"] == "form" and out["form"]["asking"] == "sex" and out["calculation"] is None
    assert {"title": "Nữ", "payload": "Nữ"} in out["buttons"]


@pytest.mark.parametrize("text", [
    "em làm 80 năm, lương 9tr, đóng bhtn 2 năm thì trợ cấp thôi việc bao nhiêu",
    "lương -5 triệu làm 3 năm không đóng bảo hiểm thì trợ cấp thôi việc bao nhiêu",
    "tôi là nữ sinh tháng 5 năm 2030 khi nào nghỉ hưu",
    "em 20 tuổi, làm 15 năm, lương 7tr, bhtn 2 năm, trợ cấp thôi việc bao nhiêu",
    "lương " + "9" * 60 + " đồng, làm 3 năm, không đóng bảo hiểm, trợ cấp thôi việc bao nhiêu",
])
def test_absurd_facts_get_no_figure(project_model, resources, text):
    out = Engine(project_model, resources).ask(text).to_ask_json()
    assert out["calculation"] is None and out["form"] and out["form"]["invalid"]
    assert "kiểm tra" in out["text"]
