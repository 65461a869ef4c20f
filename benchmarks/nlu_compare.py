"""Compare NLU pipeline variants by cross-validation and print a table.

Usage:
    .venv/bin/python benchmarks/nlu_compare.py                 # project data (nlu_data/ + faq/)
    .venv/bin/python benchmarks/nlu_compare.py --nlu FILE.yml  # any Rasa NLU file
    .venv/bin/python benchmarks/nlu_compare.py --quick         # fewer variants

For each variant: 5-fold CV accuracy on held-out messages as written, the same held-out messages
with diacritics stripped, a variant trained on stripped copies too ("augment"), and fit time.
Each fold renders (normalises + segments) the texts once, shared by all variants.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings  # noqa: E402
from bot.nlu.classifier import IntentClassifier  # noqa: E402
from bot.nlu.normalize import strip_accents  # noqa: E402
from bot.nlu.tuning import make_folds  # noqa: E402
from bot.training import abbreviations, load_data  # noqa: E402

VARIANTS = {
    "word only (accented)": dict(word_variant="accented", char_variant="none"),
    "char only (accented)": dict(word_variant="none", char_variant="accented"),
    "word+char accented": dict(word_variant="accented", char_variant="accented"),
    "word both + char stripped": dict(word_variant="both", char_variant="stripped"),
    "word both + char both": dict(word_variant="both", char_variant="both"),
    "word stripped + char stripped": dict(word_variant="stripped", char_variant="stripped"),
    "word both + char both (1,4)": dict(word_variant="both", char_variant="both", char_ngram_range=(1, 4)),
    "word both + char both (2,6)": dict(word_variant="both", char_variant="both", char_ngram_range=(2, 6)),
    "word both (1,3) + char both": dict(word_variant="both", char_variant="both", word_ngram_range=(1, 3)),
    "word both + char both, C=0.5": dict(word_variant="both", char_variant="both", C=0.5),
    "word both + char both, C=2": dict(word_variant="both", char_variant="both", C=2.0),
    "word both + char both, balanced": dict(word_variant="both", char_variant="both", class_weight="balanced"),
    "word both + char both, logreg": dict(word_variant="both", char_variant="both", model="logreg"),
    "word both + char both, sgd": dict(word_variant="both", char_variant="both", model="sgd"),
}
QUICK = ["word+char accented", "word both + char stripped", "word both + char both", "word both + char both, logreg"]


def run(texts, labels, abbreviations, names, folds=5, augment=False):
    labels = np.asarray(labels)
    _, y = np.unique(labels, return_inverse=True)
    splits = make_folds(y, folds, 0)
    rows = []
    for name in names:
        base = IntentClassifier(abbreviations=abbreviations, **VARIANTS[name])
        correct = correct_stripped = 0
        seconds = 0.0
        for tr, te in splits:
            model = clone(base)
            train_x = [texts[i] for i in tr]
            train_y = labels[tr]
            if augment:
                train_x = train_x + [strip_accents(t) for t in train_x]
                train_y = np.concatenate([train_y, train_y])
            t0 = time.perf_counter()
            model.fit(train_x, train_y)
            seconds += time.perf_counter() - t0
            held = [texts[i] for i in te]
            correct += int(np.sum(model.predict(held) == labels[te]))
            correct_stripped += int(np.sum(model.predict([strip_accents(t) for t in held]) == labels[te]))
        n = len(texts)
        rows.append((name + (" +augment" if augment else ""), correct / n, correct_stripped / n, seconds / folds))
        print(f"{rows[-1][0]:<45} {rows[-1][1]:>8.2%} {rows[-1][2]:>10.2%} {rows[-1][3]:>8.2f}s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nlu", action="append", help="Rasa NLU file(s); default: the project's data")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    settings = Settings.load()
    data = load_data(settings, args.nlu or ())
    names = QUICK if args.quick else list(VARIANTS)
    print(f"{len(data.examples)} examples, {len(data.intent_counts())} intents, {args.folds}-fold CV (fixed params, no tuning)")
    print(f"{'variant':<45} {'as written':>8} {'no diacritics':>10} {'fit time':>9}")
    table = abbreviations(settings)
    run(data.texts, data.intents, table, names, args.folds)
    run(data.texts, data.intents, table, ["word both + char both"], args.folds, augment=True)


if __name__ == "__main__":
    main()
