"""Shared fixtures.

``DATABASE_URL`` chooses the database the storage tests use (bin/test runs the suite on SQLite and
on PostgreSQL). Models are trained once per session: a tiny one on tests/data/tiny_nlu.yml and the
real one on the project's nlu_data/ + faq/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny-model") / "model"
    result = CliRunner().invoke(cli_main, ["train", "--nlu", str(DATA / "tiny_nlu.yml"), "--out", str(out), "--folds", "3", "-q"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def project_models_dir(tmp_path_factory) -> Path:
    """A models/ folder with a model trained on the project's own data, made current."""
    models = tmp_path_factory.mktemp("models")
    runner = CliRunner()
    result = runner.invoke(cli_main, ["train", "--folds", "3", "-q"], env={"MODELS_DIR": str(models)})
    assert result.exit_code == 0, result.output
    return models


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def database_url(tmp_path):
    """A clean database: a fresh SQLite file, or the PostgreSQL of DATABASE_URL emptied first."""
    url = os.environ.get("DATABASE_URL") or ""
    if not url or url in ("sqlite://", "sqlite:///:memory:"):
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    from bot.storage import Database

    db = Database(url)
    db.drop_all()
    db.dispose()
    yield url


@pytest.fixture
def app_config(tmp_path, database_url, project_models_dir):
    return {
        "DATABASE_URL": database_url,
        "MODELS_DIR": str(project_models_dir),
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "REPORTS_DIR": str(tmp_path / "reports"),
        "WORKER_MODE": "none",
        "SECRET_KEY": "test-secret",
        "TESTING": True,
    }


@pytest.fixture
def app(app_config):
    from server import create_app

    app = create_app(app_config)
    yield app
    app.extensions["bot"].shutdown()


@pytest.fixture
def client(app):
    return app.test_client()
