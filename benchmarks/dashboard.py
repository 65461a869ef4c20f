"""Officer dashboard speed: the queue page with 5,000 open tickets, reports over 100,000 tickets, and the
KPI page over 500,000 worker messages (two years).
Prints figures; asserts nothing.

Usage:
    .venv/bin/python benchmarks/dashboard.py                                  # SQLite in a temp folder
    .venv/bin/python benchmarks/dashboard.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
      (the PostgreSQL database is emptied first)

Server time is measured around the Flask test client's request (no network), median and max of
several runs after one warm-up.
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

from sqlalchemy import insert  # noqa: E402

from benchmarks.loadtools import dashboard_login, timed_get  # noqa: E402
from bot.handoff import officers as officer_ops  # noqa: E402
from bot.storage import Database  # noqa: E402
from bot.storage.models import Conversation, Message, Ticket  # noqa: E402
from server import create_app  # noqa: E402

TOPICS = ["nghi_phep_nam", "bhxh_mot_lan", "tra_luong_dung_han", "thai_san_lao_dong_nu", "bhtn", None]


def seed(db: Database, open_tickets: int, closed_tickets: int) -> None:
    rng = random.Random(1)
    now = dt.datetime.now(dt.timezone.utc)
    with db.session() as s:
        s.execute(insert(Conversation), [{"channel": ("messenger", "zalo", "web")[i % 3], "user_id": f"u{i}", "slots": {}, "replies_since_user_message": 0,
                                          "followed": True, "created_at": now} for i in range(1000)])
    batch = []
    total = open_tickets + closed_tickets
    for i in range(total):
        created = now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 365))
        is_open = i < open_tickets
        first = None if is_open else created + dt.timedelta(minutes=rng.randint(5, 60 * 30))
        batch.append({
            "code": f"CD-{i:06d}", "conversation_id": 1 + i % 1000, "channel": rng.choice(["messenger", "zalo", "web"]),
            "user_id": f"u{i % 1000}", "question": f"Câu hỏi thử nghiệm số {i} về quyền lợi người lao động",
            "reason": "request_human", "topic": rng.choice(TOPICS), "confidence": 0.5, "priority": "high" if i % 10 == 0 else "normal",
            "status": rng.choice(["open", "assigned"]) if is_open else "resolved", "tags": [], "created_at": created,
            "due_at": created + dt.timedelta(hours=24), "first_response_at": first, "resolved_at": first, "updated_at": created,
        })
        if len(batch) == 5000:
            with db.session() as s:
                s.execute(insert(Ticket), batch)
            batch = []
    if batch:
        with db.session() as s:
            s.execute(insert(Ticket), batch)


def seed_messages(db: Database, count: int) -> None:
    """Worker messages over the last two years: answered by the bot, not understood, or other turns."""
    rng = random.Random(2)
    now = dt.datetime.now(dt.timezone.utc)
    actions = ["answer"] * 6 + ["fallback", "smalltalk", "clarify", "listen"]
    for first in range(0, count, 10_000):
        with db.session() as s:
            s.execute(insert(Message), [{"conversation_id": 1 + rng.randrange(1000), "direction": "in", "author": "worker",
                                         "text": "Cho em hỏi về chế độ nghỉ phép năm", "action": rng.choice(actions),
                                         "created_at": now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 730))}
                                        for _ in range(min(10_000, count - first))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--open", type=int, default=5000)
    parser.add_argument("--closed", type=int, default=95_000)
    parser.add_argument("--messages", type=int, default=500_000)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="queue-bench-")
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    db = Database(url)
    db.drop_all()
    db.upgrade()
    t0 = time.perf_counter()
    seed(db, args.open, args.closed)
    seed_messages(db, args.messages)
    print(f"seeded {args.open} open + {args.closed} resolved tickets, {args.messages} messages in {time.perf_counter() - t0:.1f} s ({url.split(':')[0]})")
    with db.session() as s:
        officer_ops.create(s, "bench@congdoan.vn", "Bench", "admin", "mat-khau-benchmark")
    db.dispose()
    app = create_app({"DATABASE_URL": url, "WORKER_MODE": "none", "INSTANCE_DIR": tmp, "LOG_LEVEL": "WARNING"})
    client = dashboard_login(app, "bench@congdoan.vn", "mat-khau-benchmark")
    for label, path in [
        ("queue page (open tickets, first page of 100, sorted by deadline)", "/dashboard/"),
        ("queue page with all 5,000 open tickets on one page (?size=5000)", "/dashboard/?size=5000"),
        ("queue page filtered (high priority, messenger)", "/dashboard/?priority=high&channel=messenger"),
        ("queue page search ('số 4999')", "/dashboard/?q=s%E1%BB%91%204999"),
        ("report page, last 365 days, by month (100k tickets)", "/dashboard/reports?grain=month&from="
         + (dt.date.today() - dt.timedelta(days=365)).isoformat()),
        ("report CSV, last 365 days, by day", "/dashboard/reports.csv?from=" + (dt.date.today() - dt.timedelta(days=365)).isoformat()),
        ("KPI page, last 12 months (+ the 12 before for year-on-year)", "/dashboard/kpi"),
        ("KPI CSV, 24 months", "/dashboard/kpi.csv?from=" + f"{dt.date.today().year - 2}-{dt.date.today().month:02d}"),
    ]:
        median, _, worst, status, _ = timed_get(client, path, 7)
        print(f"{label}: median {median:.0f} ms, max {worst:.0f} ms (HTTP {status})")
    app.extensions["bot"].shutdown()


if __name__ == "__main__":
    main()
