"""Write a complete, trainable Rasa 3.6 project from ``nlu_data/`` and ``faq/``.

``python -m bot export-rasa OUT_DIR`` calls :func:`export_project`. The training data is exactly what
``python -m bot train`` fits on (:func:`bot.training.load_project_data`: the training files of
``NLU_DATA_DIR`` without the calibration file, plus each FAQ entry's title), so a Rasa bot and ours
can be compared on the same examples. The project:

- ``config.yml``: ``bot.rasa.VietnameseTokenizer`` (or Rasa's ``WhitespaceTokenizer`` with
  ``whitespace=True``), word and character n-gram ``CountVectorsFeaturizer``s, ``DIETClassifier``
  (intents only: our entities come from a rule-based extractor that is not part of the export),
  ``ResponseSelector`` for the ``faq/*`` retrieval intents, ``FallbackClassifier``; ``RulePolicy``.
- ``domain.yml``: the intents, the ``utter_faq/<id>`` responses (FAQ answers with the organisation's
  placeholders filled from the settings), the small-talk replies of ``nlu_data/responses.yml``, our
  custom actions (``action_handoff``, ``action_ticket_status``, served by ``python -m rasa_sdk
  --actions actions``) and the slots they set.
- ``data/nlu.yml``, ``data/rules.yml`` (FAQ → ``utter_faq``; ``request_human``, ``complaint`` and
  ``nlu_fallback`` → ``action_handoff``; small talk), ``endpoints.yml`` (the action server).

The abbreviation table goes into ``config.yml`` itself (the tokenizer's ``abbreviations``), so a
trained Rasa model carries it as our own models do. Rasa needs this repository on ``PYTHONPATH`` to
find the tokenizer. The ``regex:`` blocks of ``request_human`` are not exported: they match our
normalised text without diacritics, which Rasa's ``RegexFeaturizer`` never sees.
"""

from __future__ import annotations

import hashlib
import random
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from .. import policy
from ..config import Settings
from ..knowledge import KnowledgeBase
from ..nlu.training_data import Example, TrainingData
from ..responses import Responses
from ..training import abbreviations, load_project_data

RETRIEVAL_INTENT = "faq"
HANDOFF_ACTION = policy.ACTION_HANDOFF
STATUS_ACTION = policy.ACTION_STATUS
# Replies of nlu_data/responses.yml the Rasa bot says itself (no action server needed).
SMALLTALK_RULES = dict(policy.SMALLTALK_INTENTS)
HANDOFF_INTENTS = ("request_human", "complaint")
# Slots our actions set or read (never used to predict the next action).
SLOTS = ("ticket_code", "ticket_due_at", "ticket_status", "last_faq_id", "handoff_faq_id")
DEFAULT_EPOCHS = 100
FALLBACK_THRESHOLD = 0.4
FILES = ("config.yml", "domain.yml", "endpoints.yml", "data/nlu.yml", "data/rules.yml")


class ExportError(ValueError):
    """The data cannot make a Rasa project (message in Vietnamese, for the maintainer)."""


@dataclass
class ExportResult:
    folder: Path
    intents: int
    examples: int
    responses: int
    digest: str  # sha256 of the files a model is trained from (not endpoints.yml): a trained model can be cached under it


def select_examples(examples: list[Example], max_per_intent: int | None, seed: int = 0) -> list[Example]:
    """At most ``max_per_intent`` examples of each intent (a seeded sample, kept in file order)."""
    if not max_per_intent:
        return list(examples)
    by_intent: dict[str, list[int]] = defaultdict(list)
    for i, ex in enumerate(examples):
        by_intent[ex.intent].append(i)
    rng = random.Random(seed)
    keep = set()
    for intent in sorted(by_intent):
        idx = by_intent[intent]
        keep.update(idx if len(idx) <= max_per_intent else rng.sample(idx, max_per_intent))
    return [ex for i, ex in enumerate(examples) if i in keep]


