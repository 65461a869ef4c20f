"""Storage: SQLAlchemy models, the Database wrapper and Alembic migrations."""

from .db import Database, DatabaseUnavailable  # noqa: F401
