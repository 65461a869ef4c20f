"""A trained NLU model on disk, its metadata, and the registry of model versions.

A model is a folder::

    models/20261127-101500-3f2a9c1e/
        classifier.joblib    the fitted IntentClassifier
        metadata.json        versions, data hash, thresholds, metrics, trained_at

``models/CURRENT`` holds the name of the version in use; ``python -m bot models use VERSION``
rewrites it (rollback). Loading checks that the model was trained with the same scikit-learn and
underthesea versions as installed, and says what to do if not.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import platform
import re
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path

import joblib
import numpy as np
import sklearn

from .classifier import IntentClassifier
from .dialogue_act import is_dispute_statement
from .normalize import strip_accents

logger = logging.getLogger(__name__)

CLASSIFIER_FILE = "classifier.joblib"
METADATA_FILE = "metadata.json"
CURRENT_FILE = "CURRENT"
FORMAT_VERSION = 1
RANKING_LENGTH = 10
MAX_PARSE_CHARS = 5000


class ModelError(RuntimeError):
    """Base class for model loading problems; the message tells the maintainer what to do."""


class ModelNotFoundError(ModelError):
    pass


class ModelVersionError(ModelError):
    pass


def library_versions() -> dict:
    def version(name: str) -> str:
        try:
            return importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            return "unknown"

    return {
        "python": platform.python_version(),
        "scikit-learn": version("scikit-learn"),
        "underthesea": version("underthesea"),
        "numpy": version("numpy"),
    }


@dataclass
class ParseResult:
    text: str
    intent: str | None
    confidence: float
    ranking: list[tuple[str, float]]
    low_confidence: bool
    ambiguous: bool
    dispute_statement: bool = False  # see bot.nlu.dialogue_act

    def to_rasa(self) -> dict:
        """The Rasa ``/model/parse`` response shape (plus ``dispute_statement``, which Rasa lacks)."""
        return {
            "text": self.text,
            "intent": {"name": self.intent, "confidence": self.confidence},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in self.ranking],
            "entities": [],
            "dispute_statement": self.dispute_statement,
        }


class NLUModel:
    """A fitted classifier plus the thresholds chosen for it; ``parse`` is the public entry point."""

    def __init__(self, classifier: IntentClassifier, metadata: dict, path: Path | None = None):
        self.classifier = classifier
        self.metadata = metadata
        self.path = path
        thresholds = metadata.get("thresholds", {})
        self.threshold = float(thresholds.get("confidence", 0.0))
        self.margin = float(thresholds.get("margin", 0.0))
        self.clarify_floor = float(thresholds.get("clarify_floor", self.threshold))
        # Rasa-style `regex:` blocks named after an intent: a match on the normalised text without
        # diacritics decides the intent outright (used for explicit requests for a person).
        self.intent_patterns = [
            (name, re.compile(p)) for name, patterns in (metadata.get("intent_regexes") or {}).items() for p in patterns
        ]

    @property
    def version(self) -> str:
        # The folder name is the version the registry knows (a copied folder keeps its metadata).
        return self.path.name if self.path else self.metadata.get("version", "unsaved")

    @property
    def intents(self) -> list[str]:
        return [str(c) for c in self.classifier.classes_]

    def parse(self, text) -> ParseResult:
        return self.parse_many([text])[0]

    def parse_many(self, texts) -> list[ParseResult]:
        clean = [(t if isinstance(t, str) else "")[:MAX_PARSE_CHARS] for t in texts]
        # Inputs are our own sparse matrices: skip scikit-learn's per-call validation, which costs
        # more than the arithmetic for a single message.
        features = self.classifier.features_
        plains: list[str] = []
        rendered = features.render(clean, plain_out=plains)  # normalised once, for features and rules
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            matrix = features.transform_rendered(rendered)
            proba = self.classifier._proba_from_matrix(matrix)
        known = matrix.getnnz(axis=1)
        classes = self.classifier.classes_
        results = []
        for text, row, n_known, original, plain in zip(clean, proba, known, texts, plains):
            if not text.strip() or n_known == 0:
                # Nothing to classify (empty, emoji-only, punctuation): confidence 0.
                fallback = "out_of_scope" if "out_of_scope" in classes else None
                results.append(ParseResult(original if isinstance(original, str) else "", fallback, 0.0, [], True, False))
                continue
            forced = self._rule_intent_plain(plain)
            if forced is not None:
                results.append(ParseResult(original, forced, 1.0, [(forced, 1.0)], False, False))
                continue
            order = np.argsort(-row)[:RANKING_LENGTH]
            ranking = [(str(classes[i]), round(float(row[i]), 4)) for i in order]
            top1 = float(row[order[0]])
            top2 = float(row[order[1]]) if len(order) > 1 else 0.0
            results.append(
                ParseResult(
                    text=original,
                    intent=str(classes[order[0]]),
                    confidence=round(top1, 4),
                    ranking=ranking,
                    low_confidence=top1 < self.threshold,
                    ambiguous=(top1 - top2) < self.margin,
                    dispute_statement=is_dispute_statement(plain),
                )
            )
        return results


    def rule_intent(self, text: str) -> str | None:
        """The intent a `regex:` block of the training data decides for ``text``, or None."""
        return self._rule_intent_plain(self._plain(text))

    def _plain(self, text: str) -> str:
        """The normalised text without diacritics, as rules and dialogue-act checks see it."""
        return strip_accents(self.classifier.features_._normalizer()(text))

    def _rule_intent_plain(self, plain: str) -> str | None:
        for name, pattern in self.intent_patterns:
            if pattern.search(plain):
                return name
        return None


# --- saving and loading ---------------------------------------------------------------------------


def new_version_name(data_hash: str) -> str:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{data_hash[:8]}"


def save_model(classifier: IntentClassifier, metadata: dict, folder: str | Path) -> Path:
    """Write the model folder atomically (a temp folder renamed into place)."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        joblib.dump(classifier, tmp / CLASSIFIER_FILE, compress=3)
        meta = {"format_version": FORMAT_VERSION, "versions": library_versions(), **metadata}
        meta.setdefault("version", folder.name)
        meta.setdefault("trained_at", dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
        (tmp / METADATA_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


TRAIN_HINT = "python -m bot train"


def load_model(folder: str | Path) -> NLUModel:
    folder = Path(folder)
    meta_path = folder / METADATA_FILE
    clf_path = folder / CLASSIFIER_FILE
    if not meta_path.exists() or not clf_path.exists():
        raise ModelNotFoundError(
            f"Không tìm thấy mô hình NLU tại {folder}. Hãy huấn luyện mô hình bằng lệnh: {TRAIN_HINT}"
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelError(f"Tệp {meta_path} bị hỏng ({exc.msg}). Hãy huấn luyện lại: {TRAIN_HINT}") from None
    trained = meta.get("versions", {})
    installed = library_versions()
    for lib in ("scikit-learn", "underthesea"):
        if trained.get(lib) != installed[lib]:
            raise ModelVersionError(
                f"Mô hình {folder.name} được huấn luyện với {lib} {trained.get(lib, '?')}, "
                f"nhưng máy này cài {lib} {installed[lib]}. Hãy huấn luyện lại: {TRAIN_HINT}"
            )
    try:
        classifier = joblib.load(clf_path)
    except Exception as exc:  # noqa: BLE001 - a corrupted or foreign pickle can raise anything
        raise ModelError(f"Không đọc được {clf_path} ({type(exc).__name__}). Hãy huấn luyện lại: {TRAIN_HINT}") from None
    return NLUModel(classifier, meta, folder)


class ModelRegistry:
    """Versioned model folders under one directory, with a CURRENT pointer."""

    _VERSION_RE = re.compile(r"^[\w.-]+$")

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def versions(self) -> list[dict]:
        if not self.root.exists():
            return []
        out = []
        for folder in sorted(self.root.iterdir()):
            meta_path = folder / METADATA_FILE
            if folder.is_dir() and not folder.name.startswith(".") and meta_path.exists():
                try:
                    meta = json.loads(meta_path.read_text(encoding="utf-8"))
                except json.JSONDecodeError:
                    meta = {}
                out.append({"version": folder.name, "path": folder, "metadata": meta})
        return out

    def current_name(self) -> str | None:
        pointer = self.root / CURRENT_FILE
        if pointer.exists():
            name = pointer.read_text(encoding="utf-8").strip()
            return name or None
        return None

    def current_path(self) -> Path:
        name = self.current_name()
        if name is None:
            raise ModelNotFoundError(
                f"Chưa có mô hình NLU nào trong {self.root}. Hãy huấn luyện mô hình bằng lệnh: {TRAIN_HINT}"
            )
        return self.root / name

    def load_current(self) -> NLUModel:
        return load_model(self.current_path())

    def use(self, version: str) -> Path:
        if not self._VERSION_RE.match(version) or not (self.root / version / METADATA_FILE).exists():
            known = ", ".join(v["version"] for v in self.versions()) or "(chưa có)"
            raise ModelNotFoundError(f"Không có phiên bản mô hình '{version}'. Các phiên bản hiện có: {known}")
        load_model(self.root / version)  # refuse to switch to a model that cannot load
        pointer = self.root / CURRENT_FILE
        tmp = pointer.with_suffix(".tmp")
        tmp.write_text(version + "\n", encoding="utf-8")
        os.replace(tmp, pointer)
        return self.root / version
