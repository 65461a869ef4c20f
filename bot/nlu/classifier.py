"""The intent classifier: ``TextFeatures`` + a linear model + a calibrated softmax.

``IntentClassifier`` is a scikit-learn estimator: ``__init__`` only stores parameters, ``fit``
returns ``self``, learned state ends in ``_``, and predicting before ``fit`` raises
``NotFittedError``. It works with any label set.

Confidence: linear SVMs give scores, not probabilities. We turn the scores into a distribution with
a softmax whose temperature (``confidence_scale``) is fitted on held-out folds to minimise log-loss
(see ``bot.nlu.tuning``); ``predict_proba`` uses it. Logistic regression has its own probabilities.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.preprocessing import LabelEncoder
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from .features import TextFeatures

MODELS = ("svc", "logreg", "sgd")


def softmax(scores: np.ndarray, scale: float = 1.0) -> np.ndarray:
    z = np.asarray(scores, dtype=np.float64) * scale
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


class IntentClassifier(ClassifierMixin, BaseEstimator):
    """Classify Vietnamese messages into intents.

    Parameters
    ----------
    abbreviations : dict or None
        Teencode/abbreviation table applied by the normaliser (frozen into the model).
    word_variant, char_variant : {"accented", "stripped", "both", "none"}
        Which diacritic variants feed the word and character n-gram features.
    word_ngram_range, char_ngram_range : tuple
        n-gram ranges for the two feature families.
    model : {"svc", "logreg", "sgd"}
        The linear model.
    C : float
        Inverse regularisation strength (``alpha = 1 / (C * n_samples)`` for SGD).
    class_weight : None or "balanced"
    confidence_scale : float
        Softmax temperature applied to decision scores in ``predict_proba`` (SVC, SGD).
    random_state : int
    """

    def __init__(
        self,
        abbreviations=None,
        word_variant="stripped",
        char_variant="stripped",
        word_ngram_range=(1, 2),
        char_ngram_range=(2, 5),
        model="svc",
        C=1.0,
        class_weight=None,
        confidence_scale=5.0,
        random_state=0,
    ):
        self.abbreviations = abbreviations
        self.word_variant = word_variant
        self.char_variant = char_variant
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.model = model
        self.C = C
        self.class_weight = class_weight
        self.confidence_scale = confidence_scale
        self.random_state = random_state

    def _make_features(self) -> TextFeatures:
        return TextFeatures(
            abbreviations=self.abbreviations,
            word_variant=self.word_variant,
            char_variant=self.char_variant,
            word_ngram_range=self.word_ngram_range,
            char_ngram_range=self.char_ngram_range,
        )

    def _make_model(self, n_samples: int):
        if self.model == "svc":
            return LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state)
        if self.model == "logreg":
            return LogisticRegression(C=self.C * 10, class_weight=self.class_weight, max_iter=2000, random_state=self.random_state)
        if self.model == "sgd":
            return SGDClassifier(
                loss="modified_huber",
                alpha=1.0 / (self.C * max(n_samples, 1)),
                class_weight=self.class_weight,
                max_iter=50,
                tol=None,
                random_state=self.random_state,
            )
        raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")

    def fit(self, X, y):
        X = list(X)
        y = np.asarray(y)
        if len(X) != len(y):
            raise ValueError(f"X and y have different lengths: {len(X)} != {len(y)}")
        if len(X) == 0:
            raise ValueError("cannot fit on an empty training set")
        self.label_encoder_ = LabelEncoder().fit(y)
        self.classes_ = self.label_encoder_.classes_
        if len(self.classes_) < 2:
            raise ValueError("need at least two intents to train a classifier")
        self.features_ = self._make_features()
        matrix = self.features_.fit_transform(X)
        return self._fit_matrix(matrix, self.label_encoder_.transform(y))

    def _fit_matrix(self, matrix, y_encoded):
        """Fit the linear model on an already computed feature matrix (used by tuning)."""
        self.model_ = self._make_model(matrix.shape[0]).fit(matrix, y_encoded)
        self.n_features_in_ = 1  # one text column
        return self

    def decision_function(self, X):
        check_is_fitted(self, "model_")
        return self._scores(self.features_.transform(list(X)))

    def _scores(self, matrix) -> np.ndarray:
        scores = self.model_.decision_function(matrix)
        if scores.ndim == 1:  # binary problem: sklearn returns one column
            scores = np.column_stack([-scores, scores])
        return scores

    def predict_proba(self, X):
        check_is_fitted(self, "model_")
        matrix = self.features_.transform(list(X))
        return self._proba_from_matrix(matrix)

    def _proba_from_matrix(self, matrix) -> np.ndarray:
        if self.model == "logreg":
            proba = self.model_.predict_proba(matrix)
            if self.confidence_scale != 1.0:
                proba = softmax(np.log(np.clip(proba, 1e-12, 1.0)), self.confidence_scale)
            return proba
        return softmax(self._scores(matrix), self.confidence_scale)

    def predict(self, X):
        check_is_fitted(self, "model_")
        scores = self.decision_function(X)
        return self.classes_[np.argmax(scores, axis=1)]
