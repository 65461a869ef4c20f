"""Everything the web app shares between requests: settings, database, engine, workers."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from sqlalchemy import select

from .channels.messenger import MessengerSender
from .channels.zalo import ZaloSender
from .config import Settings
from .conversation import ConversationService, Inbox
from .engine import Engine
from .nlu.model import ModelError, ModelRegistry
from .outbox import OutboxSender
from .storage import Database, DatabaseUnavailable
from .storage.models import OutboxMessage, utcnow
from .storage.tokens import DatabaseTokenStore
from .workers import Workers

logger = logging.getLogger(__name__)

MODEL_CHECK_SECONDS = 5.0


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.db = Database(settings["DATABASE_URL"])
        self.db_error: str | None = None
        try:
            self.db.upgrade()
        except DatabaseUnavailable as exc:
            self.db_error = str(exc)
            logger.error("%s", exc)
        self.registry = ModelRegistry(settings["MODELS_DIR"])
        self.engine = Engine.from_settings(settings, load_model=False)
        self.model_error: str | None = None
        self._model_checked_at = 0.0
        self._model_version: str | None = None
        self._lock = threading.Lock()
        self.reload_model_if_changed(force=True)
        self.inbox = Inbox(self.db)
        self.conversations = ConversationService(
            self.db, self.engine, sla_hours=settings["SLA_HOURS"], timeout_minutes=settings["CONVERSATION_TIMEOUT_MINUTES"],
            max_message_chars=settings["MAX_MESSAGE_CHARS"],
        )
        self.senders = self._make_senders()
        self.outbox = OutboxSender(self.db, self.senders)
        from ..handoff.notify import Notifier

        self.notifier = Notifier(self.db, settings)
        self.workers = Workers(self.conversations, self.outbox, settings["WORKER_MODE"], settings["REDIS_URL"],
                               tick=self.reload_model_if_changed)

    # -- channels ---------------------------------------------------------------------------------
    @property
    def messenger_enabled(self) -> bool:
        s = self.settings
        return bool(s["FACEBOOK_APP_SECRET"] and s["FACEBOOK_VERIFY_TOKEN"] and s["FACEBOOK_PAGE_ACCESS_TOKEN"])

    @property
    def zalo_enabled(self) -> bool:
        s = self.settings
        return bool(s["ZALO_APP_ID"] and s["ZALO_OA_SECRET_KEY"] and s["ZALO_ACCESS_TOKEN"])

    def _make_senders(self) -> dict:
        s = self.settings
        senders = {}
        if self.messenger_enabled:
            senders["messenger"] = MessengerSender(s["FACEBOOK_GRAPH_URL"], s["FACEBOOK_PAGE_ACCESS_TOKEN"], timeout=s["HTTP_TIMEOUT_SECONDS"])
            logger.info("Messenger channel enabled (%s)", s["FACEBOOK_GRAPH_URL"])
        else:
            logger.info("Messenger channel disabled: FACEBOOK_APP_SECRET, FACEBOOK_VERIFY_TOKEN and FACEBOOK_PAGE_ACCESS_TOKEN are needed")
        if self.zalo_enabled:
            tokens = DatabaseTokenStore(self.db, "zalo", s["ZALO_ACCESS_TOKEN"], s["ZALO_REFRESH_TOKEN"])
            senders["zalo"] = ZaloSender(s["ZALO_API_URL"], s["ZALO_OAUTH_URL"], s["ZALO_APP_ID"], s["ZALO_APP_SECRET"], tokens,
                                         timeout=s["HTTP_TIMEOUT_SECONDS"])
            logger.info("Zalo OA channel enabled (%s)", s["ZALO_API_URL"])
        else:
            logger.info("Zalo OA channel disabled: ZALO_APP_ID, ZALO_OA_SECRET_KEY and ZALO_ACCESS_TOKEN are needed")
        return senders

    def web_messages(self, sender: str, after: int) -> list[dict]:
        """Officer replies to a web chat user newer than ``after``; marks them delivered."""
        with self.db.session() as session:
            rows = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.channel == "web", OutboxMessage.recipient_id == sender, OutboxMessage.id > after,
                       OutboxMessage.author == "officer")
                .order_by(OutboxMessage.id)
                .limit(50)
            ).all()
            now = utcnow()
            out = []
            for row in rows:
                if row.status == "pending":
                    row.status = "sent"
                    row.sent_at = now
                out.append({"id": row.id, "text": row.body.get("text", ""), "buttons": row.body.get("buttons") or []})
            return out

    # -- model ------------------------------------------------------------------------------------
    def reload_model_if_changed(self, force: bool = False) -> None:
        """Load the model CURRENT points at, if it changed (checked at most every few seconds)."""
        now = time.monotonic()
        if not force and now - self._model_checked_at < MODEL_CHECK_SECONDS:
            return
        with self._lock:
            self._model_checked_at = now
            name = self.registry.current_name()
            if name is not None and name == self._model_version and self.engine.model is not None:
                return
            try:
                model = self.registry.load_current()
            except ModelError as exc:
                if self.engine.model is None:
                    self.model_error = str(exc)
                    logger.error("%s", exc)
                else:
                    logger.error("keeping model %s: %s", self._model_version, exc)
                return
            self.engine.set_model(model)
            self._model_version = model.version
            self.model_error = None
            logger.info("NLU model %s loaded", model.version)

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        self.workers.start()
        if self.settings["WORKER_MODE"] != "none":
            self.notifier.start()

    def shutdown(self) -> None:
        self.notifier.stop()
        self.workers.stop()
        self.db.dispose()

    def readiness(self) -> dict:
        db_ok = True
        db_error = None
        try:
            self.db.ping()
        except DatabaseUnavailable as exc:
            db_ok, db_error = False, str(exc)
        self.reload_model_if_changed()
        model = self.engine.model
        return {
            "database": {"ok": db_ok, "error": db_error, "dialect": self.db.dialect},
            "model": {"ok": model is not None, "version": model.version if model else None, "error": self.model_error},
        }


def current_runtime() -> Runtime:
    """The runtime of the Flask app handling the current request (the one accessor)."""
    from flask import current_app

    return current_app.extensions["bot"]
