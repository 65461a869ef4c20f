"""Evaluation: intent metrics, cross-validation and the HTML report."""

from __future__ import annotations

import datetime as dt
import html
import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

from .classifier import IntentClassifier
from .normalize import strip_accents
from .tuning import make_folds, train_classifier


def intent_metrics(y_true: Sequence[str], y_pred: Sequence[str], confidences: Sequence[float] | None = None) -> dict:
    """Accuracy, macro F1, per-intent precision/recall/F1/support and the most confused pairs."""
    y_true = [str(y) for y in y_true]
    y_pred = [str(y) for y in y_pred]
    labels = sorted(set(y_true) | set(y_pred))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    true_labels = sorted(set(y_true))
    per_intent = {
        lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4), "f1": round(float(f[i]), 4), "support": int(s[i])}
        for i, lab in enumerate(labels)
    }
    macro_f1 = float(np.mean([per_intent[lab]["f1"] for lab in true_labels])) if true_labels else 0.0
    confused = Counter((t, q) for t, q in zip(y_true, y_pred) if t != q)
    result = {
        "n": len(y_true),
        "accuracy": round(float(np.mean([t == q for t, q in zip(y_true, y_pred)])) if y_true else 0.0, 4),
        "macro_f1": round(macro_f1, 4),
        "per_intent": per_intent,
        "confused_pairs": [{"true": t, "predicted": q, "count": c} for (t, q), c in confused.most_common(15)],
    }
    if confidences is not None:
        conf = np.asarray(confidences, dtype=float)
        correct = np.asarray([t == q for t, q in zip(y_true, y_pred)])
        bins = np.linspace(0, 1, 11)
        result["confidence_histogram"] = {
            "bins": [round(float(b), 2) for b in bins],
            "correct": np.histogram(conf[correct], bins=bins)[0].tolist(),
            "wrong": np.histogram(conf[~correct], bins=bins)[0].tolist(),
        }
    return result


def cross_validate(
    texts: Sequence[str],
    labels: Sequence[str],
    folds: int = 5,
    base: IntentClassifier | None = None,
    inner_folds: int = 3,
    strip: bool = False,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict, list[str], list[str]]:
    """Nested cross-validation: each outer fold runs the whole training procedure (with its own
    inner tuning) on the other folds. With ``strip`` the held-out messages lose their diacritics."""
    say = progress or (lambda m: None)
    texts = list(texts)
    labels_arr = np.asarray(labels)
    _, y = np.unique(labels_arr, return_inverse=True)
    y_true, y_pred, confs = [], [], []
    y_pred_stripped, confs_stripped = [], []
    for k, (tr, te) in enumerate(make_folds(y, folds, 0), start=1):
        say(f"Phần {k}/{folds}: huấn luyện trên {len(tr)} câu, kiểm tra trên {len(te)} câu…")
        model, report = train_classifier([texts[i] for i in tr], labels_arr[tr], base=base, n_folds=inner_folds)
        held = [texts[i] for i in te]
        proba = model.predict_proba(held)
        y_true.extend(labels_arr[te])
        y_pred.extend(model.classes_[proba.argmax(1)])
        confs.extend(proba.max(1))
        if strip:
            proba_s = model.predict_proba([strip_accents(t) for t in held])
            y_pred_stripped.extend(model.classes_[proba_s.argmax(1)])
            confs_stripped.extend(proba_s.max(1))
    result = intent_metrics(y_true, y_pred, confs)
    result["folds"] = folds
    if strip:
        result["stripped"] = _summary(intent_metrics(y_true, y_pred_stripped, confs_stripped))
    return result, [str(v) for v in y_true], [str(v) for v in y_pred]


def evaluate_model(
    model,
    texts: Sequence[str],
    labels: Sequence[str],
    relabel: Callable[[str], str] | None = None,
) -> tuple[dict, list[str], list[str]]:
    """Metrics of a trained :class:`~bot.nlu.model.NLUModel` on labelled messages, as written and
    (under ``stripped``) without diacritics. ``relabel`` maps a predicted intent to the labels of the
    test file (for example ``faq/<id>`` to ``topic/<its topic>``); a message with no intent is
    predicted ``"None"``."""
    relabel = relabel or (lambda label: label)
    texts, y_true = list(texts), list(labels)
    results = model.parse_many(texts)
    y_pred = [relabel(r.intent or "None") for r in results]
    metrics = intent_metrics(y_true, y_pred, [r.confidence for r in results])
    stripped = model.parse_many([strip_accents(t) for t in texts])
    metrics["stripped"] = _summary(intent_metrics(y_true, [relabel(r.intent or "None") for r in stripped]))
    metrics["model"] = model.version
    return metrics, y_true, y_pred


