"""What actions need besides the tracker: the knowledge base, reply templates and settings.

The engine builds its actions with its own ``Resources``. A standalone rasa-sdk action server
instantiates the classes without arguments; they then load the resources once, lazily, from the
configured folders (``FAQ_DIR``, ``NLU_DATA_DIR``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Settings
from bot.knowledge import KnowledgeBase, load_places
from bot.responses import Responses


@dataclass(frozen=True)
class Resources:
    kb: KnowledgeBase
    responses: Responses
    settings: Settings
    places: dict = field(default_factory=dict)  # place name -> minimum-wage region (faq/places/regions.yml)

    @classmethod
    def load(cls, settings: Settings | None = None) -> Resources:
        settings = settings or Settings.load()
        kb = KnowledgeBase.load(settings["FAQ_DIR"])
        responses = Responses.load(Path(settings["NLU_DATA_DIR"]) / "responses.yml", settings.org_context())
        places = load_places(Path(settings["FAQ_DIR"]) / "places" / "regions.yml")
        return cls(kb, responses, settings, places)


@functools.lru_cache(maxsize=1)
def for_action_server() -> Resources:
    """The resources of a standalone action server (loaded on first use, then kept)."""
    return Resources.load()
