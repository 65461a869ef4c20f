"""Tuning: choose hyper-parameters and decision thresholds by cross-validation, then fit.

Everything that depends on the data is chosen on held-out folds, never by hand:

- ``C`` of the linear model (a small grid; the feature matrix of each fold is computed once),
- the softmax temperature that turns scores into confidences (minimum held-out log-loss),
- the confidence threshold and the top-1/top-2 margin used by the dialogue policy
  (maximum "right answers minus ``wrong_answer_cost`` x wrong answers" on held-out predictions).

The chosen values and the held-out figures are stored in the model's ``metadata.json``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed
from scipy.optimize import minimize_scalar
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold

from . import OUT_OF_SCOPE
from .classifier import IntentClassifier, softmax

logger = logging.getLogger(__name__)

DEFAULT_C_GRID = (0.3, 1.0, 3.0)


@dataclass
class TrainingReport:
    params: dict
    cv_accuracy: float | None
    cv_folds: int
    c_scores: dict
    confidence_scale: float
    threshold: float
    margin: float
    clarify_floor: float
    policy_scores: dict
    train_seconds: float
    n_examples: int
    n_intents: int


def data_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    h = hashlib.sha256()
    for t, label in sorted(zip(texts, labels)):
        h.update(label.encode())
        h.update(b"\x00")
        h.update(t.encode())
        h.update(b"\x01")
    return h.hexdigest()[:16]


def make_folds(labels: np.ndarray, n_folds: int, random_state: int = 0):
    """Stratified folds when every class can be split, plain shuffled folds otherwise."""
    counts = np.unique(labels, return_counts=True)[1]
    if counts.min() >= n_folds:
        return list(StratifiedKFold(n_folds, shuffle=True, random_state=random_state).split(np.zeros(len(labels)), labels))
    return list(KFold(n_folds, shuffle=True, random_state=random_state).split(np.zeros(len(labels))))


def _subset(rendered: dict[str, list[str]], idx) -> dict[str, list[str]]:
    return {view: [docs[i] for i in idx] for view, docs in rendered.items()}


def _fold_scores(base: IntentClassifier, rendered, y, train_idx, test_idx, c_grid):
    """Fit the features on one fold once, then one linear model per C; return held-out scores per C."""
    features = base._make_features()
    tr = features.fit_transform_rendered(_subset(rendered, train_idx))
    te = features.transform_rendered(_subset(rendered, test_idx))
    result = {}
    n_classes = int(y.max()) + 1
    for c in c_grid:
        model = clone(base).set_params(C=c)
        fitted = model._make_model(tr.shape[0]).fit(tr, y[train_idx])
        raw = fitted.decision_function(te) if base.model != "logreg" else np.log(np.clip(fitted.predict_proba(te), 1e-12, 1))
        if raw.ndim == 1:
            raw = np.column_stack([-raw, raw])
        # Classes missing from this training fold get very low scores.
        full = np.full((len(test_idx), n_classes), -1e9)
        full[:, fitted.classes_] = raw
        result[c] = full
    return test_idx, result


def fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """Softmax temperature minimising the negative log-likelihood of held-out scores."""

    def nll(log_scale: float) -> float:
        p = softmax(scores, float(np.exp(log_scale)))
        return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0))))

    res = minimize_scalar(nll, bounds=(np.log(0.05), np.log(200.0)), method="bounded")
    return float(np.exp(res.x))


def choose_policy(
    proba: np.ndarray,
    y: np.ndarray,
    classes: np.ndarray,
    wrong_answer_cost: float = 5.0,
) -> tuple[float, float, dict]:
    """Pick (threshold, margin) maximising right - cost x wrong answers on held-out predictions.

    A prediction is *answered* when its intent is not out-of-scope, its confidence is at least the
    threshold and it beats the runner-up by at least the margin. Answering an out-of-scope message
    with any other intent counts as wrong.
    """
    order = np.argsort(-proba, axis=1)
    top1 = proba[np.arange(len(y)), order[:, 0]]
    top2 = proba[np.arange(len(y)), order[:, 1]] if proba.shape[1] > 1 else np.zeros(len(y))
    pred = order[:, 0]
    oos = np.where(classes == OUT_OF_SCOPE)[0]
    is_oos_pred = np.isin(pred, oos)
    correct = pred == y
    best = (-np.inf, 0.0, 0.0, {})
    for threshold in np.round(np.arange(0.0, 0.91, 0.025), 3):
        for margin in np.round(np.arange(0.0, 0.41, 0.02), 3):
            # "Answered" = not out of scope, confidence >= threshold and top-1 minus top-2 >= margin. The rule
            # is written three times, change them together: here, bot.policy.decide (serving) and
            # bot.nlu.calibration.calibrate_threshold.
            answered = (~is_oos_pred) & (top1 >= threshold) & (top1 - top2 >= margin)
            right = int(np.sum(answered & correct))
            wrong = int(np.sum(answered & ~correct))
            score = right - wrong_answer_cost * wrong
            # Ties: prefer the lower threshold/margin (answer more).
            if score > best[0] + 1e-9:
                best = (score, float(threshold), float(margin), {
                    "answered": int(answered.sum()), "right": right, "wrong": wrong, "n": int(len(y)),
                })
    return best[1], best[2], best[3]


def choose_clarify_floor(proba: np.ndarray, y: np.ndarray, classes: np.ndarray, threshold: float, top_k: int = 3) -> tuple[float, dict]:
    """Lowest confidence at which an unsure message gets "Ý bạn là…?" instead of a plain fallback.

    Among held-out messages below the answer threshold, offering the top-k intents is a *hit* when
    the true intent is among them and a *miss* otherwise (always for out-of-scope messages). The
    floor maximises hits - misses.
    """
    order = np.argsort(-proba, axis=1)[:, :top_k]
    top1 = proba[np.arange(len(y)), order[:, 0]]
    oos = set(np.where(classes == OUT_OF_SCOPE)[0].tolist())
    hit = np.array([(y[i] in order[i]) and (y[i] not in oos) for i in range(len(y))])
    unsure = top1 < threshold
    best = (0, threshold, {"offered": 0, "hits": 0})
    for floor in np.round(np.arange(0.0, threshold, 0.025), 3):
        offered = unsure & (top1 >= floor)
        hits = int(np.sum(offered & hit))
        score = hits - int(np.sum(offered & ~hit))
        if score > best[0]:
            best = (score, float(floor), {"offered": int(offered.sum()), "hits": hits})
    return best[1], best[2]


def train_classifier(
    texts: Sequence[str],
    labels: Sequence[str],
    base: IntentClassifier | None = None,
    c_grid: Sequence[float] = DEFAULT_C_GRID,
    n_folds: int = 5,
    n_jobs: int = 2,
    wrong_answer_cost: float = 5.0,
    progress: Callable[[str], None] | None = None,
) -> tuple[IntentClassifier, TrainingReport]:
    """Tune ``C``, the confidence temperature and the policy thresholds by CV, then fit on all data."""
    say = progress or (lambda msg: None)
    start = time.perf_counter()
    texts = list(texts)
    labels_arr = np.asarray(labels)
    base = base if base is not None else IntentClassifier()
    classes, y = np.unique(labels_arr, return_inverse=True)
    counts = np.bincount(y)
    folds_k = int(min(n_folds, max(2, counts.max())))
    c_scores: dict = {}
    oof: dict = {}
    if len(texts) >= 2 * folds_k and len(classes) >= 2:
        folds = make_folds(y, folds_k, base.random_state)
        say(f"Kiểm định chéo {folds_k} phần, thử C ∈ {list(c_grid)}…")
        rendered = base._make_features().render(texts)  # normalise + segment each text once
        results = Parallel(n_jobs=n_jobs)(
            delayed(_fold_scores)(base, rendered, y, tr, te, c_grid) for tr, te in folds
        )
        for c in c_grid:
            full = np.zeros((len(texts), len(classes)))
            for test_idx, per_c in results:
                full[test_idx] = per_c[c]
            oof[c] = full
            c_scores[float(c)] = float(np.mean(full.argmax(1) == y))
        best_c = max(c_grid, key=lambda c: (c_scores[float(c)], -abs(np.log(c))))
        scores = oof[best_c]
        scale = fit_temperature(scores, y)
        proba = softmax(scores, scale)
        threshold, margin, policy_scores = choose_policy(proba, y, classes, wrong_answer_cost)
        clarify_floor, clarify_scores = choose_clarify_floor(proba, y, classes, threshold)
        policy_scores["clarify"] = clarify_scores
        cv_accuracy = c_scores[float(best_c)]
        say(f"Chọn C={best_c}, độ chính xác kiểm định chéo {cv_accuracy:.2%}, ngưỡng tin cậy {threshold}, biên {margin}")
    else:
        best_c, scale, threshold, margin, policy_scores, cv_accuracy = base.C, base.confidence_scale, 0.0, 0.0, {}, None
        clarify_floor = 0.0
        say("Dữ liệu quá ít để kiểm định chéo; dùng tham số mặc định.")
    say("Huấn luyện mô hình cuối trên toàn bộ dữ liệu…")
    final = clone(base).set_params(C=best_c, confidence_scale=scale)
    final.fit(texts, labels_arr)  # segmentation results are cached, so this re-render is cheap
    seconds = time.perf_counter() - start
    report = TrainingReport(
        params={k: (list(v) if isinstance(v, tuple) else v) for k, v in final.get_params().items() if k != "abbreviations"},
        cv_accuracy=cv_accuracy,
        cv_folds=folds_k if cv_accuracy is not None else 0,
        c_scores=c_scores,
        confidence_scale=scale,
        threshold=threshold,
        margin=margin,
        clarify_floor=clarify_floor,
        policy_scores=policy_scores,
        train_seconds=seconds,
        n_examples=len(texts),
        n_intents=len(classes),
    )
    return final, report

