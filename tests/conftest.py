"""Shared fixtures, in two tiers.

Fast tier (the default): apps are built around a ``ScriptedNLU`` (tests/fakes/nlu.py) injected
into the runtime, so the dialogue, channels, queue and dashboard are tested without training
anything. Slow tier: every test that uses the project's trained model (``project_models_dir``,
``project_app``) is marked ``slow`` automatically, as are browser and subprocess tests; the
project model is trained once and cached under ``.cache/test-models/`` keyed by the hash of
everything that shapes it, so both passes of ``bin/test`` (SQLite, PostgreSQL) share one training.

``DATABASE_URL`` chooses the database the storage tests use; tests that touch it are marked ``db``.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
MODEL_CACHE = ROOT / ".cache" / "test-models"


def pytest_collection_modifyitems(items):
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "project_models_dir" in names:
            item.add_marker(pytest.mark.slow)
        if "database_url" in names:
            item.add_marker(pytest.mark.db)


# --- models ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny-model") / "model"
    result = CliRunner().invoke(cli_main, ["train", "--nlu", str(DATA / "tiny_nlu.yml"), "--out", str(out), "--folds", "3", "-q"])
    assert result.exit_code == 0, result.output
    return out


def _project_fingerprint() -> str:
    """Everything that shapes the project model: training data, FAQ, and the code that trains it."""
    digest = hashlib.sha256()
    files = [*sorted((ROOT / "nlu_data").rglob("*")), *sorted((ROOT / "faq").rglob("*")), *sorted((ROOT / "bot").rglob("*.py")),
             ROOT / "pyproject.toml"]
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def project_models_dir(tmp_path_factory) -> Path:
    """A models/ folder with a model trained on the project's own data, made current (a copy of
    the cached training, so a test may switch or add versions freely)."""
    cached = MODEL_CACHE / _project_fingerprint()
    MODEL_CACHE.mkdir(parents=True, exist_ok=True)
    with open(MODEL_CACHE / ".lock", "w") as lock:  # bin/test's two passes run at once: one trains
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cached / "CURRENT").is_file():
            staging = MODEL_CACHE / f"{cached.name}.{os.getpid()}.tmp"
            shutil.rmtree(staging, ignore_errors=True)
            result = CliRunner().invoke(cli_main, ["train", "--folds", "3", "-q"], env={"MODELS_DIR": str(staging)})
            assert result.exit_code == 0, result.output
            shutil.rmtree(cached, ignore_errors=True)
            staging.rename(cached)
    models = tmp_path_factory.mktemp("project") / "models"
    shutil.copytree(cached, models)
    return models


@pytest.fixture(scope="session")
def project_model(project_models_dir):
    from bot.nlu.model import ModelRegistry

    return ModelRegistry(project_models_dir).load_current()


@pytest.fixture(scope="session")
def resources():
    """The knowledge base and reply templates, loaded once for every app of the session."""
    from actions.resources import Resources

    return Resources.load()


# --- apps --------------------------------------------------------------------------------------


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """The test database, migrated once per session: the PostgreSQL of DATABASE_URL (dropped and
    rebuilt first), or a SQLite template file that each test copies."""
    from bot.storage import Database

    url = os.environ.get("DATABASE_URL") or ""
    if not url or url in ("sqlite://", "sqlite:///:memory:"):
        url = f"sqlite:///{tmp_path_factory.mktemp('db-template') / 'template.db'}"
        db = Database(url)
    else:
        db = Database(url)
        db.drop_all()
    db.upgrade()
    if db.is_sqlite:
        db.dispose()  # closing the last connection checkpoints the WAL: the template file is complete
    yield db
    db.dispose()


@pytest.fixture
def database_url(tmp_path, migrated_database):
    """A clean, migrated database: a copy of the SQLite template, or PostgreSQL emptied."""
    if migrated_database.is_sqlite:
        path = tmp_path / "test.db"
        shutil.copyfile(migrated_database.engine.url.database, path)
        return f"sqlite:///{path}"
    migrated_database.truncate_all()
    return migrated_database.url


@pytest.fixture
def db(database_url):
    """The clean test database as a ``bot.storage.Database``, for tests of the library API."""
    from bot.storage import Database

    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def app_config(tmp_path, database_url):
    return {
        "DATABASE_URL": database_url,
        "MODELS_DIR": str(tmp_path / "models"),
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "REPORTS_DIR": str(tmp_path / "reports"),
        "WORKER_MODE": "none",
        "SECRET_KEY": "test-secret",
        "TESTING": True,
    }


@pytest.fixture
def make_app(app_config, resources):
    """Build apps the way ``python server.py`` does (runtime prepared, then handed to create_app),
    around an injected NLU: ``make_app(overrides=None, nlu=None, start=False)``."""
    from bot.config import Settings
    from bot.engine import Engine
    from bot.runtime import Runtime
    from server import create_app
    from tests.fakes.nlu import ScriptedNLU

    runtimes = []

    def build(overrides: dict | None = None, nlu=None, start: bool = False):
        config = {**app_config, **(overrides or {})}
        settings = Settings.load(config)
        engine = Engine(nlu if nlu is not None else ScriptedNLU(), dataclasses.replace(resources, settings=settings))
        runtime = Runtime(settings, engine=engine).prepare()
        runtimes.append(runtime)
        app = create_app(config, runtime=runtime)
        if start:
            runtime.start()
        return app

    yield build
    for runtime in runtimes:
        runtime.shutdown()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir):
    from bot.nlu.model import load_model

    return load_model(tiny_model_dir)


@pytest.fixture
def tiny_client(make_app, tiny_model):
    """An app whose real NLU pipeline runs a model trained in seconds on tests/data/tiny_nlu.yml."""
    return make_app(nlu=tiny_model).test_client()


@pytest.fixture
def project_app(make_app, project_model):
    """An app answering with the project's trained model (slow tier)."""
    return make_app(nlu=project_model)


