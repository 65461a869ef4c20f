"""Reader for Rasa 3.x NLU training data (YAML).

Supported top-level keys: ``version`` and ``nlu``. Inside ``nlu`` each item is one of:

- ``intent`` + ``examples`` (a block of ``- example`` lines); retrieval intents such as
  ``faq/annual_leave`` are ordinary intent names here. Entity annotations ``[text](entity)``
  and ``[text]{"entity": ..., "role": ..., "value": ...}`` are reduced to their text for the
  intent classifier and kept, with offsets in that text, as ``Example.entities`` (Rasa's shape).
- ``synonym`` + ``examples``, ``lookup`` + ``examples``, ``regex`` + ``examples``: accepted and kept.

Other top-level keys that Rasa files may carry (``responses``, ``rules``, ``stories``) are ignored
with no error, so a whole Rasa project file can be read. Any problem raises
``TrainingDataError`` naming the file and line.

Which files of a folder are training data follows Rasa's rule, not their names: a YAML file is NLU
training data when its top level has an ``nlu:`` key. Bot texts (``responses:``) and the
abbreviation table (``abbreviations:``) beside the data are therefore left out, while a training
file may have any name. Files that hold ``nlu:`` data but must never be trained on (the calibration
set) are excluded by path.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import yaml_lines

SUPPORTED_MAJOR_VERSION = "3"
_ITEM_KINDS = ("intent", "synonym", "lookup", "regex")
_IGNORED_TOP_LEVEL = {"responses", "rules", "stories", "entities", "slots", "forms", "actions", "session_config"}
_ENTITY_RE = re.compile(r"\[([^\]]+)\](?:\(([^)]*)\)|(\{[^}]*\}))")


class TrainingDataError(ValueError):
    """Malformed training data; the message names the file and line."""


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    source: str
    line: int
    entities: tuple[dict, ...] = ()


@dataclass
class TrainingData:
    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, list[str]] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)
    regexes: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [e.text for e in self.examples]

    @property
    def intents(self) -> list[str]:
        return [e.intent for e in self.examples]

    def intent_counts(self) -> Counter:
        return Counter(self.intents)

    def merge(self, other: TrainingData) -> TrainingData:
        merged = TrainingData(
            examples=self.examples + other.examples,
            synonyms={**self.synonyms},
            lookups={**self.lookups},
            regexes={**self.regexes},
            files=self.files + other.files,
        )
        for target, source in ((merged.synonyms, other.synonyms), (merged.lookups, other.lookups), (merged.regexes, other.regexes)):
            for key, values in source.items():
                target.setdefault(key, []).extend(values)
        return merged


def parse_annotations(raw: str) -> tuple[str, list[dict]]:
    """``"lương [8 triệu](salary)"`` -> ("lương 8 triệu", [{"entity": "salary", "start": 6, "end": 13, "value": "8 triệu"}]).

    The JSON form may carry ``role`` and ``value``; a malformed one raises ``ValueError``."""
    raw = unicodedata.normalize("NFC", raw).strip()
    out, entities, pos = [], [], 0
    for m in _ENTITY_RE.finditer(raw):
        out.append(raw[pos: m.start()])
        start = sum(len(p) for p in out)
        words = m.group(1)
        out.append(words)
        entity = {"entity": (m.group(2) or "").strip(), "start": start, "end": start + len(words), "value": words}
        if m.group(3):
            try:
                spec = json.loads(m.group(3))
            except RecursionError:
                raise ValueError("annotation nested too deeply") from None
            if not isinstance(spec, dict) or not spec.get("entity"):
                raise ValueError("annotation without 'entity'")
            entity.update({k: spec[k] for k in ("entity", "role", "group", "value") if k in spec})
        if not entity["entity"]:
            raise ValueError("annotation without an entity name")
        entities.append(entity)
        pos = m.end()
    out.append(raw[pos:])
    text = "".join(out)
    stripped = text.strip()
    shift = len(text) - len(text.lstrip())
    for e in entities:
        e["start"] -= shift
        e["end"] -= shift
    return stripped, entities


def _clean_example(raw: str) -> str:
    text = _ENTITY_RE.sub(r"\1", raw)
    return unicodedata.normalize("NFC", text).strip()


def _parse_examples(block, source: str, line: int, kind: str, name: str) -> list[tuple[int, str, list[dict]]]:
    """Parse an ``examples`` block ("- a\\n- b") into (line, text) pairs; ``line`` is where it starts."""
    if isinstance(block, list):  # tolerate a YAML list of strings
        lines = [(line + i, f"- {item}") for i, item in enumerate(block)]
    elif isinstance(block, str):
        lines = [(line + i, text) for i, text in enumerate(block.splitlines())]
    else:
        raise TrainingDataError(f"{source}:{line}: {kind} '{name}': 'examples' phải là một khối các dòng '- ví dụ'")
    result = []
    for lineno, text in lines:
        stripped = text.strip()
        if not stripped:
            continue
        if not stripped.startswith("-"):
            raise TrainingDataError(
                f"{source}:{lineno}: {kind} '{name}': mỗi ví dụ phải bắt đầu bằng '- ' (gặp: {stripped[:40]!r})"
            )
        # Entity annotations exist only in intent examples; regexes keep their brackets.
        entities: list[dict] = []
        if kind == "intent":
            try:
                example, entities = parse_annotations(stripped[1:])
            except ValueError as exc:
                raise TrainingDataError(f"{source}:{lineno}: {kind} '{name}': chú thích thực thể không hợp lệ ({exc})") from None
        else:
            example = unicodedata.normalize("NFC", stripped[1:].strip())
        if example:
            result.append((lineno, example, entities))
    return result


def _read_document(path: Path):
    """The YAML document of ``path`` (mappings carry line numbers); ``TrainingDataError`` if unreadable."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TrainingDataError(f"{source}: không tìm thấy tệp") from None
    except UnicodeDecodeError as exc:
        raise TrainingDataError(f"{source}: tệp không phải UTF-8 ({exc.reason})") from None
    try:
        doc = yaml_lines.load(text)
    except yaml.YAMLError as exc:
        where = yaml_lines.error_location(exc, source)
        problem = getattr(exc, "problem", None) or str(exc)
        raise TrainingDataError(f"{where}: YAML không hợp lệ: {problem}") from None
    except ValueError as exc:  # a scalar PyYAML recognises but cannot build: "2020-13-45", an integer of 5,000 digits
        raise TrainingDataError(f"{source}: YAML không hợp lệ: giá trị không đọc được ({exc})") from None
    except RecursionError:
        raise TrainingDataError(f"{source}: YAML không hợp lệ: các khối lồng nhau quá sâu") from None
    return doc


