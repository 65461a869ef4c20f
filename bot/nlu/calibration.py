"""Choose the answer threshold on independently written messages (the calibration set).

Cross-validation on our own examples is a poor guide to how sure the model may be before it
answers: held-out folds still contain near-paraphrases written by the same hands, so the model
looks less certain *and* more often right than on a worker's new phrasing. The calibration set
(``nlu_data/calibration.yml``) holds messages written by people who never saw the training data,
labelled by **topic** (``topic/<topic id>`` from the coverage list) or ``out_of_scope``; it is never
used as training data. After the final model is fitted, every calibration message (as written and
with its diacritics stripped) is parsed, and the answer threshold is the one that maximises

    right answers - ``wrong_answer_cost`` x (wrong answers + out-of-scope messages answered)

where *right* means the answered FAQ entry belongs to the labelled topic. Ties go to the higher
threshold. Messages labelled with other intents (request_human, complaint, greet...) are reported
but do not move the threshold: hand-offs do not depend on it.

The figures this step reports are optimistic for the same reason any tuned number is: the final
quality figure must come from a test set used for nothing else (``tests/data/independent_test.yml``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from . import OUT_OF_SCOPE
from .normalize import strip_accents

TOPIC_PREFIX = "topic/"
DEFAULT_GRID = tuple(float(x) for x in np.round(np.arange(0.3, 0.951, 0.025), 3))
MIN_TOPIC_MESSAGES = 50


@dataclass
class CalibrationResult:
    threshold: float
    n_messages: int
    n_topic: int
    right: int
    wrong: int
    n_oos: int
    oos_answered: int
    cost: float
    by_threshold: dict = field(default_factory=dict, repr=False)

    def as_metadata(self) -> dict:
        d = asdict(self)
        d["by_threshold"] = {str(k): v for k, v in self.by_threshold.items()}
        return d


def calibrate_threshold(
    parse_many: Callable[[list[str]], Sequence],
    topic_of: Callable[[str], str | None],
    examples: Iterable,
    margin: float = 0.0,
    wrong_answer_cost: float = 5.0,
    grid: Sequence[float] = DEFAULT_GRID,
    strip: bool = True,
) -> CalibrationResult | None:
    """Pick the answer threshold on calibration ``examples`` (objects with ``text`` and ``intent``).

    ``parse_many`` is :meth:`NLUModel.parse_many`; ``topic_of(intent)`` gives the topic of a FAQ intent
    (``None`` for intents that are not FAQ answers). Returns ``None`` when the set has fewer than
    ``MIN_TOPIC_MESSAGES`` topic messages: too few to choose anything.
    """
    rows = [(ex.text, ex.intent) for ex in examples if ex.intent.startswith(TOPIC_PREFIX) or ex.intent == OUT_OF_SCOPE]
    if sum(1 for _, label in rows if label.startswith(TOPIC_PREFIX)) < MIN_TOPIC_MESSAGES:
        return None
    if strip:
        rows = rows + [(strip_accents(t), label) for t, label in rows]
    results = parse_many([t for t, _ in rows])
    conf = np.zeros(len(rows))
    gap = np.zeros(len(rows))
    is_faq = np.zeros(len(rows), dtype=bool)
    right = np.zeros(len(rows), dtype=bool)
    is_oos = np.array([label == OUT_OF_SCOPE for _, label in rows])
    for i, ((_, label), r) in enumerate(zip(rows, results)):
        topic = topic_of(r.intent) if r.intent else None
        if topic is None or r.intent == OUT_OF_SCOPE:
            continue
        ranking = list(r.ranking)
        second = float(ranking[1][1]) if len(ranking) > 1 else 0.0
        conf[i], gap[i], is_faq[i] = float(r.confidence), float(r.confidence) - second, True
        right[i] = (not is_oos[i]) and label == TOPIC_PREFIX + topic
    best: tuple | None = None
    table = {}
    n_topic = int((~is_oos).sum())
    for th in grid:
        # "Answered" = not out of scope, confidence >= threshold and top-1 minus top-2 >= margin. The rule is
        # written three times, change them together: here, bot.policy.decide (serving) and
        # bot.nlu.tuning.choose_policy.
        answered = is_faq & (conf >= th) & (gap >= margin)
        n_right = int((answered & right).sum())
        n_wrong = int((answered & ~right & ~is_oos).sum())
        n_oos = int((answered & is_oos).sum())
        score = n_right - wrong_answer_cost * (n_wrong + n_oos)
        table[float(th)] = {"right": n_right, "wrong": n_wrong, "oos_answered": n_oos}
        if best is None or score >= best[0] - 1e-9:  # >=: ties go to the higher threshold
            best = (score, float(th), n_right, n_wrong, n_oos)
    _, th, n_right, n_wrong, n_oos = best
    return CalibrationResult(
        threshold=th, n_messages=len(rows), n_topic=n_topic, right=n_right, wrong=n_wrong,
        n_oos=int(is_oos.sum()), oos_answered=n_oos, cost=wrong_answer_cost, by_threshold=table,
    )
