"""The composition root: everything the server and the workers share, built in one place.

``Runtime(settings)`` builds the parts and wires them, with no side effects beyond opening
connection pools: database, NLU engine, channels (one shared HTTP client), inbox, dialogue,
outbox, notifier and workers. Side effects are explicit steps: ``prepare()`` migrates the schema
and loads the model, ``start()`` starts the background threads, ``shutdown()`` stops them.
``python server.py`` and ``python -m bot worker`` take those steps; tests build a runtime with an
injected engine or HTTP transport and hand it to ``create_app(runtime=...)``.
"""

from __future__ import annotations

import logging
import threading
import time

import httpx

from . import unit_channels, units, vntime
from .channels.registry import PULL_CHANNELS, ChannelRegistry
from .config import Settings
from .dialogue import Dialogue
from .engine import Engine
from .handoff.escalation import Escalator
from .handoff.notify import Notifier
from .handoff.replies import OfficerReplies
from .inbox import Inbox
from .nlu import tokenize
from .nlu.model import ModelError, ModelRegistry, NLUModel
from .outbox import OutboxSender
from .storage import Database, DatabaseUnavailable
from .storage.tokens import DatabaseTokenStore
from .unit_channels import UnitChannels
from .workers import Workers

logger = logging.getLogger(__name__)

MODEL_CHECK_SECONDS = 5.0


class StartupError(RuntimeError):
    """What stops ``python server.py`` or ``python -m bot worker`` from starting (Vietnamese)."""