@pytest.fixture
def project_client(project_app):
    return project_app.test_client()


# --- channels ----------------------------------------------------------------------------------

FB_SECRET = "fb-app-secret"
FB_VERIFY = "fb-verify-token"
ZALO_APP_ID = "1234567890"
ZALO_OA_SECRET = "oa-secret-key"


@pytest.fixture
def fake_graph():
    from tests.fakes.servers import FakeGraph

    server = FakeGraph()
    yield server
    server.close()


@pytest.fixture
def fake_zalo():
    from tests.fakes.servers import FakeZalo

    server = FakeZalo()
    yield server
    server.close()


@pytest.fixture
def channel_config(app_config, fake_graph, fake_zalo):
    return {
        **app_config,
        "FACEBOOK_APP_SECRET": FB_SECRET,
        "FACEBOOK_VERIFY_TOKEN": FB_VERIFY,
        "FACEBOOK_PAGE_ACCESS_TOKEN": "page-token",
        "FACEBOOK_GRAPH_URL": fake_graph.url + "/v21.0",
        "ZALO_APP_ID": ZALO_APP_ID,
        "ZALO_OA_SECRET_KEY": ZALO_OA_SECRET,
        "ZALO_APP_SECRET": "app-secret",
        "ZALO_ACCESS_TOKEN": "access-1",
        "ZALO_REFRESH_TOKEN": "refresh-1",
        "ZALO_API_URL": fake_zalo.url,
        "ZALO_OAUTH_URL": fake_zalo.url,
        "HTTP_TIMEOUT_SECONDS": 1.0,
    }


@pytest.fixture
def channel_app(make_app, channel_config):
    return make_app(channel_config)


def fb_post(client, body: dict, secret: str = FB_SECRET, signature: str | None = None):
    import hashlib
    import hmac
    import json as _json

    raw = _json.dumps(body).encode("utf-8")
    if signature is None:
        signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json"}
    if signature:
        headers["X-Hub-Signature-256"] = signature
    return client.post("/webhooks/facebook/webhook", data=raw, headers=headers)


