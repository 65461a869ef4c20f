"""`python -m bot shell` and the Redis-backed `worker`."""

import contextlib
import threading
import time

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.config import Settings
from bot.storage.models import OutboxMessage

from .conftest import fb_body, fb_post, fb_text


def test_shell_keeps_context_and_numbers_buttons(runner, project_models_dir):
    result = runner.invoke(main, ["shell"], input="lương tối thiểu vùng 2026\n1\n/exit\n", env={"MODELS_DIR": str(project_models_dir)})
    assert result.exit_code == 0, result.output
    assert "5.310.000" in result.output
    assert "[1] Hữu ích 👍" in result.output
    assert "Cảm ơn bạn đã phản hồi" in result.output


def web_and_worker(make_app, channel_config, resources, **overrides):
    """A web process (stores and pushes Redis wake-ups, processes nothing) and a worker runtime on
    the same database, with the Redis wake-up lists emptied."""
    import redis

    from bot.engine import Engine
    from bot.runtime import Runtime
    from bot.workers import INBOX_KEY, OUTBOX_KEY
    from tests.fakes.nlu import ScriptedNLU

    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    client.delete(INBOX_KEY, OUTBOX_KEY)
    config = {**channel_config, "WORKER_MODE": "redis", "REDIS_URL": "redis://127.0.0.1:6379/0", **overrides}
    app = make_app(config)
    worker = Runtime(Settings.load(config), engine=Engine(ScriptedNLU(), resources)).prepare()
    return app, worker, client


@contextlib.contextmanager
def running(worker, start: bool = True):
    """``worker.workers.run_forever`` on a thread (started now, or by the caller: ``thread.start()``)."""
    stop = threading.Event()
    thread = threading.Thread(target=worker.workers.run_forever, args=(stop,), daemon=True)
    if start:
        thread.start()
    try:
        yield thread
    finally:
        stop.set()
        if thread.is_alive():
            thread.join(5)
        worker.shutdown()


@pytest.mark.slow
def test_redis_worker_processes_what_the_server_accepted(make_app, channel_config, fake_graph, resources):
    app, worker, _ = web_and_worker(make_app, channel_config, resources)
    with running(worker, start=False) as thread:
        assert fb_post(app.test_client(), fb_body(fb_text("redis-user", "redis-1", "xin chào"))).status_code == 200
        thread.start()
        got = fake_graph.wait_for(1, "/me/messages", timeout=15)
        assert [r.json()["recipient"]["id"] for r in got] == ["redis-user"]
        deadline = time.monotonic() + 10  # the fake receives the reply just before the row is settled
        status = None
        while time.monotonic() < deadline and status != "sent":
            with worker.db.read() as s:
                status = s.scalars(select(OutboxMessage)).one().status
            time.sleep(0.05)
        assert status == "sent"


@pytest.mark.slow
def test_a_held_back_message_does_not_wait_for_the_sweep(make_app, channel_config, fake_graph, resources, monkeypatch):
    """A person's second message arrives while the first is being answered; its Redis wake-up goes
    to another worker, which finds it held back behind the first and sleeps. The worker that
    answered the first must look again at once (the sweep is made 30 s long here to show it)."""
    from bot import workers as workers_module
    from bot.workers import INBOX_KEY

    monkeypatch.setattr(workers_module, "SWEEP_SECONDS", 30.0)
    app, worker, client = web_and_worker(make_app, channel_config, resources)
    if worker.db.is_sqlite:  # SQLite's write lock is database-wide: the second webhook would wait for the first turn
        worker.shutdown()
        pytest.skip("several workers are a PostgreSQL layout")
    real_act, in_first_turn, release = worker.engine.act, threading.Event(), threading.Event()

    def slow_first_turn(*args, **kwargs):
        if not in_first_turn.is_set():
            in_first_turn.set()
            release.wait(10)
        return real_act(*args, **kwargs)

    monkeypatch.setattr(worker.engine, "act", slow_first_turn)
    try:
        with running(worker):
            web = app.test_client()
            assert fb_post(web, fb_body(fb_text("held-user", "held-1", "xin chào"))).status_code == 200
            assert in_first_turn.wait(10)
            assert fb_post(web, fb_body(fb_text("held-user", "held-2", "xin chào"))).status_code == 200
            assert client.rpop(INBOX_KEY) is not None  # the other worker took the second wake-up
            release.set()
            got = fake_graph.wait_for(2, "/me/messages", timeout=10)
            assert [r.json()["recipient"]["id"] for r in got] == ["held-user", "held-user"]
    finally:
        release.set()


@pytest.mark.slow
def test_messages_arriving_within_the_linger_share_one_round(make_app, channel_config, fake_graph, resources):
    """WORKER_LINGER_MS: a worker woken by a message waits that long, so the messages that arrive
    meanwhile are claimed and answered in the same transaction (one claim marks them done together)."""
    from bot.storage.models import InboxEvent
    from bot.workers import INBOX_KEY

    app, worker, client = web_and_worker(make_app, channel_config, resources, WORKER_LINGER_MS=500)
    if worker.db.is_sqlite:
        worker.shutdown()
        pytest.skip("one transaction for several turns is the PostgreSQL path")
    with running(worker):
        web = app.test_client()
        assert fb_post(web, fb_body(fb_text("linger-0", "linger-0", "xin chào"))).status_code == 200
        deadline = time.monotonic() + 5
        while client.llen(INBOX_KEY) and time.monotonic() < deadline:  # the worker has woken up for it
            time.sleep(0.005)
        for k in (1, 2):  # well within the 0.5 s linger
            assert fb_post(web, fb_body(fb_text(f"linger-{k}", f"linger-{k}", "xin chào"))).status_code == 200
        got = fake_graph.wait_for(3, "/me/messages", timeout=10)
        assert sorted(r.json()["recipient"]["id"] for r in got) == ["linger-0", "linger-1", "linger-2"]
        with worker.db.read() as s:
            assert len(set(s.scalars(select(InboxEvent.processed_at)))) == 1  # claimed and done together
