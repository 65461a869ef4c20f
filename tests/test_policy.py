"""The dialogue policy's rule table (bot.policy.decide), on the project's knowledge base."""

import pytest

from bot.knowledge import KnowledgeBase
from bot.nlu.dialogue_act import is_dispute_statement
from bot.policy import ACTION_ANSWER, ACTION_CLARIFY, ACTION_FALLBACK, ACTION_HANDOFF, COMPLAINT_SIGNAL, decide

from .conftest import ROOT


@pytest.fixture(scope="module")
def kb():
    return KnowledgeBase.load(ROOT / "faq")


def parse(ranking, text="câu hỏi"):
    top_name, top_conf = ranking[0]
    return {"text": text, "intent": {"name": top_name, "confidence": top_conf},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking]}


def test_confident_faq_question_is_answered(kb):
    d = decide(parse([("faq/tra_luong_dung_han", 0.95), ("complaint", 0.02)]), kb, threshold=0.9)
    assert (d.action, d.faq_id, d.handoff) == (ACTION_ANSWER, "tra_luong_dung_han", False)


def test_faq_question_that_reads_like_a_dispute_is_answered_and_handed_off(kb):
    d = decide(parse([("faq/tra_luong_dung_han", 0.8), ("complaint", COMPLAINT_SIGNAL + 0.01)]), kb, threshold=0.75)
    assert (d.action, d.faq_id, d.reason) == (ACTION_HANDOFF, "tra_luong_dung_han", "complaint_signal")


def test_unsure_question_that_reads_like_a_dispute_goes_to_an_officer_without_a_guess(kb):
    d = decide(parse([("faq/tra_luong_dung_han", 0.5), ("complaint", 0.3), ("faq/thanh_toan_khi_nghi_viec", 0.2)]),
               kb, threshold=0.9, clarify_floor=0.2)
    assert (d.action, d.faq_id, d.reason) == (ACTION_HANDOFF, None, "complaint_signal")


def test_unsure_ordinary_question_is_clarified(kb):
    d = decide(parse([("faq/tra_luong_dung_han", 0.5), ("faq/thanh_toan_khi_nghi_viec", 0.3), ("complaint", 0.05)]),
               kb, threshold=0.9, clarify_floor=0.2)
    assert d.action == ACTION_CLARIFY and not d.handoff


@pytest.mark.parametrize("intent", ["request_human", "complaint"])
def test_requests_for_a_person_and_disputes_hand_off_at_any_confidence(kb, intent):
    d = decide(parse([(intent, 0.2), ("faq/nghi_phep_nam", 0.19)]), kb, threshold=0.9)
    assert d.action == ACTION_HANDOFF and d.reason == intent


def test_out_of_scope_is_never_answered(kb):
    d = decide(parse([("out_of_scope", 0.99), ("faq/nghi_phep_nam", 0.01)]), kb, threshold=0.5)
    assert d.action == ACTION_FALLBACK and d.faq_id is None


def test_escalate_always_entry_hands_off_with_its_id(kb):
    d = decide(parse([("faq/ct_tet_sum_vay", 0.99)]), kb, threshold=0.5)
    assert (d.action, d.faq_id, d.reason) == (ACTION_HANDOFF, "ct_tet_sum_vay", "escalate_always")


def test_a_stated_dispute_is_answered_and_handed_off(kb):
    p = parse([("faq/tra_luong_dung_han", 0.97), ("complaint", 0.01)])
    p["dispute_statement"] = True
    d = decide(p, kb, threshold=0.9)
    assert (d.action, d.faq_id, d.reason) == (ACTION_HANDOFF, "tra_luong_dung_han", "complaint_signal")


@pytest.mark.parametrize("plain, expected", [
    ("cong ty tra luong cho bon em tre 15 ngay moi thang", True),
    ("cong ty tra luong tre 15 ngay moi thang", False),  # whose wages? not said
    ("chu xuong giu can cuoc cua cong nhan de khong cho nghi", True),
    ("cong ty tra luong tre 15 ngay co sao khong", False),  # a question about the rule
    ("cong ty tra luong tre thi phai lam sao", False),
    ("luong toi thieu vung 2026", False),  # nobody's account of anything
    ("em nghi phep nam duoc 12 ngay", False),  # no employer in it
])
def test_dispute_statement(plain, expected):
    assert is_dispute_statement(plain) is expected
