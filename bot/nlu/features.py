"""Feature extraction: TF-IDF over word and character n-grams of normalised Vietnamese text.

Each message is normalised, segmented into words, and rendered into up to four "views":

- ``w``  segmented words as written (with diacritics): "người_lao_động nghỉ_phép"
- ``ws`` the same words without diacritics: "nguoi_lao_dong nghi_phep"
- ``c``  the normalised text (with diacritics), for character n-grams
- ``cs`` the normalised text without diacritics, for character n-grams

Views without diacritics let a message typed as "nghi phep nam" share features with
"nghỉ phép năm". Which views are used is a parameter chosen by cross-validation
(see ``benchmarks/nlu_compare.py``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from .normalize import Normalizer, strip_accents
from .tokenize import default_segmenter

WORD_VARIANTS = ("accented", "stripped", "both", "none")
CHAR_VARIANTS = ("accented", "stripped", "both", "none")


def _views(word_variant: str, char_variant: str) -> list[str]:
    views = []
    if word_variant in ("accented", "both"):
        views.append("w")
    if word_variant in ("stripped", "both"):
        views.append("ws")
    if char_variant in ("accented", "both"):
        views.append("c")
    if char_variant in ("stripped", "both"):
        views.append("cs")
    return views


class TextFeatures(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Turn raw messages into a sparse TF-IDF matrix (word + character n-grams).

    Parameters follow scikit-learn conventions: stored as given, validated in ``fit``.
    """

    def __init__(
        self,
        abbreviations=None,
        word_variant="stripped",
        char_variant="stripped",
        word_ngram_range=(1, 2),
        char_ngram_range=(2, 5),
        min_df=1,
        max_features=None,
        sublinear_tf=True,
    ):
        self.abbreviations = abbreviations
        self.word_variant = word_variant
        self.char_variant = char_variant
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf

    # -- preprocessing shared by fit and transform ------------------------------------------
    def _normalizer(self) -> Normalizer:
        cached = getattr(self, "_normalizer_cache", None)
        key = tuple(sorted((self.abbreviations or {}).items()))
        if cached is None or cached[0] != key:
            cached = (key, Normalizer(dict(self.abbreviations or {})))
            self._normalizer_cache = cached
        return cached[1]

    def render(self, texts, plain_out: list[str] | None = None) -> dict[str, list[str]]:
        """Normalise, segment and render each text into the views this transformer uses.

        ``plain_out``, if given, receives each normalised text without diacritics (what the
        `regex:` rules and the dialogue-act check read), so callers need not normalise twice."""
        normalize = self._normalizer()
        segment = default_segmenter()
        views = _views(self.word_variant, self.char_variant)
        out: dict[str, list[str]] = {v: [] for v in views}
        for text in texts:
            norm = normalize(text if isinstance(text, str) else "")
            if "w" in out or "ws" in out:
                words = " ".join(segment(norm))
                if "w" in out:
                    out["w"].append(words)
                if "ws" in out:
                    out["ws"].append(strip_accents(words))
            if "c" in out:
                out["c"].append(norm)
            if "cs" in out or plain_out is not None:
                plain = strip_accents(norm)
                if "cs" in out:
                    out["cs"].append(plain)
                if plain_out is not None:
                    plain_out.append(plain)
        return out

    def _make_vectorizer(self, view: str) -> TfidfVectorizer:
        common = dict(sublinear_tf=self.sublinear_tf, min_df=self.min_df, max_features=self.max_features, lowercase=False, dtype=np.float32)
        if view in ("w", "ws"):
            return TfidfVectorizer(analyzer="word", token_pattern=r"[^\s,.!?;:()\"']+", ngram_range=tuple(self.word_ngram_range), **common)
        return TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngram_range), **common)

    def fit(self, X, y=None):
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None):
        return self.fit_transform_rendered(self.render(X))

    def transform(self, X):
        check_is_fitted(self, "vectorizers_")
        return self.transform_rendered(self.render(X))

    def fit_transform_rendered(self, rendered: dict[str, list[str]]):
        """Fit on output of ``render`` (lets cross-validation render each text only once)."""
        if self.word_variant not in WORD_VARIANTS or self.char_variant not in CHAR_VARIANTS:
            raise ValueError(f"word_variant must be one of {WORD_VARIANTS} and char_variant one of {CHAR_VARIANTS}")
        if self.word_variant == "none" and self.char_variant == "none":
            raise ValueError("at least one of word_variant and char_variant must not be 'none'")
        self.vectorizers_ = {}
        blocks = []
        for view, docs in rendered.items():
            vec = self._make_vectorizer(view)
            try:
                blocks.append(vec.fit_transform(docs))
            except ValueError:  # empty vocabulary (e.g. every message empty): keep a zero block
                vec = None
                blocks.append(sp.csr_matrix((len(docs), 0), dtype=np.float32))
            self.vectorizers_[view] = vec
        self.n_features_out_ = sum(b.shape[1] for b in blocks)
        return sp.hstack(blocks, format="csr")

    def transform_rendered(self, rendered: dict[str, list[str]]):
        check_is_fitted(self, "vectorizers_")
        blocks = []
        for view, docs in rendered.items():
            vec = self.vectorizers_[view]
            if vec is None:
                blocks.append(sp.csr_matrix((len(docs), 0), dtype=np.float32))
            else:
                blocks.append(_tfidf_transform(vec, docs))
        return sp.hstack(blocks, format="csr")

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_normalizer_cache", None)
        return state


def _tfidf_transform(vec: TfidfVectorizer, docs: list[str]):
    """``vec.transform(docs)`` without scikit-learn's per-call input validation.

    For one chat message the validation (which looks for pandas/polars inputs) costs more than the
    arithmetic. Same result: counts from the fitted vocabulary, sublinear tf, idf, L2 row norm
    (tests/test_classifier.py compares it with ``vec.transform``).
    """
    if vec.norm != "l2" or not vec.use_idf or vec.binary:
        return vec.transform(docs)
    counts = CountVectorizer.transform(vec, docs)
    data = counts.data.astype(np.float32)
    if vec.sublinear_tf:
        np.log(data, out=data)
        data += 1.0
    data *= vec.idf_[counts.indices]
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=counts.shape[0]))
    norms[norms == 0.0] = 1.0
    data /= norms[rows].astype(np.float32)
    return sp.csr_matrix((data, counts.indices, counts.indptr), shape=counts.shape)

