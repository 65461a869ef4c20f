"""The rooms of docs/architecture.md and who may import whom, checked on the real import graph.

Each module is imported in a fresh interpreter and the modules it pulled in are listed, so an
indirect import (A imports B, which imports Flask) is caught as well as a direct one.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

WEB_STACK = ("flask", "werkzeug", "waitress", "bot.web", "bot.dashboard")
DATABASE = ("sqlalchemy", "alembic", "psycopg", "bot.storage")

# module -> prefixes it must not load, directly or through anything it imports
RULES = {
    # The NLU is a library: text in, intents out.
    "bot.nlu.model": WEB_STACK + DATABASE + ("httpx", "rasa_sdk"),
    "bot.nlu.evaluation": WEB_STACK + DATABASE + ("httpx",),
    # The engine understands and decides; it never touches the database or HTTP.
    "bot.engine": WEB_STACK + DATABASE + ("httpx",),
    "bot.policy": WEB_STACK + DATABASE + ("httpx",),
    # Actions only render what they are given (also served by the rasa-sdk action server).
    "actions": WEB_STACK + DATABASE,
    # Channel adapters translate platform payloads; the web layer calls them, not the other way.
    "bot.channels.messenger": WEB_STACK + DATABASE,
    "bot.channels.zalo": WEB_STACK + DATABASE,
    "bot.channels.rest": WEB_STACK + DATABASE,
    "bot.channels.comments": WEB_STACK + DATABASE,
    # Fanpage comments are decided by a library the webhook and the workers call.
    "bot.comments": WEB_STACK,
    # The turn and the composition root work without Flask (the worker command has no web app).
    "bot.dialogue": WEB_STACK,
    "bot.runtime": WEB_STACK,
    "bot.workers": WEB_STACK,
    # The CLI opens the database and the web app only in the commands that need them.
    "bot.cli": WEB_STACK + DATABASE,
    "bot.cli_privacy": WEB_STACK + DATABASE,
    "bot.cli_units": WEB_STACK + DATABASE,
    # Units, their pages and OAs, and secrets at rest: libraries, no web layer.
    "bot.units": WEB_STACK,
    "bot.unit_channels": WEB_STACK,
    "bot.secretbox": WEB_STACK + DATABASE,
    # Personal data (purge, export, deletion, backup) is a library: no web layer.
    "bot.privacy": WEB_STACK,
    # The FAQ edited in the browser: revisions, export and preview are libraries too.
    "bot.faq_edits": WEB_STACK,
    "bot.faq_export": WEB_STACK,
    "bot.faq_preview": WEB_STACK + DATABASE,
    # Rasa interoperability: the product never needs Rasa installed (Python 3.10 only).
    "bot.rasa": WEB_STACK + DATABASE + ("rasa", "tensorflow"),
    "bot.rasa.export": WEB_STACK + DATABASE + ("rasa", "httpx"),
    "bot.rasa.dialogue": WEB_STACK + ("rasa",),
}


def _loaded_by(module: str) -> list[str]:
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("module", sorted(RULES))
def test_import_closure(module):
    loaded = _loaded_by(module)
    forbidden = RULES[module]
    offending = sorted({name for name in loaded for prefix in forbidden if name == prefix or name.startswith(prefix + ".")})
    assert offending == [], f"{module} pulls in {offending}"


def _imports(path: Path, package: str | None = None) -> set[str]:
    """Absolute names imported by a file (relative imports resolved against its package)."""
    if package is None:
        package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    parts = package.split(".")
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = parts[: len(parts) - node.level + 1] if node.level else []
            prefix = ".".join(base + ([node.module] if node.module else []))
            names.add(prefix)
            names.update(f"{prefix}.{alias.name}" for alias in node.names)
    return names


def _python_files(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts)


def _imports_web(path: Path, package: str | None = None) -> bool:
    return any(name == "bot.web" or name.startswith("bot.web.") for name in _imports(path, package))


def test_nothing_outside_the_web_layer_imports_it():
    """bot/web is the outermost room: only server.py (and bot/web itself) may import it."""
    inner = [p for p in _python_files("bot") if not p.is_relative_to(ROOT / "bot" / "web")] + _python_files("actions")
    assert [str(p.relative_to(ROOT)) for p in inner if _imports_web(p)] == []


# The one exception: Rasa's action server opens the ticket itself (a Rasa bot has no dialogue of ours).
# The package never imports it (the engine's actions stay render-only); rasa-sdk imports it when serving.
RASA_HANDOFF = "actions/handoff_queue.py"


def test_actions_never_reach_into_the_dialogue_or_the_queue():
    """Actions render what the dialogue gives them: no callback into the turn, no ticket writes."""
    reach = {
        str(path.relative_to(ROOT)): sorted(n for n in _imports(path) if n.startswith(("bot.dialogue", "bot.handoff", "bot.runtime")))
        for path in _python_files("actions") if str(path.relative_to(ROOT)) != RASA_HANDOFF
    }
    assert {k: v for k, v in reach.items() if v} == {}


def test_the_rasa_handoff_only_opens_tickets_and_is_not_loaded_by_the_package():
    imported = _imports(ROOT / RASA_HANDOFF)
    assert sorted(n for n in imported if n.startswith(("bot.dialogue", "bot.runtime", "bot.web", "bot.handoff.")))  == [
        "bot.handoff.tickets"]
    assert "actions.handoff_queue" not in _loaded_by("actions")


def test_the_checker_resolves_relative_imports(tmp_path):
    """Guard for the guard: relative imports of the web layer from inside bot/ are caught."""
    sample = tmp_path / "probe.py"
    sample.write_text("from ..web import app\nfrom . import tickets\n", encoding="utf-8")
    assert _imports_web(sample, "bot.handoff")
    assert "bot.handoff.tickets" in _imports(sample, "bot.handoff")
    sample.write_text("from .web.app import create_app\n", encoding="utf-8")
    assert _imports_web(sample, "bot")