def export_project(
    out_dir: str | Path,
    settings: Settings,
    *,
    data: TrainingData | None = None,
    kb: KnowledgeBase | None = None,
    whitespace: bool = False,
    max_examples_per_intent: int | None = None,
    epochs: int = DEFAULT_EPOCHS,
    action_server_url: str | None = None,
) -> ExportResult:
    """Write the Rasa project into ``out_dir`` (its previous config, domain, endpoints and data are
    replaced; other files are left alone). ``data``/``kb`` default to the project's."""
    if data is None or kb is None:
        project_data, project_kb = load_project_data(settings)
        data, kb = data or project_data, kb or project_kb
    if epochs < 1:
        raise ExportError("Số epoch phải lớn hơn 0.")
    if max_examples_per_intent is not None and max_examples_per_intent < 1:
        raise ExportError("Số ví dụ tối đa cho mỗi ý định phải lớn hơn 0.")
    examples = select_examples(data.examples, max_examples_per_intent)
    if not examples:
        raise ExportError("Không có ví dụ huấn luyện nào để xuất.")
    responses = Responses.load(Path(settings["NLU_DATA_DIR"]) / "responses.yml", settings.org_context())
    intents = sorted({ex.intent for ex in examples})
    faq_intents = [i for i in intents if i.startswith(RETRIEVAL_INTENT + "/")]
    missing = [i for i in faq_intents if kb.for_intent(i) is None]
    if missing:
        raise ExportError(f"Ý định {missing[0]} không có mục FAQ tương ứng trong {settings['FAQ_DIR']}.")
    if HANDOFF_INTENTS[0] not in intents:
        raise ExportError("Dữ liệu huấn luyện thiếu ý định request_human (gặp cán bộ).")

    files = {
        "config.yml": _config(settings, whitespace, epochs, bool(faq_intents)),
        "domain.yml": _domain(intents, faq_intents, kb, responses, settings),
        "data/nlu.yml": _nlu(examples, data),
        "data/rules.yml": _rules(intents, bool(faq_intents)),
        "endpoints.yml": _dump({"action_endpoint": {"url": action_server_url or settings["RASA_ACTION_SERVER_URL"]}}),
    }
    out = Path(out_dir)
    (out / "data").mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    for name in FILES:
        (out / name).write_text(files[name], encoding="utf-8")
        if name != "endpoints.yml":  # where the action server runs is no part of the model
            digest.update(name.encode() + b"\x00" + files[name].encode() + b"\x01")
    return ExportResult(out, len(intents), len(examples), len(faq_intents), digest.hexdigest()[:16])


def clean_models(out_dir: str | Path) -> None:
    """Remove the trained models of an export folder (a changed export must be trained again)."""
    shutil.rmtree(Path(out_dir) / "models", ignore_errors=True)


# --- the files -----------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value and not any(line != line.rstrip() for line in value.split("\n")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _dump(doc: dict) -> str:
    return yaml.dump({"version": "3.1", **doc}, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000)


def _config(settings: Settings, whitespace: bool, epochs: int, with_faq: bool) -> str:
    if whitespace:
        tokenizer = {"name": "WhitespaceTokenizer"}
    else:
        tokenizer = {"name": "bot.rasa.VietnameseTokenizer", "strip_accents": True,
                     "abbreviations": dict(sorted(abbreviations(settings).items()))}
    pipeline = [
        tokenizer,
        {"name": "CountVectorsFeaturizer"},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 5},
        {"name": "DIETClassifier", "epochs": epochs, "entity_recognition": False, "constrain_similarities": True,
         "random_seed": 0},
    ]
    if with_faq:
        pipeline.append({"name": "ResponseSelector", "retrieval_intent": RETRIEVAL_INTENT, "epochs": epochs,
                         "constrain_similarities": True, "random_seed": 0})
    pipeline.append({"name": "FallbackClassifier", "threshold": FALLBACK_THRESHOLD})
    doc = {
        "recipe": "default.v1",
        "language": "vi",
        "assistant_id": "unionbot-vi-" + ("whitespace" if whitespace else "segmented"),
        "pipeline": pipeline,
        "policies": [{"name": "RulePolicy", "core_fallback_threshold": 0.3, "enable_fallback_prediction": True}],
    }
    header = ("# Written by `python -m bot export-rasa` from nlu_data/ and faq/: edit those, then export again.\n"
              "# Rasa finds bot.rasa.VietnameseTokenizer when this repository is on PYTHONPATH.\n")
    return header + yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000)


