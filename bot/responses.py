"""Bot replies other than FAQ answers, read from ``nlu_data/responses.yml`` (Rasa domain format)."""

from __future__ import annotations

from pathlib import Path

import yaml

from . import yaml_lines
from .knowledge import KnowledgeBaseError, render_template

REQUIRED = (
    "utter_greet", "utter_goodbye", "utter_thanks", "utter_bot_challenge", "utter_affirm_deny",
    "utter_clarify", "utter_fallback", "utter_empty_message", "utter_attachment", "utter_handoff",
    "utter_handoff_preview", "utter_ticket_status", "utter_no_ticket",
    "utter_feedback_good", "utter_privacy_notice", "utter_privacy_notice_no_limit",
)


class Responses:
    def __init__(self, templates: dict[str, str], context: dict[str, str] | None = None):
        self.templates = templates
        self.context = dict(context or {})

    @classmethod
    def load(cls, path: str | Path, context: dict[str, str] | None = None) -> Responses:
        path = Path(path)
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise KnowledgeBaseError(f"{path}: không tìm thấy tệp câu trả lời của bot") from None
        except yaml.YAMLError as exc:
            where = yaml_lines.error_location(exc, str(path))
            raise KnowledgeBaseError(f"{where}: YAML không hợp lệ") from None
        templates = {}
        for name, variants in (doc.get("responses") or {}).items():
            if not isinstance(variants, list) or not variants or not isinstance(variants[0], dict) or "text" not in variants[0]:
                raise KnowledgeBaseError(f"{path}: response '{name}' cần dạng '- text: …'")
            templates[name] = str(variants[0]["text"])
        missing = [r for r in REQUIRED if r not in templates]
        if missing:
            raise KnowledgeBaseError(f"{path}: thiếu các câu trả lời: {', '.join(missing)}")
        return cls(templates, context)

    def text(self, name: str, **values) -> str:
        return render_template(self.templates[name], {**self.context, **{k: str(v) for k, v in values.items()}})