class Runtime:
    def __init__(self, settings: Settings, engine: Engine | None = None, http_transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self.db = Database(settings["DATABASE_URL"])
        self.db_error: str | None = None
        self.models = ModelRegistry(settings["MODELS_DIR"])
        self.engine = engine or Engine.from_settings(settings, load_model=False)
        self.model_error: str | None = None
        self.model_check_seconds = MODEL_CHECK_SECONDS
        self._model_checked_at = 0.0
        self._model_version: str | None = self.engine.model.version if self.engine.model is not None else None
        # The FAQ in the files; the engine answers from it overlaid by the browser edits in effect today.
        self.base_kb = self.engine.kb
        self.today = vntime.today  # injectable: tests move the Vietnam date
        self.knowledge_check_seconds = MODEL_CHECK_SECONDS
        self._knowledge_checked_at = 0.0
        self._knowledge_key: tuple | None = None
        self._lock = threading.Lock()
        self.http = httpx.Client(timeout=settings["HTTP_TIMEOUT_SECONDS"], transport=http_transport)
        self.channels = ChannelRegistry(settings, self.http, zalo_tokens=lambda: DatabaseTokenStore(
            self.db, "zalo", settings["ZALO_ACCESS_TOKEN"], settings["ZALO_REFRESH_TOKEN"]))
        self.inbox = Inbox(self.db)
        turn_options = dict(sla_hours=settings["SLA_HOURS"], timeout_minutes=settings["CONVERSATION_TIMEOUT_MINUTES"],
                            max_message_chars=settings["MAX_MESSAGE_CHARS"], pull_channels=PULL_CHANNELS)
        if settings.get("BOT_ENGINE") == "rasa":  # a Rasa server decides the replies (bot/rasa/dialogue.py)
            from .rasa.dialogue import build as rasa_dialogue

            self.dialogue = rasa_dialogue(self.db, self.engine, self.inbox, settings, self.http, **turn_options)
        else:
            self.dialogue = Dialogue(self.db, self.engine, self.inbox, **turn_options)
        units.configure_cache(settings["UNIT_CACHE_SECONDS"])
        # Pages and OAs of the units (bot/unit_channels.py); wired in front of the senders by prepare().
        self.unit_channels = UnitChannels(self.db, settings, self.http, self.channels.senders)
        self.outbox = OutboxSender(self.db, self.channels.senders)
        self.notifier = Notifier(self.db, settings, client=self.http)
        self.replies = OfficerReplies(self.db, self.channels, wake_outbox=lambda: self.workers.notify_outbox())
        self.metrics_registry = None  # built on the first scrape of /metrics
        self.workers = Workers(self.dialogue, self.outbox, settings["WORKER_MODE"], settings["REDIS_URL"],
                               tick=self.reload_if_changed, maintenance=self.daily_maintenance, jobs=self.run_jobs,
                               linger=settings["WORKER_LINGER_MS"] / 1000)
        self.escalator = Escalator(self.db, settings)
        self._escalated_at = 0.0

    # -- lifecycle --------------------------------------------------------------------------------
    def prepare(self, strict: bool = False) -> Runtime:
        """Bring the schema up to date, load the current model and the word segmenter.

        ``strict`` (the server's and the worker's start): a database or Redis that cannot be reached,
        or segmentation that does not work, raises ``StartupError`` with a clear message, and the
        process exits non-zero. Otherwise (an app built by ``create_app(config)``) a database that is
        down is reported on ``/readyz`` and the app still starts."""
        try:
            self.db.upgrade()
            self.db_error = None
            with self.db.session() as session:
                units.root_unit(session, self.settings)  # an empty database gets its root unit from ORG_*
            unit_channels.wire(self.channels.senders, self.unit_channels)
        except DatabaseUnavailable as exc:
            self.db_error = str(exc)
            logger.error("%s", exc)
            if strict:
                raise StartupError(str(exc)) from None
        if strict and self.settings["WORKER_MODE"] == "redis":
            try:
                self.workers.ping_redis()
            except Exception as exc:  # noqa: BLE001 - any connection problem is reported the same way
                raise StartupError(f"Không kết nối được Redis ({self.settings['REDIS_URL']}): {type(exc).__name__}") from None
        if self.settings.get("BOT_ENGINE") != "rasa":  # with Rasa deciding, no model of ours is needed
            self.reload_model_if_changed(force=True)
        self.reload_knowledge_if_changed(force=True)
        if isinstance(self.engine.model, NLUModel):
            try:
                tokenize.warm_up()  # the segmenter is ready before the first message
            except Exception as exc:  # noqa: BLE001
                if strict:
                    raise StartupError(f"Không tách từ tiếng Việt được: {exc}") from None
                logger.error("word segmentation is not working: %s", exc)
        return self

    def init_app(self, app) -> None:
        """Attach to a Flask app (the flaskr way); ``current_runtime()`` finds it again."""
        app.extensions["bot"] = self

    def start(self) -> None:
        self.workers.start()
        if self.settings["WORKER_MODE"] != "none":
            self.notifier.start()

    def shutdown(self) -> None:
        self.notifier.stop()
        self.workers.stop()
        self.http.close()
        self.db.dispose()

    def daily_maintenance(self) -> None:
        """The retention purge, once a day across all processes (bot/privacy.py); RETENTION_DAYS=0 disables it."""
        from .privacy import run_daily_purge

        result = run_daily_purge(self.db, self.settings["RETENTION_DAYS"])
        if result is not None:
            logger.info("retention purge (older than %s days): %s", self.settings["RETENTION_DAYS"], result.counts)

    def run_jobs(self) -> bool:
        """The workers' job thread: escalation up the unit tree (every NOTIFY_INTERVAL_SECONDS), then a retrain."""
        if time.monotonic() - self._escalated_at >= float(self.settings["NOTIFY_INTERVAL_SECONDS"]):
            self._escalated_at = time.monotonic()
            self.escalator.run_once()
        return self.run_training_job()

    def run_training_job(self) -> bool:
        """Run the oldest queued retrain, if any (bot/learning/retrain.py); the workers' job thread calls it."""
        from . import faq_edits
        from .learning.retrain import active_job, run_next

        with self.db.read() as s:
            if active_job(s) is None:  # the usual case: one cheap query every few seconds
                return False
            faq_examples = faq_edits.example_overrides(s, self.today())  # phrasings edited in the browser
        return run_next(self.db, self.settings, self.engine.resources, faq_examples=faq_examples) is not None

    # -- model ------------------------------------------------------------------------------------
    def reload_model_if_changed(self, force: bool = False) -> None:
        """Load the model CURRENT points at, if it changed (checked at most every few seconds)."""
        now = time.monotonic()
        if not force and now - self._model_checked_at < self.model_check_seconds:
            return
        with self._lock:
            self._model_checked_at = now
            name = self.models.current_name()
            if self.engine.model is not None and name in (None, self._model_version):
                return  # unchanged, or nothing to switch to: keep the model in use
            try:
                model = self.models.load_current()
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

    # -- knowledge base ---------------------------------------------------------------------------
    def reload_if_changed(self) -> None:
        """What every worker round and API call checks: a new model, the FAQ edited or a new day."""
        self.reload_model_if_changed()
        self.reload_knowledge_if_changed()

    def reload_knowledge_if_changed(self, force: bool = False) -> None:
        """Rebuild the engine's FAQ when a revision was saved (by any process) or the Vietnam date
        changed (scheduled content); checked at most every few seconds unless ``force``."""
        from . import faq_edits

        now = time.monotonic()
        if not force and now - self._knowledge_checked_at < self.knowledge_check_seconds:
            return
        with self._lock:
            self._knowledge_checked_at = now
            try:
                today = self.today()
                with self.db.read() as s:
                    key = (faq_edits.last_revision_id(s), today)
                    if key == self._knowledge_key:
                        return
                    kb = faq_edits.effective_entries(s, self.base_kb, today)
            except DatabaseUnavailable as exc:
                logger.warning("FAQ edits not checked: %s", exc)
                return
            except Exception:  # noqa: BLE001 - keep answering from the FAQ in use
                logger.exception("FAQ edits could not be applied; keeping the FAQ in use")
                return
            self.engine.set_knowledge(kb)
            self._knowledge_key = key
            logger.info("FAQ reloaded (last revision %s, %s)", key[0], key[1].isoformat())

    def readiness(self) -> dict:
        db_ok = True
        db_error = None
        try:
            self.db.ping()
        except DatabaseUnavailable as exc:
            db_ok, db_error = False, str(exc)
        checks = {"database": {"ok": db_ok, "error": db_error, "dialect": self.db.dialect}}
        if self.settings.get("BOT_ENGINE") == "rasa":
            checks["model"] = self.dialogue.rasa.status()
        else:
            self.reload_model_if_changed()
            model = self.engine.model
            checks["model"] = {"ok": model is not None, "version": model.version if model else None, "error": self.model_error}
        if self.settings["WORKER_MODE"] == "redis":
            try:
                self.workers.ping_redis()
                checks["redis"] = {"ok": True, "error": None}
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                checks["redis"] = {"ok": False, "error": f"Không kết nối được Redis: {type(exc).__name__}"}
        return checks


def current_runtime() -> Runtime:
    """The runtime of the Flask app handling the current request (the one accessor)."""
    from flask import current_app

    return current_app.extensions["bot"]
