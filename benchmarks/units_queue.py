"""Queue page of a federation: 50 units and 20,000 open tickets, for an officer of one unit and for the root.
Prints figures (p50, p95, max); asserts nothing. Target: p95 <= 300 ms for both.

Usage:
    .venv/bin/python benchmarks/units_queue.py                       # SQLite in a temp folder
    .venv/bin/python benchmarks/units_queue.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_units
      (the PostgreSQL database is created if missing and emptied first)

Server time is measured around the Flask test client's request (no network), after one warm-up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from benchmarks.loadtools import dashboard_login, timed_get  # noqa: E402
from bot import units  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.handoff import officers as officer_ops  # noqa: E402
from bot.storage import Database  # noqa: E402
from bot.storage.models import Conversation, Ticket, Unit  # noqa: E402
from server import create_app  # noqa: E402

PASSWORD = "mat-khau-benchmark"


def ensure_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def seed(db: Database, n_units: int, open_tickets: int) -> tuple[int, int]:
    """A root, district-level unions under it and grassroots unions under those; tickets spread over
    all units. Returns (a grassroots unit id, its number of open tickets)."""
    rng = random.Random(1)
    now = dt.datetime.now(dt.timezone.utc)
    with db.session() as s:
        root = units.root_unit(s, Settings.load())
        districts = [units.create_unit(s, f"Liên đoàn Lao động quận {i}", f"LĐLĐ Q{i}", root.id) for i in range(1, 8)]
        unit_ids = [root.id] + [d.id for d in districts]
        for i in range(n_units - len(unit_ids)):
            unit_ids.append(units.create_unit(s, f"Công đoàn cơ sở số {i}", f"CĐCS {i}", districts[i % len(districts)].id).id)
    with db.session() as s:
        s.execute(insert(Conversation), [{"channel": ("messenger", "zalo", "web")[i % 3], "user_id": f"u{i}", "slots": {},
                                          "replies_since_user_message": 0, "followed": True, "created_at": now,
                                          "unit_id": unit_ids[i % len(unit_ids)]} for i in range(2000)])
    batch = []
    for i in range(open_tickets):
        created = now - dt.timedelta(minutes=rng.randint(0, 60 * 48))
        conv = i % 2000
        batch.append({
            "code": f"CD-{i:06d}", "conversation_id": 1 + conv, "channel": ("messenger", "zalo", "web")[conv % 3], "user_id": f"u{conv}",
            "question": f"Câu hỏi thử nghiệm số {i} về quyền lợi người lao động", "reason": "request_human", "confidence": 0.5,
            "priority": "high" if rng.random() < 0.1 else "normal", "status": rng.choice(["open", "assigned"]), "tags": [],
            "created_at": created, "due_at": created + dt.timedelta(hours=24), "updated_at": created,
            "unit_id": unit_ids[conv % len(unit_ids)],
        })
        if len(batch) == 5000:
            with db.session() as s:
                s.execute(insert(Ticket), batch)
            batch = []
    if batch:
        with db.session() as s:
            s.execute(insert(Ticket), batch)
    grassroots = unit_ids[-1]
    with db.read() as s:
        count = s.scalar(select(Ticket.id).where(Ticket.unit_id == grassroots).with_only_columns(text("count(*)")))
    return grassroots, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--open", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="units-bench-")
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    ensure_database(url)
    db = Database(url)
    db.drop_all()
    db.upgrade()
    t0 = time.perf_counter()
    grassroots, own = seed(db, args.units, args.open)
    with db.session() as s:
        n_units = len(s.scalars(select(Unit.id)).all())
        officer_ops.create(s, "root@congdoan.vn", "Quản trị", "admin", PASSWORD)
        member = officer_ops.create(s, "coso@congdoan.vn", "Cán bộ cơ sở", "officer", PASSWORD)
        units.add_member(s, member, grassroots, "officer")
    print(f"seeded {n_units} units, {args.open} open tickets ({own} in the officer's unit) in {time.perf_counter() - t0:.1f} s "
          f"({url.split(':')[0]})")
    db.dispose()
    app = create_app({"DATABASE_URL": url, "WORKER_MODE": "none", "INSTANCE_DIR": tmp, "LOG_LEVEL": "WARNING"})
    for who, email in (("officer of one grassroots unit", "coso@congdoan.vn"), ("root admin (all 50 units)", "root@congdoan.vn")):
        client = dashboard_login(app, email, PASSWORD)
        for label, path in (("queue, first page of 100 by deadline", "/dashboard/"),
                            ("queue filtered (high priority)", "/dashboard/?priority=high"),
                            ("report per unit (30 days)", "/dashboard/units/report")):
            median, p95, worst, status, size = timed_get(client, path, args.runs)
            print(f"{who}: {label}: p50 {median:.0f} ms, p95 {p95:.0f} ms, max {worst:.0f} ms (HTTP {status}, {size // 1024} KiB)")
    app.extensions["bot"].shutdown()


if __name__ == "__main__":
    main()
