"""`python -m bot shell` and the Redis-backed `worker`."""

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


@pytest.mark.slow
def test_redis_worker_processes_what_the_server_accepted(make_app, channel_config, fake_graph, resources):
    import redis

    from bot.engine import Engine
    from bot.runtime import Runtime
    from bot.workers import INBOX_KEY, OUTBOX_KEY
    from tests.fakes.nlu import ScriptedNLU

    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    client.delete(INBOX_KEY, OUTBOX_KEY)
    config = {**channel_config, "WORKER_MODE": "redis", "REDIS_URL": "redis://127.0.0.1:6379/0"}
    app = make_app(config)  # the web process: stores and pushes a wake-up, processes nothing
    worker = Runtime(Settings.load(config), engine=Engine(ScriptedNLU(), resources)).prepare()
    stop = threading.Event()
    thread = threading.Thread(target=worker.workers.run_forever, args=(stop,), daemon=True)
    try:
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
    finally:
        stop.set()
        thread.join(5)
        worker.shutdown()
