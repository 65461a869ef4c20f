"""How a model is built: the project's data, tuning and fitting, calibration, metadata, save, activate.

``python -m bot train``, the benchmarks and the tests build models through this module. It never
prints: progress messages (in Vietnamese, for the maintainer) go to the ``progress`` callback.

The project's training data is every YAML file of ``NLU_DATA_DIR`` with a top-level ``nlu:`` key
(Rasa's rule, see :mod:`bot.nlu.training_data`) except ``CALIBRATION_FILE``, plus each FAQ entry's
title as an example. Hyper-parameters and thresholds are chosen in :mod:`bot.nlu.tuning`; the answer
threshold is then chosen on the calibration file (:mod:`bot.nlu.calibration`).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .knowledge import KnowledgeBase
from .nlu.calibration import TOPIC_PREFIX, calibrate_threshold
from .nlu.classifier import IntentClassifier
from .nlu.model import ModelRegistry, NLUModel, new_version_name, save_model
from .nlu.normalize import load_abbreviations
from .nlu.training_data import Example, TrainingData, TrainingDataError, load_training_data, load_training_file
from .nlu.tuning import data_hash, train_classifier

Progress = Callable[[str], None]


class TrainingError(ValueError):
    """The data cannot make a model; the message says why (in Vietnamese, for the maintainer)."""


@dataclass
class TrainingResult:
    folder: Path  # where the model was saved
    metadata: dict  # as written to its metadata.json (without the library versions)
    activated: bool  # made the current model of MODELS_DIR


def _silent(message: str) -> None:
    pass


# --- data ----------------------------------------------------------------------------------------


def abbreviations(settings: Settings) -> dict:
    """The abbreviation table of ``NLU_DATA_DIR`` (empty when there is none)."""
    path = Path(settings["NLU_DATA_DIR"]) / "abbreviations.yml"
    return load_abbreviations(path) if path.exists() else {}


def base_classifier(settings: Settings) -> IntentClassifier:
    """The untrained classifier, with the project's abbreviation table."""
    return IntentClassifier(abbreviations=abbreviations(settings))


def load_nlu_files(settings: Settings, paths: Iterable[str | Path]) -> TrainingData:
    """The training files among ``paths`` (files or folders); never the calibration file."""
    return load_training_data(paths, exclude=[settings["CALIBRATION_FILE"]])


def project_nlu_data(settings: Settings) -> TrainingData:
    """The training files of ``NLU_DATA_DIR``.

    Topic labels (``topic/<id>``) belong to the calibration and test sets only. Finding one here means
    such a set sits in the data folder under another path than ``CALIBRATION_FILE``: an error, not a
    silent training on held-out messages.
    """
    data = load_nlu_files(settings, [settings["NLU_DATA_DIR"]])
    for ex in data.examples:
        if ex.intent.startswith(TOPIC_PREFIX):
            raise TrainingDataError(
                f"{ex.source}:{ex.line}: nhãn chủ đề '{ex.intent}' chỉ dùng cho tệp hiệu chỉnh hoặc tệp kiểm tra, "
                f"không phải dữ liệu huấn luyện (tệp hiệu chỉnh đang đặt: CALIBRATION_FILE={settings['CALIBRATION_FILE']})"
            )
    return data


def load_project_data(settings: Settings) -> tuple[TrainingData, KnowledgeBase]:
    """Training data of the project: the training files of ``NLU_DATA_DIR`` plus each FAQ entry's title."""
    data = project_nlu_data(settings)
    kb = KnowledgeBase.load(settings["FAQ_DIR"])
    seen = {(e.intent, e.text.lower()) for e in data.examples}
    for entry in kb.entries:
        if (entry.intent, entry.title.lower()) not in seen:
            data.examples.append(Example(entry.title, entry.intent, entry.source, entry.line))
    return data, kb


def load_data(settings: Settings, paths: Iterable[str | Path] = ()) -> TrainingData:
    """The training data of ``paths`` (files or folders), or the project's when none is given."""
    return load_nlu_files(settings, paths) if paths else load_project_data(settings)[0]


def regex_errors(regexes: dict[str, list[str]]) -> list[str]:
    """One message for each pattern of the ``regex:`` blocks that does not compile."""
    errors = []
    for name, patterns in regexes.items():
        for p in patterns:
            try:
                re.compile(p)
            except re.error as exc:
                errors.append(f"regex '{name}': mẫu {p!r} không hợp lệ ({exc})")
    return errors


def intent_regexes(data: TrainingData) -> dict[str, list[str]]:
    """The ``regex:`` blocks named after a trained intent; an invalid pattern is a ``TrainingError``."""
    counts = data.intent_counts()
    out = {name: list(patterns) for name, patterns in data.regexes.items() if name in counts}
    errors = regex_errors(out)
    if errors:
        raise TrainingError(errors[0])
    return out


# --- training ------------------------------------------------------------------------------------