def _summary(metrics: dict) -> dict:
    return {k: metrics[k] for k in ("accuracy", "macro_f1", "confused_pairs")}


# --- HTML report --------------------------------------------------------------------------------


def _confusion_table(y_true: Sequence[str], y_pred: Sequence[str]) -> str:
    labels = sorted(set(y_true) | set(y_pred))
    index = {lab: i for i, lab in enumerate(labels)}
    m = np.zeros((len(labels), len(labels)), dtype=int)
    for t, q in zip(y_true, y_pred):
        m[index[t], index[q]] += 1
    row_max = m.max(axis=1, initial=1)
    head = "".join(f'<th class="rot"><div>{html.escape(lab)}</div></th>' for lab in labels)
    rows = []
    for i, lab in enumerate(labels):
        cells = []
        for j in range(len(labels)):
            v = m[i, j]
            if v == 0:
                cells.append("<td></td>")
                continue
            alpha = 0.15 + 0.85 * v / max(row_max[i], 1)
            colour = f"rgba(22,101,52,{alpha:.2f})" if i == j else f"rgba(185,28,28,{alpha:.2f})"
            cells.append(f'<td style="background:{colour}" title="{html.escape(lab)} → {html.escape(labels[j])}">{v}</td>')
        rows.append(f"<tr><th>{html.escape(lab)}</th>{''.join(cells)}</tr>")
    return f'<table class="cm"><tr><th></th>{head}</tr>{"".join(rows)}</table>'


def _histogram_svg(hist: dict) -> str:
    bins, correct, wrong = hist["bins"], hist["correct"], hist["wrong"]
    top = max(max(correct + wrong, default=1), 1)
    width, height, bar = 520, 200, 22
    parts = [f'<svg width="{width}" height="{height + 40}" role="img" aria-label="Biểu đồ độ tin cậy">']
    for i in range(len(correct)):
        x = 30 + i * 48
        hc = height * correct[i] / top
        hw = height * wrong[i] / top
        parts.append(f'<rect x="{x}" y="{height - hc}" width="{bar}" height="{hc}" fill="#166534"><title>đúng: {correct[i]}</title></rect>')
        parts.append(f'<rect x="{x + bar}" y="{height - hw}" width="{bar}" height="{hw}" fill="#b91c1c"><title>sai: {wrong[i]}</title></rect>')
        parts.append(f'<text x="{x}" y="{height + 15}" font-size="10">{bins[i]:.1f}</text>')
    parts.append(f'<text x="30" y="{height + 35}" font-size="12">Độ tin cậy (xanh: đúng, đỏ: sai)</text></svg>')
    return "".join(parts)


def write_html_report(path: str | Path, metrics: dict, y_true: Sequence[str], y_pred: Sequence[str], title: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{v['precision']:.3f}</td><td>{v['recall']:.3f}</td><td>{v['f1']:.3f}</td><td>{v['support']}</td></tr>"
        for k, v in sorted(metrics["per_intent"].items(), key=lambda kv: kv[1]["f1"])
    )
    confused = "".join(
        f"<tr><td>{html.escape(c['true'])}</td><td>{html.escape(c['predicted'])}</td><td>{c['count']}</td></tr>"
        for c in metrics["confused_pairs"]
    )
    hist = _histogram_svg(metrics["confidence_histogram"]) if "confidence_histogram" in metrics else ""
    doc = f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;color:#111}} table{{border-collapse:collapse;margin:1rem 0}}
td,th{{border:1px solid #ddd;padding:3px 6px;font-size:12px;text-align:right}} th{{background:#f5f5f5;text-align:left}}
.cm td{{min-width:18px;text-align:center}} .rot{{height:140px;white-space:nowrap;vertical-align:bottom}}
.rot div{{transform:rotate(-60deg);width:20px}}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Thời điểm: {dt.datetime.now().isoformat(timespec="seconds")} · Số câu: {metrics['n']} ·
Độ chính xác: <b>{metrics['accuracy']:.2%}</b> · Macro F1: <b>{metrics['macro_f1']:.4f}</b></p>
<h2>Độ tin cậy</h2>{hist}
<h2>Các cặp ý định hay nhầm</h2><table><tr><th>Đúng</th><th>Dự đoán</th><th>Số lần</th></tr>{confused}</table>
<h2>Theo từng ý định</h2><table><tr><th>Ý định</th><th>Precision</th><th>Recall</th><th>F1</th><th>Số câu</th></tr>{rows}</table>
<h2>Ma trận nhầm lẫn</h2>{_confusion_table(list(y_true), list(y_pred))}
<script type="application/json" id="metrics">{html.escape(json.dumps({k: metrics[k] for k in ('accuracy', 'macro_f1')}))}</script>
</body></html>"""
    path.write_text(doc, encoding="utf-8")
    return path
