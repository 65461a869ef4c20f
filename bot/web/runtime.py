"""Everything the web app shares between requests: settings, database, engine, workers."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from ..config import Settings
from ..engine import Engine
from ..nlu.model import ModelError, ModelRegistry
from ..storage import Database, DatabaseUnavailable

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
        pass

    def shutdown(self) -> None:
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
