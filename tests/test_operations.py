"""Operations: /metrics, readiness with Redis, a clean stop on SIGTERM, a start that fails clearly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.browser import free_port

from .conftest import fb_body, fb_post, fb_text

ROOT = Path(__file__).resolve().parent.parent


def test_metrics_count_what_happened(channel_app, fake_graph):
    client = channel_app.test_client()
    fb_post(client, fb_body(fb_text("m-1", "mid-m1", "xin chào"), fb_text("m-2", "mid-m2", "cho em gặp cán bộ")))
    channel_app.extensions["bot"].workers.drain()
    channel_app.extensions["bot"].engine.parse("nghỉ phép năm")  # one NLU observation in this process
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert 'congdoan_messages_received_total{channel="messenger"} 2.0' in text
    assert 'congdoan_replies_sent_total{author="bot",channel="messenger"} 2.0' in text
    assert 'congdoan_handoffs_total{reason="request_human"} 1.0' in text
    assert 'congdoan_tickets{state="open"} 1.0' in text
    assert 'congdoan_inbox{status="done"} 2.0' in text
    assert "congdoan_nlu_parse_seconds_count" in text and "congdoan_database_up 1.0" in text
    assert "xin chào" not in text  # counts only


def test_metrics_closed_to_other_hosts_unless_token(make_app, channel_config):
    open_app = make_app(channel_config).test_client()
    assert open_app.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.5"}).status_code == 403
    guarded = make_app({**channel_config, "METRICS_TOKEN": "metrics-secret"}).test_client()
    assert guarded.get("/metrics").status_code == 401
    ok = guarded.get("/metrics", headers={"Authorization": "Bearer metrics-secret"}, environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert ok.status_code == 200


def test_metrics_with_the_database_down(make_app, channel_config):
    app = make_app({**channel_config, "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1"})
    response = app.test_client().get("/metrics")
    assert response.status_code == 200 and "congdoan_database_up 0.0" in response.get_data(as_text=True)


def test_readiness_checks_redis_in_redis_mode(make_app, channel_config):
    up = make_app({**channel_config, "WORKER_MODE": "redis", "REDIS_URL": "redis://127.0.0.1:6379/0"}).test_client().get("/readyz")
    assert up.status_code == 200 and up.get_json()["checks"]["redis"]["ok"]
    down = make_app({**channel_config, "WORKER_MODE": "redis", "REDIS_URL": "redis://127.0.0.1:1/0"}).test_client().get("/readyz")
    assert down.status_code == 503 and not down.get_json()["checks"]["redis"]["ok"]


def _server(tmp_path, **extra):
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "INSTANCE_DIR": str(tmp_path), "WORKER_MODE": "thread",
           "DATABASE_URL": f"sqlite:///{tmp_path}/ops.db", "MODELS_DIR": str(tmp_path / "models"), "LOG_LEVEL": "INFO", **extra}
    proc = subprocess.Popen([sys.executable, "server.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc, f"http://127.0.0.1:{port}"


@pytest.mark.slow
def test_sigterm_stops_cleanly_and_hands_back_work(tmp_path):
    proc, base = _server(tmp_path)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        time.sleep(1.5)  # the outbox heartbeat has been written
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    from bot.storage import Database
    from bot.storage.models import Process

    db = Database(f"sqlite:///{tmp_path}/ops.db")
    with db.read() as s:
        assert s.query(Process).count() == 0  # the heartbeat row is removed: nobody waits for this process
    db.dispose()


@pytest.mark.slow
def test_database_unreachable_at_start_is_a_clear_error(tmp_path):
    proc, _ = _server(tmp_path, DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1")
    assert proc.wait(60) == 2
    assert "Không khởi động được" in proc.stderr.read().decode()


@pytest.mark.slow
def test_worker_with_redis_unreachable_at_start_is_a_clear_error(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/w.db", "MODELS_DIR": str(tmp_path / "models"),
           "WORKER_MODE": "redis", "REDIS_URL": "redis://127.0.0.1:1/0"}
    done = subprocess.run([sys.executable, "-m", "bot", "worker"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Redis" in done.stderr


@pytest.mark.slow
def test_kill_9_under_send_api_faults_loses_nothing(tmp_path, project_models_dir):
    """The short version of benchmarks/faults.py: Send API faults, the server killed with SIGKILL
    mid-run and restarted on the same database; every message answered, at most one duplicate per
    sending thread, replies in order."""
    import re

    from bot.workers import OUTBOX_THREADS

    run = subprocess.run([sys.executable, "benchmarks/faults.py", "--users", "10", "--per-user", "6", "--rate", "10",
                          "--kill-after", "3", "--drain-timeout", "60"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "MODELS_DIR": str(project_models_dir)})  # a fresh clone has no models/ of its own
    out = run.stdout
    assert run.returncode == 0, run.stderr[-2000:]
    lost, duplicated, disorder = map(int, re.search(r"lost: (\d+), duplicated: (\d+), replies out of order: (\d+)", out).groups())
    assert "accepted 60 of 60" in out and "killed server" in out
    assert lost == 0 and duplicated <= OUTBOX_THREADS and disorder == 0
    assert "everything delivered" in out