def _domain(intents, faq_intents, kb: KnowledgeBase, responses: Responses, settings: Settings) -> str:
    base_intents = sorted({i.split("/", 1)[0] for i in intents})
    replies = {}
    for intent, template in SMALLTALK_RULES.items():
        if intent in intents:
            replies[template] = [{"text": responses.text(template)}]
    if "out_of_scope" in intents:
        replies["utter_fallback"] = [{"text": responses.text("utter_fallback", sla_hours=settings["SLA_HOURS"])}]
    for intent in faq_intents:
        entry = kb.for_intent(intent)
        replies[f"utter_{intent}"] = [{"text": entry.render(responses.context)}]
    return _dump({
        "intents": base_intents,
        "entities": [],
        "slots": {name: {"type": "any", "influence_conversation": False, "mappings": [{"type": "custom"}]} for name in SLOTS},
        "responses": replies,
        "actions": [HANDOFF_ACTION, STATUS_ACTION],
        "session_config": {"session_expiration_time": int(settings["CONVERSATION_TIMEOUT_MINUTES"]),
                           "carry_over_slots_to_new_session": True},
    })


def _nlu(examples: list[Example], data: TrainingData) -> str:
    by_intent: dict[str, list[str]] = defaultdict(list)
    for ex in examples:
        text = " ".join(ex.text.split())
        if text and text not in by_intent[ex.intent]:
            by_intent[ex.intent].append(text)
    lines = ['version: "3.1"', "nlu:"]
    for intent in sorted(by_intent):
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines += [f"    - {text}" for text in by_intent[intent]]
    for name, values in sorted(data.synonyms.items()):
        lines += [f"- synonym: {name}", "  examples: |"] + [f"    - {v}" for v in values]
    for name, values in sorted(data.lookups.items()):
        lines += [f"- lookup: {name}", "  examples: |"] + [f"    - {v}" for v in values]
    return "\n".join(lines) + "\n"


def _rules(intents, with_faq: bool) -> str:
    rules = []
    if with_faq:
        rules.append({"rule": "Trả lời câu hỏi FAQ", "steps": [{"intent": RETRIEVAL_INTENT}, {"action": "utter_" + RETRIEVAL_INTENT}]})
    for intent in HANDOFF_INTENTS:
        if intent in intents:
            rules.append({"rule": f"Chuyển cán bộ: {intent}", "steps": [{"intent": intent}, {"action": HANDOFF_ACTION}]})
    rules.append({"rule": "Chuyển cán bộ khi không hiểu (nlu_fallback)", "steps": [{"intent": "nlu_fallback"}, {"action": HANDOFF_ACTION}]})
    if "ticket_status" in intents:
        rules.append({"rule": "Hỏi trạng thái phiếu", "steps": [{"intent": "ticket_status"}, {"action": STATUS_ACTION}]})
    if "out_of_scope" in intents:
        rules.append({"rule": "Ngoài phạm vi", "steps": [{"intent": "out_of_scope"}, {"action": "utter_fallback"}]})
    for intent, template in SMALLTALK_RULES.items():
        if intent in intents:
            rules.append({"rule": f"Giao tiếp: {intent}", "steps": [{"intent": intent}, {"action": template}]})
    return _dump({"rules": rules})
