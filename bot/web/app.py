"""The Flask application factory."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask

from ..config import Settings
from ..runtime import Runtime
from .errors import register_error_handlers

MAX_REQUEST_BYTES = 1024 * 1024  # platform webhooks are small; refuse anything larger


def _secret_key(settings: Settings) -> str:
    if settings["SECRET_KEY"]:
        return settings["SECRET_KEY"]
    path = Path(settings["INSTANCE_DIR"]) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def create_app(config: dict | None = None, runtime: Runtime | None = None) -> Flask:
    """Build the app around a runtime (the rasa-sdk way: the core object is handed in).

    ``config`` overrides settings (see ``bot.config.SETTINGS``) and Flask options, for tests. With a
    ``runtime``, the factory only wires: the caller owns the runtime's ``prepare``/``start``/
    ``shutdown`` (``python server.py`` does so). Without one, the app is self-contained, as a WSGI
    server calling ``server:create_app`` expects: it builds a runtime from the settings, migrates
    the schema, loads the model and starts the workers of ``WORKER_MODE``.
    """
    owned = runtime is None
    if owned:
        runtime = Runtime(Settings.load(config)).prepare()
    settings = runtime.settings
    app = Flask(__name__, instance_path=str(Path(settings["INSTANCE_DIR"]).resolve()))
    app.config.update(
        SECRET_KEY=_secret_key(settings),
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings["SESSION_COOKIE_SECURE"]),
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        BOT_SETTINGS=settings,
    )
    app.json.ensure_ascii = False
    if config:
        app.config.update({k: v for k, v in config.items() if k.isupper()})
    runtime.init_app(app)
    register_error_handlers(app)

    from . import health, rasa_api, ratelimit, webchat, webhooks

    ratelimit.init_app(app, settings)

    app.register_blueprint(health.bp)
    app.register_blueprint(rasa_api.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(webchat.bp)
    app.after_request(webchat.add_cors)

    from .. import dashboard

    dashboard.init_app(app)
    if owned:
        runtime.start()
    return app