def load_training_file(path: str | Path) -> TrainingData:
    """Read one Rasa YAML file. Raises ``TrainingDataError`` with file:line on any problem."""
    path = Path(path)
    return _training_data(_read_document(path), str(path))


def _training_data(doc, source: str) -> TrainingData:
    data = TrainingData(files=[source])
    if doc is None:
        return data
    if not isinstance(doc, dict):
        raise TrainingDataError(f"{source}:1: tệp dữ liệu phải là một bảng có khóa 'version' và 'nlu'")
    version = doc.get("version")
    if version is not None and not str(version).startswith(SUPPORTED_MAJOR_VERSION):
        raise TrainingDataError(f"{source}:1: version {version!r} không được hỗ trợ (cần định dạng Rasa 3.x, ví dụ \"3.1\")")
    unknown = set(doc) - {"version", "nlu", *yaml_lines.META_KEYS} - _IGNORED_TOP_LEVEL
    if unknown:
        raise TrainingDataError(f"{source}:1: khóa không hợp lệ ở cấp cao nhất: {', '.join(sorted(map(str, unknown)))}")
    items = doc.get("nlu") or []
    if not isinstance(items, list):
        raise TrainingDataError(f"{source}:{doc['__line__']}: 'nlu' phải là một danh sách")
    for item in items:
        if not isinstance(item, dict):
            raise TrainingDataError(f"{source}: mỗi mục trong 'nlu' phải là một bảng (gặp: {str(item)[:40]!r})")
        line = item["__line__"]
        kinds = [k for k in _ITEM_KINDS if k in item]
        if len(kinds) != 1:
            raise TrainingDataError(
                f"{source}:{line}: mỗi mục trong 'nlu' cần đúng một trong các khóa {', '.join(_ITEM_KINDS)}"
            )
        kind = kinds[0]
        name = item[kind]
        if not isinstance(name, str) or not name.strip():
            raise TrainingDataError(f"{source}:{line}: tên {kind} phải là chuỗi không rỗng")
        name = name.strip()
        if "examples" not in item:
            raise TrainingDataError(f"{source}:{line}: {kind} '{name}' thiếu khóa 'examples'")
        examples_line = item["__value_lines__"].get("examples", line + 1)
        examples = _parse_examples(item["examples"], source, examples_line, kind, name)
        if kind == "intent":
            if not examples:
                raise TrainingDataError(f"{source}:{line}: intent '{name}' không có ví dụ nào")
            data.examples.extend(Example(text, name, source, lineno, tuple(ents)) for lineno, text, ents in examples)
        else:
            target = {"synonym": data.synonyms, "lookup": data.lookups, "regex": data.regexes}[kind]
            target.setdefault(name, []).extend(text for _, text, _ in examples)
    return data


def discover_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories to the ``*.yml``/``*.yaml`` files inside them (sorted)."""
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.suffix in (".yml", ".yaml") and f.is_file()))
        else:
            files.append(p)
    return files


def load_training_data(paths: Iterable[str | Path], exclude: Iterable[str | Path] = ()) -> TrainingData:
    """Read and merge the training files under ``paths``: the YAML files with a top-level ``nlu:`` key,
    except those in ``exclude`` (compared as resolved paths)."""
    excluded = {Path(p).resolve() for p in exclude}
    data = TrainingData()
    for f in discover_files(paths):
        if f.resolve() in excluded:
            continue
        doc = _read_document(f)
        if isinstance(doc, dict) and "nlu" in doc:
            data = data.merge(_training_data(doc, str(f)))
    return data
