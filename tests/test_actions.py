"""Custom actions: run in-process by the engine, and served by the real rasa-sdk action server."""

import os
import subprocess
import sys
import time

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions
from actions.resources import Resources

from .browser import free_port
from .conftest import ROOT


def tracker(intent, confidence=0.95, slots=None, ranking=None, text="x"):
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence},
              "intent_ranking": ranking or [{"name": intent, "confidence": confidence}], "entities": []}
    return Tracker("u1", slots or {}, latest, [], False, None, {}, None)


RESOURCES = Resources.load()


def run(action_class, t):
    d = CollectingDispatcher()
    events = action_class(RESOURCES).run(d, t, {})
    return d.messages, events


def test_answer_faq_sends_answer_with_feedback_and_related_buttons():
    messages, events = run(actions.ActionAnswerFAQ, tracker("faq/nghi_phep_nam"))
    [m] = messages
    assert "Căn cứ: " in m["text"] and "{" not in m["text"]
    payloads = [b["payload"] for b in m["buttons"]]
    assert payloads[:2] == ["/feedback_good", "/feedback_unclear"] and len(payloads) <= 6
    assert payloads[2] == "/calc/annual_leave"  # the entry has a calculator: "Tính cho tôi" starts its form
    assert {"event": "slot", "timestamp": None, "name": "last_faq_id", "value": "nghi_phep_nam"} in events


TICKET = {"ticket_code": "CD-ABCDE", "ticket_status": "open", "ticket_due_at": "2026-11-28T03:00:00+00:00"}


def test_handoff_renders_the_ticket_code_and_deadline_in_vietnam_time():
    messages, events = run(actions.ActionHandoff, tracker("request_human", slots=TICKET))
    assert "CD-ABCDE" in messages[0]["text"] and "24 giờ" in messages[0]["text"]
    assert "10:00 ngày 28/11/2026" in messages[0]["text"]
    assert events == []  # it only renders: the ticket was opened before it ran


def test_handoff_on_a_faq_intent_sends_the_answer_first():
    """A question that also reads like a dispute: the worker gets the rule now, then the ticket code."""
    slots = {**TICKET, "handoff_faq_id": "tra_luong_dung_han"}
    messages, _ = run(actions.ActionHandoff, tracker("faq/tra_luong_dung_han", slots=slots))
    text = messages[0]["text"]
    assert "Căn cứ: " in text and "CD-ABCDE" in text
    assert text.index("Căn cứ: ") < text.index("CD-ABCDE")
    # Handed off while unsure of the FAQ intent: no guessed answer, just the ticket.
    messages, _ = run(actions.ActionHandoff, tracker("faq/tra_luong_dung_han", slots=TICKET))
    assert "Căn cứ: " not in messages[0]["text"] and "CD-ABCDE" in messages[0]["text"]


def test_handoff_without_a_ticket_promises_no_code():
    """``ask`` and ``shell`` open no ticket: the worker is told what would happen, with no code."""
    messages, events = run(actions.ActionHandoff, tracker("request_human"))
    assert "CD-" not in messages[0]["text"] and "24 giờ" in messages[0]["text"]
    assert events == []


def test_action_server_instances_load_resources_themselves():
    d = CollectingDispatcher()
    actions.ActionAnswerFAQ().run(d, tracker("faq/nghi_phep_nam"), {})
    assert "Căn cứ: " in d.messages[0]["text"]


def test_ticket_status_with_and_without_ticket():
    messages, _ = run(actions.ActionTicketStatus, tracker("ticket_status", slots={
        "ticket_code": "CD-ABCDE", "ticket_status": "assigned", "ticket_due_at": "2026-11-28T03:00:00+00:00"}))
    assert "CD-ABCDE" in messages[0]["text"] and "10:00 ngày 28/11/2026" in messages[0]["text"]
    messages, _ = run(actions.ActionTicketStatus, tracker("ticket_status"))
    assert "không có phiếu" in messages[0]["text"]


def test_clarify_offers_top_faqs_and_an_officer():
    ranking = [{"name": "faq/nghi_phep_nam", "confidence": 0.4}, {"name": "faq/nghi_viec_rieng", "confidence": 0.35},
               {"name": "greet", "confidence": 0.1}]
    messages, events = run(actions.ActionClarify, tracker("faq/nghi_phep_nam", 0.4, ranking=ranking))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ["/faq/nghi_phep_nam", "/faq/nghi_viec_rieng", "/request_human"]


@pytest.mark.slow
def test_rasa_sdk_action_server_serves_the_same_actions():
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("rasa-sdk action server did not start")
        names = {a["name"] for a in httpx.get(f"http://127.0.0.1:{port}/actions", timeout=5).json()}
        assert {"action_answer_faq", "action_handoff", "action_ticket_status", "action_feedback"} <= names
        body = {"next_action": "action_answer_faq", "sender_id": "u1", "domain": {}, "version": "3.0",
                "tracker": {"sender_id": "u1", "slots": {}, "events": [], "paused": False, "followup_action": None,
                            "active_loop": {}, "latest_action_name": None,
                            "latest_message": {"text": "lương tối thiểu", "intent": {"name": "faq/luong_toi_thieu_vung", "confidence": 0.9},
                                               "intent_ranking": [], "entities": []}}}
        response = httpx.post(f"http://127.0.0.1:{port}/webhook", json=body, timeout=30)
        assert response.status_code == 200, response.text
        data = response.json()
        assert "5.310.000" in data["responses"][0]["text"]
        assert data["events"][0]["name"] == "last_faq_id"
    finally:
        proc.terminate()
        proc.wait(10)
