from pathlib import Path

import pytest

from bot.config import SETTINGS, Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented_in_readme(setting):
    assert f"`{setting.name}`" in README
    assert setting.help


def test_environment_and_overrides():
    s = Settings.load({"PORT": "8080"}, environ={"SLA_HOURS": "12", "PORT": "1"})
    assert s["PORT"] == 8080 and s["SLA_HOURS"] == 12
    assert s["DATABASE_URL"].startswith("sqlite:///") and s["DATABASE_URL"].endswith("bot.db")


def test_invalid_value_is_a_clear_error():
    with pytest.raises(ValueError, match="SLA_HOURS"):
        Settings.load(environ={"SLA_HOURS": "mười"})


def test_readme_quick_start_is_two_commands():
    block = README.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["bin/run", "bin/test"]
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "bin/test" in ci