def fb_text(psid: str, mid: str, text: str, ts: int | None = None) -> dict:
    import time as _time

    ts = ts or int(_time.time() * 1000)
    return {"sender": {"id": psid}, "recipient": {"id": "PAGE"}, "timestamp": ts, "message": {"mid": mid, "text": text}}


def fb_body(*events, page: str = "PAGE") -> dict:
    return {"object": "page", "entry": [{"id": page, "time": 1, "messaging": list(events)}]}


def zalo_post(client, event: dict, oa_secret: str = ZALO_OA_SECRET, signature: str | None = None):
    import json as _json

    from bot.channels.zalo import expected_signature

    raw = _json.dumps(event).encode("utf-8")
    if signature is None:
        signature = expected_signature(ZALO_APP_ID, raw, str(event.get("timestamp")), oa_secret)
    headers = {"Content-Type": "application/json"}
    if signature:
        headers["X-ZEvent-Signature"] = signature
    return client.post("/webhooks/zalo/webhook", data=raw, headers=headers)


def zalo_text(user: str, msg_id: str, text: str, ts: int | None = None) -> dict:
    import time as _time

    ts = ts or int(_time.time() * 1000)
    return {"app_id": ZALO_APP_ID, "event_name": "user_send_text", "timestamp": str(ts), "sender": {"id": user},
            "recipient": {"id": "OA"}, "message": {"text": text, "msg_id": msg_id}}


# --- dashboard ---

PASSWORD = "mat-khau-rat-dai-123"


def add_officer(runner, app, email, role="officer", name=None) -> str:
    """Create an officer account with the CLI, as an admin would; returns the e-mail."""
    env = {"DATABASE_URL": app.extensions["bot"].settings["DATABASE_URL"]}
    result = runner.invoke(cli_main, ["officers", "add", email, "--name", name or email.split("@")[0], "--role", role,
                                      "--password-stdin"], input=PASSWORD + "\n", env=env)
    assert result.exit_code == 0, result.output
    return email


def open_ticket(app, psid="worker-1", text="cho em gặp cán bộ công đoàn", ts=None) -> str:
    """A worker asks for an officer on Messenger and the workers run; returns the new ticket's code."""
    from sqlalchemy import select

    from bot.storage.models import Ticket

    fb_post(app.test_client(), fb_body(fb_text(psid, f"mid-{psid}-{text[:5]}", text, ts)))
    app.extensions["bot"].workers.drain()
    with app.extensions["bot"].db.read() as s:
        return s.scalars(select(Ticket).where(Ticket.user_id == psid)).one().code


class AuthActions:
    """One browser session on the dashboard: log in and out, and send forms with the session's CSRF token."""

    def __init__(self, client):
        self.client = client

    def csrf_token(self) -> str:
        import re

        html = self.client.get("/dashboard/login").get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def post(self, path, data=None, **kwargs):
        return self.client.post(path, data={**(data or {}), "csrf_token": self.csrf_token()}, **kwargs)

    def login(self, email, password=PASSWORD):
        return self.post("/dashboard/login", {"email": email, "password": password})

    def logout(self):
        return self.post("/dashboard/logout")


@pytest.fixture
def auth(channel_app):
    return AuthActions(channel_app.test_client())


@pytest.fixture
def officer(runner, channel_app):
    return add_officer(runner, channel_app, "canbo@congdoan.vn", name="Nguyễn Văn A")


@pytest.fixture
def admin(runner, channel_app):
    return add_officer(runner, channel_app, "admin@congdoan.vn", role="admin", name="Trần Thị B")


@pytest.fixture
def ticket(channel_app):
    """The code of a ticket a worker opened on Messenger."""
    return open_ticket(channel_app)


def cli_caller(runner, env: dict):
    """``cli(*args, input=None) -> output``: runs ``python -m bot …`` in-process with ``env`` and
    asserts it succeeded (the units tests set up their federation this way, as an admin would)."""

    def cli(*args, input=None):
        result = runner.invoke(cli_main, list(args), input=input, env=env)
        assert result.exit_code == 0, result.output
        return result.output

    return cli
