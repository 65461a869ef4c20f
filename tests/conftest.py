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
def channel_app(channel_config):
    from server import create_app

    app = create_app(channel_config)
    yield app
    app.extensions["bot"].shutdown()


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
