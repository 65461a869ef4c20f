"""A non-editable install carries everything the server reads from disk besides the data folders."""

import shutil
import subprocess
import sys
import zipfile

import pytest

from .conftest import ROOT


@pytest.mark.slow
def test_wheel_contains_templates_static_files_and_migrations(tmp_path):
    # Built from a clean copy: a stale build/ folder in the checkout would hide missing package data.
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", ".cache", "build", "*.egg-info", "__pycache__",
                                                                "models", "instance", "reports", "nlu_data", "faq"))
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path),
                             str(source)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    [wheel] = tmp_path.glob("congdoan_bot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"bot/web/static/widget.js", "bot/web/templates/chat.html", "bot/dashboard/static/dashboard.css",
                "bot/dashboard/templates/dashboard/base.html", "bot/dashboard/templates/dashboard/error.html",
                "bot/storage/migrations/script.py.mako", "bot/storage/migrations/env.py", "actions/actions.py", "bot/dialogue.py"}
    assert expected <= names, sorted(expected - names)
