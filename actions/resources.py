"""What actions need besides the tracker: the knowledge base, reply templates and settings.

The engine hands its own objects over with ``configure()``; a standalone rasa-sdk action server
loads them lazily from the configured folders (``FAQ_DIR``, ``NLU_DATA_DIR``) on first use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.knowledge import KnowledgeBase
from bot.responses import Responses


@dataclass
class Resources:
    kb: KnowledgeBase
    responses: Responses
    settings: Settings


_lock = threading.Lock()
_resources: Resources | None = None


def configure(resources: Resources) -> None:
    global _resources
    with _lock:
        _resources = resources


def load_resources(settings: Settings | None = None) -> Resources:
    settings = settings or Settings.load()
    kb = KnowledgeBase.load(settings["FAQ_DIR"])
    responses = Responses.load(Path(settings["NLU_DATA_DIR"]) / "responses.yml", settings.org_context())
    return Resources(kb, responses, settings)


def get() -> Resources:
    global _resources
    with _lock:
        if _resources is None:
            _resources = load_resources()
        return _resources
