"""``python -m bot export``: the FAQ edited in the browser, written back into ``faq/`` and ``nlu_data/``.

What is written is the content in effect today (Vietnam date); revisions scheduled for a later day
stay in the database and are listed in the result, so the files never answer ahead of time.

Only what changed is rewritten: an edited entry's block in its group's file (``faq/<group>.yml``),
an edited intent's block (``- intent: faq/<id>``) in the ``nlu_data`` file that holds it. Other
entries, the files' header and the comments between entries are kept byte for byte, so ``git diff``
shows the real changes. A new entry is appended to its group's file (a new file for a new group) and
its examples to ``nlu_data/faq_<group>.yml``. Each rewritten file is read back and compared with the
database before it is written.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import yaml_lines
from .config import Settings
from .faq_edits import FaqFiles, effective_revisions, entry_from_content
from .knowledge import KnowledgeBaseError, load_faq_file
from .nlu.training_data import load_training_file
from .storage.models import FaqRevision


class ExportError(RuntimeError):
    """The export cannot be written faithfully (Vietnamese message)."""


@dataclass
class ExportResult:
    changed: list[str] = field(default_factory=list)  # entry ids written
    created: list[str] = field(default_factory=list)  # entries new to the files
    files: list[str] = field(default_factory=list)  # files written
    scheduled: list[tuple[str, int, dt.date]] = field(default_factory=list)  # (entry, version, date) not exported yet


# --- YAML in the files' own style -----------------------------------------------------------------


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _plain_or_quoted(text: str) -> str:
    """A flow-sequence item: plain when YAML reads it back unchanged, else double-quoted."""
    if re.fullmatch(r"[^\s\[\]{},#&*!|>'\"%@`:?-][^\[\]{},#:]*", text) and not text.endswith(" "):
        try:
            if yaml.safe_load(f"[{text}]") == [text]:
                return text
        except yaml.YAMLError:
            pass
    return _quoted(text)


def _flow(items: list[str]) -> str:
    return "[" + ", ".join(_plain_or_quoted(i) for i in items) + "]"


def _block(text: str, indent: str) -> list[str]:
    """A literal block (``|-``) when it reads back unchanged, else a quoted string on one line."""
    lines = text.split("\n")
    if text and not text[0].isspace() and all(line == line.rstrip() for line in lines) and "\t" not in text:
        return ["|-", *[f"{indent}{line}" if line else "" for line in lines]]
    return [_quoted(text)]


def entry_yaml(entry_id: str, content: dict) -> str:
    """One entry of ``entries:`` as the files write it (field order of faq/*.yml)."""
    out = [f"  - id: {entry_id}", f"    topic: {content['topic']}", f"    title: {_quoted(content['title'])}"]
    if content.get("button"):
        out.append(f"    button: {_quoted(content['button'])}")
    answer = _block(content["answer"], "      ")
    out.append(f"    answer: {answer[0]}")
    out.extend(answer[1:])
    out.append("    legal_basis:" if content.get("legal_basis") else "    legal_basis: []")
    for b in content.get("legal_basis") or []:
        out.append(f"      - document: {_quoted(b['document'])}")
        out.append(f"        number: {_quoted(b.get('number') or '')}")
        if b.get("article"):
            out.append(f"        article: {_quoted(b['article'])}")
    if content.get("as_of"):
        out.append(f"    as_of: {content['as_of']}")
    if content.get("effective_from"):
        out.append(f"    effective_from: {content['effective_from']}")
    if content.get("related"):
        out.append(f"    related: {_flow(content['related'])}")
    out.append(f"    escalate: {content.get('escalate') or 'never'}")
    if content.get("tags"):
        out.append(f"    tags: {_flow(content['tags'])}")
    if content.get("calculator"):
        out.append(f"    calculator: {content['calculator']}")
    return "\n".join(out) + "\n"


def intent_yaml(intent: str, examples: list[str]) -> str:
    return f"- intent: {intent}\n  examples: |\n" + "".join(f"    - {e}\n" for e in examples)


# --- replacing blocks in a file's text -------------------------------------------------------------


def _blocks(lines: list[str], starts: list[int]) -> list[tuple[int, int]]:
    """(first, last+1) line indexes of each item starting at the 1-based ``starts``; blank and comment
    lines before the next item belong to it, not to the one before."""
    spans = []
    ends = [s - 1 for s in starts[1:]] + [len(lines)]
    for start, end in zip(starts, ends, strict=True):
        first, last = start - 1, end
        while last > first + 1 and (not lines[last - 1].strip() or lines[last - 1].lstrip().startswith("#")):
            last -= 1
        spans.append((first, last))
    return spans


def _rewrite(text: str, starts: dict[str, int], replace: dict[str, str | None], append: list[str]) -> str:
    """``text`` with the items named in ``replace`` (key -> 1-based start line) swapped for new text
    (None: removed), and ``append`` added at the end."""
    lines = text.splitlines(keepends=True)
    order = sorted(starts.items(), key=lambda kv: kv[1])
    spans = dict(zip([k for k, _ in order], _blocks(lines, [v for _, v in order]), strict=True))
    for key in sorted(replace, key=lambda k: spans[k][0], reverse=True):
        first, last = spans[key]
        new = replace[key]
        lines[first:last] = [new] if new is not None else []
        if new is None and first < len(lines) and not lines[first].strip() and (first == 0 or not lines[first - 1].strip()):
            del lines[first]  # no double blank line where an item left
    body = "".join(lines)
    for item in append:
        body = body.rstrip("\n") + "\n\n" + item
    return body


def _faq_starts(text: str) -> dict[str, int]:
    doc = yaml_lines.load(text) or {}
    return {str(raw["id"]): raw["__line__"] for raw in doc.get("entries") or [] if isinstance(raw, dict)}


def _nlu_starts(text: str) -> dict[str, int]:
    doc = yaml_lines.load(text) or {}
    return {str(item["intent"]): item["__line__"] for item in doc.get("nlu") or [] if isinstance(item, dict) and "intent" in item}


# --- the export --------------------------------------------------------------------------------------


def export(session: Session, settings: Settings, today: dt.date, progress=None) -> ExportResult:
    """Write the FAQ in effect on ``today`` into ``FAQ_DIR`` and its example phrasings into ``NLU_DATA_DIR``."""
    say = progress or (lambda message: None)
    files = FaqFiles.load(settings)
    faq_dir, nlu_dir = Path(settings["FAQ_DIR"]), Path(settings["NLU_DATA_DIR"])
    result = ExportResult()
    faq_edits: dict[Path, tuple[dict, list]] = {}  # file -> ({id: text | None}, [appended texts])
    nlu_edits: dict[Path, tuple[dict, list]] = {}
    expected: dict[str, dict] = {}
    for entry_id, rev in sorted(effective_revisions(session, today).items()):
        content, base = rev.content, files.content(entry_id)
        if content == base:
            continue
        expected[entry_id] = content
        result.changed.append(entry_id)
        fields = {k: v for k, v in content.items() if k != "examples"}
        if base is None or fields != {k: v for k, v in base.items() if k != "examples"}:
            target = faq_dir / f"{content['group']}.yml"
            if base is None:
                result.created.append(entry_id)
            old = Path(files.kb.get(entry_id).source) if base is not None else None
            if old is not None and old.resolve() == target.resolve():
                faq_edits.setdefault(target, ({}, []))[0][entry_id] = entry_yaml(entry_id, content)
            else:
                if old is not None:
                    faq_edits.setdefault(old, ({}, []))[0][entry_id] = None
                faq_edits.setdefault(target, ({}, []))[1].append(entry_yaml(entry_id, content))
        intent = f"faq/{entry_id}"
        if base is None or content.get("examples") != base.get("examples"):
            source = files.example_files.get(intent)
            if source is not None:
                nlu_edits.setdefault(Path(source), ({}, []))[0][intent] = intent_yaml(intent, content["examples"])
            else:
                nlu_edits.setdefault(nlu_dir / f"faq_{content['group']}.yml", ({}, []))[1].append(intent_yaml(intent, content["examples"]))
    faq_writes: dict[Path, str] = {}
    nlu_writes: dict[Path, str] = {}
    for path, (replace, append) in faq_edits.items():
        if path.exists():
            text = _rewrite(path.read_text(encoding="utf-8"), _faq_starts(path.read_text(encoding="utf-8")), replace, append)
        else:
            group = path.stem
            text = f"group: {group}\ntitle: {_quoted(group)}\nentries:\n" + "\n".join(append)
        faq_writes[path] = text
    for path, (replace, append) in nlu_edits.items():
        if path.exists():
            text = _rewrite(path.read_text(encoding="utf-8"), _nlu_starts(path.read_text(encoding="utf-8")), replace, append)
        else:
            text = 'version: "3.1"\nnlu:\n' + "".join(append)
        nlu_writes[path] = text
    _check(faq_writes, nlu_writes, expected)
    for path, text in sorted({**faq_writes, **nlu_writes}.items()):
        path.write_text(text, encoding="utf-8")
        result.files.append(str(path))
        say(f"Đã ghi {path}")
    later = session.scalars(select(FaqRevision).where(FaqRevision.takes_effect_on > today).order_by(FaqRevision.takes_effect_on))
    result.scheduled = [(r.entry_id, r.version, r.takes_effect_on) for r in later]
    return result


def _check(faq_writes: dict[Path, str], nlu_writes: dict[Path, str], expected: dict[str, dict]) -> None:
    """Read every new file text back: each exported entry and intent must be what the database holds."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for i, (path, text) in enumerate([*faq_writes.items(), *nlu_writes.items()]):
            probe = Path(tmp) / f"{i}.yml"
            probe.write_text(text, encoding="utf-8")
            try:
                if path in faq_writes:
                    for entry in load_faq_file(probe):
                        if entry.id in expected and _entry_fields(entry) != _entry_fields(entry_from_content(entry.id, expected[entry.id])):
                            raise ExportError(f"{path}: mục '{entry.id}' đọc lại không khớp nội dung trong cơ sở dữ liệu")
                else:
                    data = load_training_file(probe)
                    for entry_id, content in expected.items():
                        got = [e.text for e in data.examples if e.intent == f"faq/{entry_id}"]
                        if got and got != content["examples"]:
                            raise ExportError(f"{path}: câu mẫu của 'faq/{entry_id}' đọc lại không khớp cơ sở dữ liệu")
            except (KnowledgeBaseError, ValueError) as exc:  # TrainingDataError is a ValueError
                raise ExportError(f"{path}: tệp xuất ra không đọc lại được ({exc})") from None


def _entry_fields(entry) -> tuple:
    return (entry.id, entry.topic, entry.title, entry.answer, entry.legal_basis, entry.as_of, entry.escalate, entry.button,
            entry.effective_from, entry.related, entry.tags, entry.calculator)
