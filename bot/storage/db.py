"""The database: engine, sessions, schema migrations and health check.

SQLite (the embedded default) is tuned for a multi-threaded server: WAL journal, a busy timeout and
``BEGIN IMMEDIATE`` write transactions so concurrent writers wait instead of failing. PostgreSQL is
used as is; workers claim rows with ``FOR UPDATE SKIP LOCKED`` there.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

WRITE_LOCK_TIMEOUT = 30.0  # seconds a writer waits for SQLite's write lock
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 7_316_028_401  # any constant: the advisory lock that serialises migrations


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; the message is safe to show to an operator."""


def _redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is reported as is, without secrets
        return "<URL không hợp lệ>"


class Database:
    def __init__(self, url: str, echo: bool = False):
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        # hide_parameters: a failed statement's exception text never quotes the values (a worker's
        # message, a phone number), so it is safe to log.
        # No pool_pre_ping: a ping is one more round trip on every checkout (several per message).
        # After a database restart the first statement on a dead pooled connection fails instead;
        # SQLAlchemy then drops the whole pool, the caller reports DatabaseUnavailable (a webhook
        # answers 503 and the platform redelivers; workers retry), and the next checkout reconnects.
        kwargs: dict = {"echo": echo, "hide_parameters": True, "pool_recycle": 1800}
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_timeout=10)
        self.engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            # Writers take the lock up front (BEGIN IMMEDIATE) so concurrent writers queue instead
            # of failing; readers use a second engine with plain BEGIN and never block writers (WAL).
            self.read_engine = create_engine(url, **kwargs)
            self._tune_sqlite(self.engine, immediate=True, busy_ms=0)
            self._tune_sqlite(self.read_engine, immediate=False)
        else:
            self.read_engine = self.engine
        self._write_lock = threading.RLock()
        # One statement that commits as it runs (``statement``): no BEGIN and COMMIT round trips.
        self._autocommit = None if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)


    @staticmethod
    def _tune_sqlite(engine, immediate: bool, busy_ms: int = 30000) -> None:
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection):
            if not immediate:
                connection.exec_driver_sql("BEGIN")
                return
            # The write lock is taken here, once per transaction. SQLite's own busy handler sleeps
            # up to 100 ms between tries; retrying every half millisecond keeps waits short.
            deadline = time.monotonic() + WRITE_LOCK_TIMEOUT
            while True:
                try:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                    return
                except OperationalError as exc:
                    if "locked" not in str(exc.orig).lower() or time.monotonic() > deadline:
                        raise
                    time.sleep(0.0005)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def insert_ignoring(self, model, values: dict | None, unique: list[str]):
        """INSERT … ON CONFLICT (unique) DO NOTHING for this backend (SQLite or PostgreSQL)."""
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        stmt = insert(model) if values is None else insert(model).values(**values)  # None: values given at execution
        return stmt.on_conflict_do_nothing(index_elements=unique)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A write session in a transaction: committed on success, rolled back on error.

        On SQLite, writers of this process queue on a lock first (cheap, no spinning); the
        BEGIN IMMEDIATE retry loop then only arbitrates between processes."""
        if self.is_sqlite:
            with self._write_lock:
                with self._write_session() as session:
                    yield session
        else:
            with self._write_session() as session:
                yield session

    @contextmanager
    def _write_session(self) -> Iterator[Session]:
        session = self.sessions()
        try:
            with session.begin():
                yield session
        except (OperationalError, DBAPIError) as exc:
            self._raise_if_unavailable(exc)
            raise
        finally:
            session.close()

    def _raise_if_unavailable(self, exc: DBAPIError) -> None:
        """A failed statement whose connection is gone becomes ``DatabaseUnavailable`` (its text is
        safe to show: no parameters); other errors are the caller's to re-raise."""
        if getattr(exc, "connection_invalidated", False) or isinstance(exc, OperationalError):
            raise DatabaseUnavailable(f"Không kết nối được cơ sở dữ liệu ({_redact(self.url)}): {exc.orig.__class__.__name__}") from exc

    @contextmanager
    def statement(self) -> Iterator[Connection]:
        """A connection for ONE write statement that stands alone (it commits as it runs): on
        PostgreSQL in autocommit mode, which saves the BEGIN and COMMIT round trips of a
        transaction; on SQLite an ordinary write transaction. Errors as for ``session``."""
        if self._autocommit is None:
            with self.session() as session:
                yield session.connection()
            return
        try:
            with self._autocommit.connect() as conn:
                yield conn
        except (OperationalError, DBAPIError) as exc:
            self._raise_if_unavailable(exc)
            raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (never takes SQLite's write lock)."""
        session = self.read_sessions()
        try:
            yield session
        except (OperationalError, DBAPIError) as exc:
            self._raise_if_unavailable(exc)
            raise
        finally:
            session.close()  # ends the transaction; loaded objects stay readable (detached, not expired)

    def ping(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                conn.rollback()
        except (OperationalError, DBAPIError) as exc:
            raise DatabaseUnavailable(f"Không kết nối được cơ sở dữ liệu ({_redact(self.url)})") from exc

    def upgrade(self) -> None:
        """Create or migrate the schema to the latest version (Alembic ``upgrade head``).

        Several processes may start at once on a new database (N web processes and M workers):
        they take turns under a lock (a PostgreSQL advisory lock, a file lock beside a SQLite
        file), so the second finds the schema already at head instead of racing the first's
        CREATE TABLEs."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self._migration_lock(), self.engine.connect() as conn:
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                    conn.commit()
                try:
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
                    conn.commit()
                finally:
                    if self.dialect == "postgresql":
                        conn.rollback()
                        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                        conn.commit()
        except OperationalError as exc:
            raise DatabaseUnavailable(f"Không kết nối được cơ sở dữ liệu ({_redact(self.url)})") from exc
        except DBAPIError as exc:
            raise DatabaseUnavailable(
                f"Không nâng cấp được lược đồ cơ sở dữ liệu ({_redact(self.url)}): {exc.orig.__class__.__name__}") from exc

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """Between processes on one machine sharing a SQLite file: an exclusive file lock."""
        database = make_url(self.url).database
        if not self.is_sqlite or not database or database == ":memory:":
            yield
            return
        with open(f"{database}.migrate-lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def drop_all(self) -> None:
        """Drop every table, including Alembic's version table (tests only)."""
        from .models import Base

        with self.engine.begin() as conn:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))

    def truncate_all(self) -> None:
        """Delete every row but keep the schema (tests only: much faster than dropping)."""
        from .models import Base

        tables = [t.name for t in Base.metadata.sorted_tables]
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for name in reversed(tables):
                    conn.execute(text(f"DELETE FROM {name}"))

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