def train_project(
    settings: Settings,
    folds: int = 5,
    calibration: bool = True,
    activate: bool = True,
    out: str | Path | None = None,
    progress: Progress | None = None,
) -> TrainingResult:
    """Train on the project's data, choose the answer threshold on ``CALIBRATION_FILE`` (unless
    ``calibration`` is false) and save a new version in ``MODELS_DIR`` made current (unless
    ``activate`` is false), or save into ``out`` (never made current)."""
    data, kb = load_project_data(settings)
    return train_data(settings, data, kb, folds, calibration, activate, out, progress)


def train_data(
    settings: Settings,
    data: TrainingData,
    kb: KnowledgeBase,
    folds: int = 5,
    calibration: bool = True,
    activate: bool = True,
    out: str | Path | None = None,
    progress: Progress | None = None,
) -> TrainingResult:
    """``train_project`` on data assembled by the caller (the learning loop adds labelled questions
    to the project's data, see :mod:`bot.learning.retrain`): tune, fit, calibrate, save, activate."""
    say = progress or _silent
    started = time.perf_counter()
    model, metadata, folder = _fit(settings, data, folds, out, started, say)
    if calibration:
        calibrate(settings, model, metadata, kb, say)
    save_model(model, metadata, folder)
    activated = activate and not out
    if activated:
        ModelRegistry(settings["MODELS_DIR"]).use(folder.name)
    return TrainingResult(folder, metadata, activated)


def train_nlu(
    settings: Settings,
    paths: Iterable[str | Path],
    folds: int = 5,
    out: str | Path | None = None,
    progress: Progress | None = None,
) -> TrainingResult:
    """Train on the Rasa NLU files ``paths`` only (any set of intents), with no calibration; save into
    ``out`` or a new version folder of ``MODELS_DIR``, never made current."""
    say = progress or _silent
    started = time.perf_counter()
    data = load_nlu_files(settings, paths)
    model, metadata, folder = _fit(settings, data, folds, out, started, say)
    save_model(model, metadata, folder)
    return TrainingResult(folder, metadata, False)


def _fit(settings: Settings, data: TrainingData, folds: int, out, started: float, say: Progress):
    """Tune and fit on ``data``; returns the classifier, its metadata and the folder to save it in."""
    base = base_classifier(settings)
    counts = data.intent_counts()
    if len(counts) < 2:
        raise TrainingError("Cần ít nhất 2 ý định có ví dụ để huấn luyện.")
    say(f"Đọc {len(data.examples)} câu ví dụ, {len(counts)} ý định từ {len(data.files)} tệp.")
    say("Tách từ tiếng Việt và tạo đặc trưng…")
    model, report = train_classifier(data.texts, data.intents, base=base, n_folds=folds, progress=say)
    digest = data_hash(data.texts, data.intents)
    folder = Path(out) if out else ModelRegistry(settings["MODELS_DIR"]).root / new_version_name(digest)
    metadata = {
        "version": folder.name,
        "data_hash": digest,
        "data_files": data.files,
        "n_examples": report.n_examples,
        "intents": {k: counts[k] for k in sorted(counts)},
        "params": report.params,
        "intent_regexes": intent_regexes(data),
        "thresholds": {"confidence": report.threshold, "margin": report.margin, "clarify_floor": report.clarify_floor,
                       "confidence_scale": report.confidence_scale},
        "metrics": {"cv_accuracy": report.cv_accuracy, "cv_folds": report.cv_folds, "c_scores": report.c_scores,
                    "policy_on_held_out": report.policy_scores},
        "train_seconds": round(time.perf_counter() - started, 2),
        "trained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    return model, metadata, folder


def calibrate(settings: Settings, model: IntentClassifier, metadata: dict, kb: KnowledgeBase,
              progress: Progress | None = None) -> None:
    """Choose the answer threshold on ``CALIBRATION_FILE`` and record it in ``metadata`` (the
    cross-validation threshold is kept as ``confidence_cv``). Without the file, or with too few topic
    messages in it, the thresholds stay as they are."""
    say = progress or _silent
    path = Path(settings["CALIBRATION_FILE"])
    if not path.exists():
        say(f"Không có tệp hiệu chỉnh {path}: giữ ngưỡng từ kiểm định chéo.")
        return
    calib = load_training_file(path)
    thresholds = metadata["thresholds"]
    nlu = NLUModel(model, metadata)
    result = calibrate_threshold(nlu.parse_many, kb.topic_of, calib.examples, margin=thresholds["margin"])
    if result is None:
        say(f"Tệp hiệu chỉnh {path.name} có quá ít câu theo chủ đề: giữ ngưỡng từ kiểm định chéo.")
        return
    thresholds["confidence_cv"] = thresholds["confidence"]
    thresholds["confidence"] = result.threshold
    thresholds["clarify_floor"] = min(thresholds["clarify_floor"], result.threshold)
    metadata["metrics"]["calibration"] = {"file": path.name, **result.as_metadata()}
    say(f"Chọn ngưỡng trả lời {result.threshold} trên {result.n_messages} câu hiệu chỉnh viết độc lập "
        f"(có cả bản bỏ dấu): trả lời đúng chủ đề {result.right}/{result.n_topic}, sai {result.wrong}, "
        f"ngoài phạm vi bị trả lời {result.oos_answered}/{result.n_oos}. "
        f"(Ngưỡng theo kiểm định chéo là {thresholds['confidence_cv']}.)")
