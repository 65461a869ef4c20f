"""Checks of the project's data before training (``python -m bot validate``).

Errors make ``validate`` fail; warnings are printed only. Checked: the abbreviation table, the bot
texts (responses.yml), the training files, the FAQ (its own checks plus the match between FAQ entries
and training intents), examples per intent, required intents, examples that appear under two intents
(also after normalisation, as a warning), the ``regex:`` blocks and the calibration file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .config import Settings
from .knowledge import KnowledgeBase, KnowledgeBaseError
from .nlu.calibration import TOPIC_PREFIX
from .nlu.normalize import AbbreviationTableError, Normalizer, load_abbreviations, strip_accents
from .nlu.training_data import TrainingData, TrainingDataError, load_training_file
from .responses import Responses
from .training import project_nlu_data, regex_errors

REQUIRED_INTENTS = ("greet", "request_human", "complaint", "out_of_scope")
MIN_EXAMPLES = 30


@dataclass
class Validation:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    n_examples: int = 0
    n_intents: int = 0
    n_faq_entries: int = 0


def validate_project(settings: Settings, min_examples: int = MIN_EXAMPLES) -> Validation:
    """Check the data under ``NLU_DATA_DIR``, ``FAQ_DIR`` and ``CALIBRATION_FILE``."""
    result = Validation()
    errors, warnings = result.errors, result.warnings
    nlu_dir = Path(settings["NLU_DATA_DIR"])
    abbreviations: dict = {}
    try:
        abbreviations = load_abbreviations(nlu_dir / "abbreviations.yml")
    except (AbbreviationTableError, FileNotFoundError) as exc:
        errors.append(str(exc))
    try:
        Responses.load(nlu_dir / "responses.yml")
    except KnowledgeBaseError as exc:
        errors.append(str(exc))
    data = kb = None
    try:
        data = project_nlu_data(settings)
    except TrainingDataError as exc:
        errors.append(str(exc))
    try:
        kb = KnowledgeBase.load(settings["FAQ_DIR"])
        errors.extend(kb.validate())
    except KnowledgeBaseError as exc:
        errors.append(str(exc))
    if kb is not None:
        result.n_faq_entries = len(kb)
    if data is None:
        return result
    counts = data.intent_counts()
    result.n_examples, result.n_intents = len(data.examples), len(counts)
    for intent, n in sorted(counts.items()):
        if n < min_examples:
            errors.append(_too_few(intent, n, min_examples))
    for intent in REQUIRED_INTENTS:
        if intent not in counts:
            errors.append(f"thiếu ý định bắt buộc '{intent}'")
    normalize = Normalizer(abbreviations)
    _check_duplicates(data, normalize, errors, warnings)
    errors.extend(regex_errors(data.regexes))
    if kb is not None:
        _check_faq_coverage(counts, kb, errors)
    _check_calibration(settings, data, kb, normalize, errors, warnings)
    return result


def _too_few(intent: str, n: int, min_examples: int) -> str:
    return f"ý định '{intent}' chỉ có {n} câu ví dụ (cần ít nhất {min_examples})"


def example_key(text: str) -> str:
    """How two examples are compared for 'the same example under two intents'."""
    return " ".join(text.lower().split())


def example_errors(intent: str, texts: list[str], taken: dict[str, str], min_examples: int = MIN_EXAMPLES) -> list[str]:
    """The rules ``validate`` applies to one intent's examples, for an intent edited on its own (the
    browser editor): enough examples, and none that another intent has (``taken``: ``example_key`` ->
    intent, for every other intent's examples)."""
    errors = [_too_few(intent, len(texts), min_examples)] if len(texts) < min_examples else []
    for text in texts:
        other = taken.get(example_key(text))
        if other is not None and other != intent:
            errors.append(f"câu '{text}' có trong cả '{other}' và '{intent}'")
    return errors


def _check_duplicates(data: TrainingData, normalize: Normalizer, errors: list, warnings: list) -> None:
    """The same example under two intents: an error as written, a warning once normalised."""
    first_seen: dict[str, object] = {}
    norm_seen: dict[str, object] = {}
    for ex in data.examples:
        key = example_key(ex.text)
        other = first_seen.get(key)
        if other is not None and other.intent != ex.intent:
            errors.append(f"{ex.source}:{ex.line}: câu '{ex.text}' có trong cả '{other.intent}' ({other.source}:{other.line}) và '{ex.intent}'")
        first_seen.setdefault(key, ex)
        nkey = normalize(ex.text)
        other = norm_seen.get(nkey)
        if other is not None and other.intent != ex.intent and key != example_key(other.text):
            warnings.append(f"{ex.source}:{ex.line}: sau chuẩn hóa, '{ex.text}' ({ex.intent}) trùng '{other.text}' ({other.intent})")
        norm_seen.setdefault(nkey, ex)


def _check_faq_coverage(counts, kb: KnowledgeBase, errors: list) -> None:
    """Every FAQ intent of the training data has an entry, and every entry has training data."""
    faq_intents = {i for i in counts if i.startswith("faq/")}
    entries = {e.intent for e in kb.entries}
    for intent in sorted(faq_intents - entries):
        errors.append(f"ý định '{intent}' có dữ liệu huấn luyện nhưng không có mục FAQ '{intent[4:]}' trong faq/")
    for intent in sorted(entries - faq_intents):
        errors.append(f"mục FAQ '{intent[4:]}' chưa có dữ liệu huấn luyện (ý định '{intent}')")


def _check_calibration(settings: Settings, data: TrainingData, kb: KnowledgeBase | None, normalize: Normalizer,
                       errors: list, warnings: list) -> None:
    """The calibration file: known labels, and no message that is also a training example."""
    path = Path(settings["CALIBRATION_FILE"])
    if not path.exists():
        warnings.append(f"không có tệp hiệu chỉnh {path}: ngưỡng trả lời sẽ lấy từ kiểm định chéo")
        return
    try:
        calib = load_training_file(path)
    except TrainingDataError as exc:
        errors.append(str(exc))
        return
    counts = data.intent_counts()
    topics = {e.topic for e in kb.entries} if kb is not None else set()
    # Compared without diacritics: training features and calibration both see the stripped form too.
    trained = {strip_accents(normalize(ex.text)) for ex in data.examples}
    for ex in calib.examples:
        label = ex.intent
        if label.startswith(TOPIC_PREFIX):
            if kb is not None and label[len(TOPIC_PREFIX):] not in topics:
                errors.append(f"{ex.source}:{ex.line}: chủ đề '{label}' không có mục FAQ nào")
        elif label not in counts:
            errors.append(f"{ex.source}:{ex.line}: nhãn '{label}' không phải chủ đề (topic/…) hay ý định đã biết")
        if strip_accents(normalize(ex.text)) in trained:
            warnings.append(f"{ex.source}:{ex.line}: câu hiệu chỉnh '{ex.text}' cũng là câu huấn luyện; nên xóa khỏi một trong hai tập")
