"""Choosing the answer threshold on independently written messages (bot.nlu.calibration)."""

import json
from types import SimpleNamespace

from bot.nlu.calibration import MIN_TOPIC_MESSAGES, calibrate_threshold
from bot.nlu.model import ParseResult

TOPICS = {"faq/a": "topic_a", "faq/a__sub": "topic_a", "faq/b": "topic_b"}


def _parser(table):
    """A parse_many that looks each text up in ``table``: text -> (intent, confidence, runner-up)."""

    def parse_many(texts):
        out = []
        for t in texts:
            intent, conf, second = table[t]
            out.append(ParseResult(t, intent, conf, [(intent, conf), ("faq/b", second)], False, False))
        return out

    return parse_many


def _examples(rows):
    return [SimpleNamespace(text=t, intent=label) for t, label in rows]


def test_threshold_keeps_confident_right_answers_and_drops_unsure_wrong_ones():
    table, rows = {}, []
    for i in range(MIN_TOPIC_MESSAGES):
        table[f"dung {i}"] = ("faq/a__sub" if i % 2 else "faq/a", 0.9, 0.05)  # a sibling of the topic is right
        rows.append((f"dung {i}", "topic/topic_a"))
    for i in range(10):
        table[f"sai {i}"] = ("faq/b", 0.55, 0.3)  # wrong topic, unsure
        rows.append((f"sai {i}", "topic/topic_a"))
    table["ngoai"] = ("faq/b", 0.62, 0.2)  # an out-of-scope message the model would answer
    rows.append(("ngoai", "out_of_scope"))
    table["nguoi"] = ("request_human", 1.0, 0.0)  # not a topic message: ignored
    rows.append(("nguoi", "request_human"))
    result = calibrate_threshold(_parser(table), TOPICS.get, _examples(rows), strip=False)
    assert 0.62 < result.threshold <= 0.9
    assert (result.right, result.wrong, result.oos_answered) == (MIN_TOPIC_MESSAGES, 0, 0)
    assert (result.n_topic, result.n_oos) == (MIN_TOPIC_MESSAGES + 10, 1)
    low = result.by_threshold[0.5]
    assert (low["right"], low["wrong"], low["oos_answered"]) == (MIN_TOPIC_MESSAGES, 10, 1)
    json.dumps(result.as_metadata())  # stored in the model's metadata.json


def test_cheap_wrong_answers_lower_the_threshold():
    """With a cost of 1, answering 30 right for 10 wrong pays; with the default cost of 5 it does not."""
    table, rows = {}, []
    for i in range(MIN_TOPIC_MESSAGES):
        table[f"chac {i}"] = ("faq/a", 0.95, 0.0)
        rows.append((f"chac {i}", "topic/topic_a"))
    for i in range(30):
        table[f"dung {i}"] = ("faq/b", 0.5, 0.2)
        rows.append((f"dung {i}", "topic/topic_b"))
    for i in range(10):
        table[f"sai {i}"] = ("faq/b", 0.5, 0.2)
        rows.append((f"sai {i}", "topic/topic_a"))
    strict = calibrate_threshold(_parser(table), TOPICS.get, _examples(rows), strip=False)
    lenient = calibrate_threshold(_parser(table), TOPICS.get, _examples(rows), strip=False, wrong_answer_cost=1.0)
    assert strict.threshold > 0.5 and strict.wrong == 0
    assert lenient.threshold <= 0.5 and (lenient.right, lenient.wrong) == (MIN_TOPIC_MESSAGES + 30, 10)


def test_margin_applies_as_in_the_dialogue_policy():
    table = {f"m {i}": ("faq/a", 0.8, 0.75) for i in range(MIN_TOPIC_MESSAGES)}
    rows = [(t, "topic/topic_a") for t in table]
    result = calibrate_threshold(_parser(table), TOPICS.get, _examples(rows), margin=0.1, strip=False)
    assert result.right == 0  # top-2 too close: never answered, whatever the threshold


def test_too_few_topic_messages_chooses_nothing():
    table = {"x": ("faq/a", 0.9, 0.0)}
    assert calibrate_threshold(_parser(table), TOPICS.get, _examples([("x", "topic/topic_a")])) is None


def test_stripped_copies_are_scored_too():
    table = {}
    rows = []
    for i in range(MIN_TOPIC_MESSAGES):
        table[f"nghỉ phép {i}"] = ("faq/a", 0.9, 0.0)
        table[f"nghi phep {i}"] = ("faq/a", 0.4, 0.3)
        rows.append((f"nghỉ phép {i}", "topic/topic_a"))
    result = calibrate_threshold(_parser(table), TOPICS.get, _examples(rows))
    assert result.n_messages == 2 * MIN_TOPIC_MESSAGES
    assert result.by_threshold[0.4]["right"] == 2 * MIN_TOPIC_MESSAGES
