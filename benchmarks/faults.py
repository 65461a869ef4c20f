"""Messenger under Send API faults and a crash: delivered, not lost, not answered twice. Prints figures.

Usage:
    .venv/bin/python benchmarks/faults.py [--users 60] [--per-user 10] [--rate 20]
        [--fail500 0.10] [--fail429 0.05] [--hang 0.02] [--kill-after 10] [--kill server|worker]
        [--database-url URL] [--workers N] [--servers N] [--db-outage S | --redis-outage S]

Starts `python server.py` (and N `python -m bot worker` processes with WORKER_MODE=redis when
--workers is given) against a local fake Graph API that fails a share of Send API calls with 500,
with 429, or hangs past the HTTP timeout. Each of --users workers sends --per-user messages (one
reply each) at --rate messages/s in total, signed like Facebook. After --kill-after seconds the
server (or one worker) is killed with SIGKILL and restarted on the same database within about
2 s; webhooks refused meanwhile are redelivered, as the platform does. With --servers N, N web
processes run at once and the script spreads webhooks over them round-robin, as a proxy would (a
refused delivery is retried on the next one). --db-outage / --redis-outage cut PostgreSQL / Redis
(through a local TCP proxy) for that many seconds at --kill-after instead of killing a process.

Prints: accepted messages, replies delivered, lost (no reply), duplicated (more replies than
messages for a user), replies out of order, end-to-end latency (webhook first sent -> reply
accepted by the fake Send API) p50/p95/p99/max, how long after the last message everything was
delivered, and the CPU time of the server and worker processes per message.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.loadtools import RestOfMachine, cpu_seconds, pct, wait_for_senders  # noqa: E402
from tests.browser import free_port  # noqa: E402
from tests.fakes.servers import FakeGraph  # noqa: E402

SECRET = "bench-secret"
HTTP_TIMEOUT = 2.0
# Button payloads that get exactly one reply each, whatever came before, and a reply that says
# which message it answers (each entry's answer is different): replies are matched to messages
# exactly, so a lost reply and a duplicate of another one cannot hide each other.
FAQ_IDS = ["nghi_phep_nam", "luong_toi_thieu_vung", "bhxh_mot_lan", "tro_cap_thoi_viec", "nghi_le_tet",
           "thu_viec_thoi_gian", "lam_them_gio_gioi_han", "bhtn", "nghi_viec_rieng", "hdld_loai_hinh_thuc"]
TEXTS = [f"/faq/{faq_id}" for faq_id in FAQ_IDS]


class FaultyGraph(FakeGraph):
    def __init__(self, fail500: float, fail429: float, hang: float, seed: int = 7):
        super().__init__()
        self.p500, self.p429, self.phang = fail500, fail429, hang
        self.rng = random.Random(seed)
        self.delivered: dict[str, list[tuple[float, str]]] = defaultdict(list)
        self.faults_injected = defaultdict(int)
        self.glock = threading.Lock()

    def respond(self, rec):
        body = rec.json()
        if "message" not in body:
            return super().respond(rec)
        with self.glock:
            r = self.rng.random()
        if r < self.phang:
            self.faults_injected["hang"] += 1
            time.sleep(HTTP_TIMEOUT + 1.0)  # the server gives up first: not delivered
            return 500, {"error": {"message": "timeout"}}
        if r < self.phang + self.p500:
            self.faults_injected["500"] += 1
            return 500, {"error": {"message": "injected", "code": 2}}
        if r < self.phang + self.p500 + self.p429:
            self.faults_injected["429"] += 1
            return 429, {"error": {"message": "rate", "code": 4}}
        with self.glock:
            self.delivered[body["recipient"]["id"]].append((time.perf_counter(), body["message"].get("text", "")))
        return super().respond(rec)


class TcpProxy:
    """127.0.0.1:<port> -> target; ``outage(seconds)`` cuts every connection and refuses new ones."""

    def __init__(self, target_host: str, target_port: int):
        import socket

        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.down = threading.Event()
        self.conns: list = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import socket

        while True:
            client, _ = self.listener.accept()
            if self.down.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.close()
                except OSError:
                    pass

    def outage(self, seconds: float) -> None:
        import socket

        self.down.set()
        with self.lock:
            for sock in self.conns:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.conns.clear()
        time.sleep(seconds)
        self.down.clear()


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server exited; see its log in the temporary folder")
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--fail500", type=float, default=0.10)
    parser.add_argument("--fail429", type=float, default=0.05)
    parser.add_argument("--hang", type=float, default=0.02)
    parser.add_argument("--kill-after", type=float, default=10.0, help="seconds into the run; 0: no kill")
    parser.add_argument("--kill", choices=("server", "worker"), default="server")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument("--db-outage", type=float, default=0.0,
                        help="seconds the PostgreSQL connection is cut (through a local TCP proxy) at --kill-after; with --kill-after "
                             "and --db-outage the database goes away instead of a process being killed")
    parser.add_argument("--redis-outage", type=float, default=0.0,
                        help="seconds Redis is cut (through a local TCP proxy) at --kill-after; needs --workers")
    parser.add_argument("--servers", type=int, default=1, help="web processes at once (round-robin over their ports)")
    args = parser.parse_args()
    if args.redis_outage and not args.workers:
        raise SystemExit("--redis-outage needs --workers N (Redis is used in WORKER_MODE=redis)")
    if args.servers > 1 and not args.workers:
        raise SystemExit("--servers N needs --workers M (several web processes share the work through Redis)")
    if args.per_user > len(FAQ_IDS):
        raise SystemExit(f"--per-user is at most {len(FAQ_IDS)} (one distinct question per message of a user)")
    proxy = None
    if args.db_outage:
        from sqlalchemy.engine import make_url

        if not args.database_url.startswith("postgresql"):
            raise SystemExit("--db-outage needs --database-url postgresql+psycopg://…")
        url = make_url(args.database_url)
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)

    graph = FaultyGraph(args.fail500, args.fail429, args.hang)
    tmp = tempfile.mkdtemp(prefix="faults-")
    ports = [free_port() for _ in range(args.servers)]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    redis_proxy = None
    if args.redis_outage:
        from urllib.parse import urlsplit

        parts = urlsplit(redis_url)
        redis_proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
        redis_url = f"redis://127.0.0.1:{redis_proxy.port}{parts.path or '/0'}"
        proxy = redis_proxy
    db_url = args.database_url or f"sqlite:///{tmp}/bench.db"
    if args.db_outage:
        from sqlalchemy.engine import make_url

        db_url = make_url(args.database_url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    env = {**os.environ, "HOST": "127.0.0.1", "REDIS_URL": redis_url, "WORKER_MODE": "redis" if args.workers else "thread",
           "LOG_LEVEL": "ERROR", "INSTANCE_DIR": tmp, "DATABASE_URL": db_url,
           "FACEBOOK_APP_SECRET": SECRET, "FACEBOOK_VERIFY_TOKEN": "v", "FACEBOOK_PAGE_ACCESS_TOKEN": "t",
           "FACEBOOK_GRAPH_URL": graph.url + "/v21.0", "SERVER_THREADS": "8", "HTTP_TIMEOUT_SECONDS": str(HTTP_TIMEOUT)}
    if args.database_url.startswith("postgresql"):
        from bot.storage import Database

        Database(args.database_url).drop_all()
    if args.workers:
        import redis

        redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")).delete("congdoan:wake:inbox", "congdoan:wake:outbox")

    def start_server(k: int = 0):
        # stderr to a file: a pipe nobody reads fills up and blocks the server's logging
        return subprocess.Popen([sys.executable, "server.py"], cwd=ROOT, env={**env, "PORT": str(ports[k])}, stdout=subprocess.DEVNULL,
                                stderr=open(Path(tmp) / f"server{k}.log", "ab"))

    def start_worker():
        return subprocess.Popen([sys.executable, "-m", "bot", "worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    cpu_used = 0.0  # CPU of processes that were killed
    servers = [start_server(k) for k in range(args.servers)]
    for k, proc in enumerate(servers):
        wait_ready(bases[k], proc)
    server = servers[0]
    workers = [start_worker() for _ in range(args.workers)]
    wait_for_senders(env["DATABASE_URL"], max(1, args.workers))  # model loaded, heartbeat written

    total = args.users * args.per_user
    first_sent: dict[tuple[str, int], float] = {}
    accepted: dict[str, int] = defaultdict(int)
    redeliveries = 0
    lock = threading.Lock()
    client = httpx.Client(timeout=10, limits=httpx.Limits(max_connections=64))
    cpu_before = {p.pid: cpu_seconds(p.pid, children=True) for p in [*servers, *workers]}
    rest = RestOfMachine()

    def deliver(user: str, seq: int) -> None:
        """Post until the server accepts (the platform redelivers refused webhooks)."""
        nonlocal redeliveries
        body = {"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": [{
            "sender": {"id": user}, "recipient": {"id": "PAGE"}, "timestamp": int(time.time() * 1000),
            "message": {"mid": f"mid-{user}-{seq}", "text": TEXTS[seq % len(TEXTS)]}}]}]}
        raw = json.dumps(body).encode()
        sig = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        with lock:
            first_sent[(user, seq)] = time.perf_counter()
        for attempt in range(600):
            try:
                r = client.post(bases[(hash(user) + seq + attempt) % len(bases)] + "/webhooks/facebook/webhook", content=raw,
                                headers={"X-Hub-Signature-256": sig, "Content-Type": "application/json"})
                if r.status_code == 200:
                    with lock:
                        accepted[user] += 1
                    return
            except httpx.HTTPError:
                pass
            with lock:
                redeliveries += 1
            time.sleep(0.2)

    turn = defaultdict(int)
    turn_changed = threading.Condition()

    def send_user(user: str, seq: int) -> None:
        with turn_changed:  # one person's messages are delivered in order (a lock is not fair enough)
            turn_changed.wait_for(lambda: turn[user] == seq)
        deliver(user, seq)
        with turn_changed:
            turn[user] += 1
            turn_changed.notify_all()

    killed_at = None
    restarted_at = None
    start = time.perf_counter()
    print(f"{total} messages from {args.users} users at {args.rate:.0f}/s; Send API faults: 500 {args.fail500:.0%}, "
          f"429 {args.fail429:.0%}, hang {args.hang:.0%}; kill: {args.kill + ' after ' + str(args.kill_after) + ' s' if args.kill_after else 'none'}",
          flush=True)
    with ThreadPoolExecutor(max_workers=64) as pool:
        for i in range(total):
            target = start + i / args.rate
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            if proxy is not None and killed_at is None and time.perf_counter() - start >= args.kill_after:
                killed_at = time.perf_counter()
                threading.Thread(target=proxy.outage, args=(args.db_outage or args.redis_outage,), daemon=True).start()
                restarted_at = killed_at + (args.db_outage or args.redis_outage)
            elif args.kill_after and killed_at is None and time.perf_counter() - start >= args.kill_after:
                victim = server if args.kill == "server" or not workers else workers[0]
                cpu_used += cpu_seconds(victim.pid, children=True) - cpu_before.pop(victim.pid, 0.0)
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                killed_at = time.perf_counter()

                def restart(victim=victim):
                    nonlocal server, restarted_at
                    time.sleep(1.5)
                    if victim is server:
                        server = servers[0] = start_server(0)
                        cpu_before[server.pid] = 0.0
                    else:
                        w = start_worker()
                        workers[0] = w
                        cpu_before[w.pid] = 0.0
                    restarted_at = time.perf_counter()

                threading.Thread(target=restart, daemon=True).start()
            pool.submit(send_user, f"user-{i % args.users}", i // args.users)
    last_sent = time.perf_counter()

    deadline = time.monotonic() + args.drain_timeout
    done_at = None
    while time.monotonic() < deadline:
        with graph.glock:
            got = sum(min(len(graph.delivered[u]), accepted[u]) for u in accepted)  # counts; exact matching below
        if got >= sum(accepted.values()):
            done_at = time.perf_counter()
            break
        time.sleep(0.1)
    time.sleep(3)  # late duplicates

    procs = [*servers, *workers]
    rest.stop()
    cpu_total = cpu_used + sum(cpu_seconds(p.pid, children=True) - cpu_before.get(p.pid, 0.0) for p in procs if p.poll() is None)
    n_accepted = sum(accepted.values())
    from actions.resources import Resources
    from bot.config import Settings

    kb = Resources.load(Settings.load()).kb
    context = Resources.load(Settings.load()).responses.context
    openings = {i: kb.get(faq_id).render(context)[:60] for i, faq_id in enumerate(FAQ_IDS)}

    def answered(text: str) -> int | None:
        return next((i for i, opening in openings.items() if opening in text), None)  # the first reply opens with the privacy notice

    e2e, lost, duplicated, out_of_order = [], 0, 0, 0
    with graph.glock:
        for user, count in accepted.items():
            replies = [(at, answered(text)) for at, text in graph.delivered[user]]
            seen: dict[int, float] = {}
            for at, which in replies:
                if which in seen:
                    duplicated += 1
                elif which is not None:
                    seen[which] = at
            for seq in range(count):
                if seq % len(FAQ_IDS) not in seen:
                    lost += 1
                elif (user, seq) in first_sent:
                    e2e.append((seen[seq % len(FAQ_IDS)] - first_sent[(user, seq)]) * 1000)
            order = [which for _, which in replies if which is not None]
            firsts = list(dict.fromkeys(order))
            disorder = sum(1 for a, b in zip(firsts, firsts[1:]) if b < a)
            out_of_order += disorder
            if disorder and os.environ.get("FAULTS_VERBOSE"):
                print(f"  {user}: replies in the order {order}")
    print(f"accepted {n_accepted} of {total} messages ({redeliveries} webhook deliveries refused and redelivered)")
    print(f"Send API faults injected: {dict(graph.faults_injected)}")
    print(f"lost: {lost}, duplicated: {duplicated}, replies out of order: {out_of_order}")
    print(f"end to end: p50 {pct(e2e, 0.5) / 1000:.2f} s, p95 {pct(e2e, 0.95) / 1000:.2f} s, p99 {pct(e2e, 0.99) / 1000:.2f} s, "
          f"max {max(e2e) / 1000 if e2e else float('nan'):.2f} s")
    if killed_at and redis_proxy is not None:
        print(f"Redis unreachable from {killed_at - start:.1f} s to {(restarted_at or killed_at) - start:.1f} s (no restart)")
    elif killed_at and proxy is not None:
        print(f"database unreachable from {killed_at - start:.1f} s to {(restarted_at or killed_at) - start:.1f} s (no restart)")
    elif killed_at:
        print(f"killed {args.kill} at {killed_at - start:.1f} s, restarted at {(restarted_at or killed_at) - start:.1f} s")
    if done_at:
        print(f"everything delivered {done_at - last_sent:.1f} s after the last message was sent")
    else:
        print(f"NOT everything delivered within {args.drain_timeout:.0f} s after the last message")
    print(f"processes: {args.servers} web, {args.workers} worker(s); database {db_url.split('://')[0]}")
    print(f"CPU (server{'s' if args.servers > 1 else ''}{' + workers' if workers else ''}, killed processes included): {cpu_total:.1f} s, "
          f"{1000 * cpu_total / max(1, n_accepted):.1f} ms per message")
    print(rest.line(n_accepted, " (3 s idle wait at the end included)"))
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
    graph.close()


if __name__ == "__main__":
    main()
