"""Messenger end to end under load: signed webhooks into the real server, replies out to a fake
Graph API, all on 127.0.0.1. Prints figures; asserts nothing.

Usage:
    .venv/bin/python benchmarks/channels.py [--rate 100] [--seconds 60] [--database-url URL]

Starts `python server.py` (waitress, WORKER_MODE=thread, SQLite in a temporary folder unless
--database-url is given) with Messenger pointed at a local fake Graph API, then posts one signed
webhook per new user at --rate per second for --seconds. Measures the webhook acknowledgement
latency and the end-to-end latency (webhook sent -> reply received by the fake Send API), and
counts lost and duplicated replies.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.loadtools import RestOfMachine, cpu_seconds, pct, peak_rss_mib, wait_for_senders  # noqa: E402
from tests.browser import free_port  # noqa: E402
from tests.fakes.servers import FakeGraph  # noqa: E402

SECRET = "bench-secret"
QUESTIONS = ["xin chào", "nghỉ phép năm được mấy ngày", "lương tối thiểu vùng 2026", "cho em gặp cán bộ",
             "tăng ca chủ nhật tính lương thế nào", "rut bhxh 1 lan duoc khong", "cảm ơn ad"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--workers", type=int, default=0,
                        help="run N `python -m bot worker` processes with WORKER_MODE=redis (0: worker threads in the server)")
    parser.add_argument("--profile", metavar="DIR", default="",
                        help="sample every process with py-spy (must be installed) while messages are sent; collapsed stacks in DIR")
    args = parser.parse_args()
    py_spy = ""
    if args.profile:  # the venv's own py-spy (pip install py-spy), else one on PATH
        beside = Path(sys.executable).with_name("py-spy")
        py_spy = str(beside) if beside.is_file() else shutil.which("py-spy") or ""
        if not py_spy:
            raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
        Path(args.profile).mkdir(parents=True, exist_ok=True)

    graph = FakeGraph()
    received: dict[str, list[float]] = {}
    original = graph.respond

    def respond(rec):
        body = rec.json()
        if "message" in body:
            received.setdefault(body["recipient"]["id"], []).append(time.perf_counter())
        return original(rec)

    graph.respond = respond  # type: ignore[method-assign]
    tmp = tempfile.mkdtemp(prefix="bench-")
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "WORKER_MODE": "redis" if args.workers else "thread",
           "LOG_LEVEL": "WARNING",
           "INSTANCE_DIR": tmp, "DATABASE_URL": args.database_url or f"sqlite:///{tmp}/bench.db",
           "FACEBOOK_APP_SECRET": SECRET, "FACEBOOK_VERIFY_TOKEN": "v", "FACEBOOK_PAGE_ACCESS_TOKEN": "t",
           "FACEBOOK_GRAPH_URL": graph.url + "/v21.0", "SERVER_THREADS": "8"}
    if args.database_url.startswith("postgresql"):  # a fresh schema: earlier runs used the same message ids
        from bot.storage import Database

        Database(args.database_url).drop_all()
    server = subprocess.Popen([sys.executable, "server.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    workers = []
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise SystemExit("server did not become ready: " + server.stderr.read1().decode(errors="replace")[-2000:])
        workers = [subprocess.Popen([sys.executable, "-m", "bot", "worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL) for _ in range(args.workers)]
        wait_for_senders(env["DATABASE_URL"], max(1, args.workers))  # model loaded, heartbeat written: startup CPU not counted

        total = int(args.rate * args.seconds)
        procs = [server, *workers]
        cpu_start = {p.pid: cpu_seconds(p.pid) for p in procs}
        rest = RestOfMachine()
        sent_at: dict[str, float] = {}
        acks: list[float] = []
        errors = 0
        lock = threading.Lock()
        client = httpx.Client(timeout=10, limits=httpx.Limits(max_connections=64))

        def fire(i: int) -> None:
            nonlocal errors
            psid = f"bench-{i}"
            body = {"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": [{
                "sender": {"id": psid}, "recipient": {"id": "PAGE"}, "timestamp": int(time.time() * 1000),
                "message": {"mid": f"mid-{i}", "text": QUESTIONS[i % len(QUESTIONS)]}}]}]}
            raw = json.dumps(body).encode()
            sig = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
            t0 = time.perf_counter()
            with lock:
                sent_at[psid] = t0
            try:
                r = client.post(base + "/webhooks/facebook/webhook", content=raw,
                                headers={"X-Hub-Signature-256": sig, "Content-Type": "application/json"})
                ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            with lock:
                if ok:
                    acks.append((time.perf_counter() - t0) * 1000)
                else:
                    errors += 1

        spies = [subprocess.Popen([py_spy, "record", "--pid", str(p.pid), "--format", "raw", "--gil", "--nonblocking", "--rate", "200",
                                   "-o", str(Path(args.profile) / f"{name}.txt"), "-d", str(int(args.seconds) + 2)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for name, p in [("server", server), *((f"worker{i + 1}", w) for i, w in enumerate(workers))]] if args.profile else []
        print(f"sending {total} signed webhooks at {args.rate:.0f}/s for {args.seconds:.0f} s …", flush=True)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=32) as pool:
            for i in range(total):
                target = start + i / args.rate
                delay = target - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(fire, i)
        send_seconds = time.perf_counter() - start
        wait_until = time.monotonic() + 60
        while time.monotonic() < wait_until and len(received) < total - errors:
            time.sleep(0.2)
        cpu = {p.pid: cpu_seconds(p.pid) - cpu_start[p.pid] for p in procs}
        rest.stop()
        for spy in spies:
            spy.wait(30)
        e2e = [(received[p][0] - sent_at[p]) * 1000 for p in received if p in sent_at]
        lost = total - errors - len(received)
        duplicated = sum(len(v) - 1 for v in received.values())
        print(f"offered rate: {total / send_seconds:.1f} messages/s over {send_seconds:.1f} s")
        print(f"webhook acknowledgement: p50 {statistics.median(acks):.1f} ms, p95 {pct(acks, 0.95):.1f} ms, "
              f"p99 {pct(acks, 0.99):.1f} ms, max {max(acks):.1f} ms ({len(acks)} acknowledged, {errors} failed)")
        print(f"end to end (webhook sent -> reply at fake Send API): p50 {statistics.median(e2e):.0f} ms, "
              f"p95 {pct(e2e, 0.95):.0f} ms, p99 {pct(e2e, 0.99):.0f} ms, max {max(e2e):.0f} ms")
        print(f"lost: {lost}, duplicated: {duplicated}")
        handled = max(1, total - errors)
        print(f"CPU per message (process user+system time over the run / messages): server {1000 * cpu[server.pid] / handled:.1f} ms"
              + "".join(f", worker {i + 1} {1000 * cpu[w.pid] / handled:.1f} ms" for i, w in enumerate(workers))
              + f"; total {1000 * sum(cpu.values()) / handled:.1f} ms (the database server's own CPU not counted)")
        print(f"peak memory (VmHWM): server {peak_rss_mib(server.pid):.0f} MiB"
              + "".join(f", worker {i + 1} {peak_rss_mib(w.pid):.0f} MiB" for i, w in enumerate(workers)))
        print(rest.line(handled))
        print(f"mode: {'WORKER_MODE=redis with ' + str(args.workers) + ' worker process(es)' if args.workers else 'worker threads in the server'}, "
              f"database {env['DATABASE_URL'].split('://')[0]}")
    finally:
        for w in workers:
            w.terminate()
        server.terminate()
        server.wait(10)
        graph.close()


if __name__ == "__main__":
    main()
