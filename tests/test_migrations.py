"""The Alembic migrations build exactly the schema the models describe (SQLite and PostgreSQL)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.storage.models import Base


def test_migrations_match_the_models(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == []


def test_processes_starting_at_once_on_a_new_database_take_turns_migrating(database_url, tmp_path):
    """N web processes and M workers started together on an empty database: each migrates or finds
    the schema at head; none fails on the other's CREATE TABLE (once "server exited")."""
    import subprocess
    import sys
    import time
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bot.storage import Database

    schema = None
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        schema = f"race_{uuid.uuid4().hex[:8]}"
        admin = create_engine(database_url)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    try:
        go = tmp_path / "go"  # every process imports first, then all start migrating at the same moment
        code = ("import os, sys, time; from bot.storage import Database; db = Database(sys.argv[1])\n"
                "while not os.path.exists(sys.argv[2]): time.sleep(0.005)\n"
                "db.upgrade()")
        procs = [subprocess.Popen([sys.executable, "-c", code, url, str(go)], stderr=subprocess.PIPE, text=True) for _ in range(4)]
        time.sleep(3)
        go.touch()
        results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
        assert [rc for rc, _ in results] == [0, 0, 0, 0], results
        fresh = Database(url)
        with fresh.engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
        fresh.dispose()
        assert len(versions) == 1 and diff == []
    finally:
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
