"""Rate limits on the public, unauthenticated endpoints (web chat / REST channel, ``/model/parse``)
and security headers on every response.

A flood from one browser or one address must not fill the officers' queue or take the CPU from
everyone else. Two fixed-window counters per minute: one per web chat ``sender`` (a person) and one
per client address. The address limit is generous on purpose: workers of one factory often share a
single public address (the company's NAT), so it only stops machines, not colleagues.

Where the counts live: in Redis when ``WORKER_MODE=redis`` (every web process of a deployment
shares them), else in this process's memory (the embedded single-process default). If Redis is
unreachable the request is let through: refusing workers' questions because a counter is away
would be worse than a short flood. A refused request gets 429 with ``Retry-After`` and is not
stored, so nothing accepted is ever lost.

Behind a reverse proxy set ``TRUSTED_PROXY_HOPS`` so the client address is read from
``X-Forwarded-For`` (otherwise every worker would share the proxy's address).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

from flask import Flask, request

from ..errors import APIError

logger = logging.getLogger(__name__)

WINDOW = 60  # seconds
MAX_TRACKED = 100_000  # keys kept in memory (oldest dropped first)

# Dashboard pages may not be framed by other sites (clickjacking) nor load scripts from elsewhere.
DASHBOARD_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                 "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


class MemoryCounter:
    """Fixed-window counts in this process."""

    def __init__(self):
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str, window: int) -> int:
        with self._lock:
            count = self._counts.pop(key, 0) + 1
            self._counts[key] = count
            while len(self._counts) > MAX_TRACKED:
                self._counts.popitem(last=False)
            return count


class RedisCounter:
    """Fixed-window counts shared by every process using the same Redis."""

    def __init__(self, url: str):
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def hit(self, key: str, window: int) -> int:
        pipe = self._client.pipeline()
        pipe.incr(key)
        pipe.expire(key, window + 5)
        count, _ = pipe.execute()
        return int(count)


class RateLimiter:
    def __init__(self, per_sender: int, per_address: int, counter=None, clock=time.time):
        self.per_sender = per_sender
        self.per_address = per_address
        self.counter = counter or MemoryCounter()
        self.clock = clock

    def check(self, scope: str, address: str, sender: str | None = None) -> None:
        """Count one request; raise a 429 ``APIError`` if a limit is passed (0 turns a limit off)."""
        now = self.clock()
        window = int(now // WINDOW)
        retry_after = WINDOW - int(now % WINDOW)
        checks = [(f"rl:ip:{address}:{window}", self.per_address)]  # every public endpoint together
        if sender:
            checks.append((f"rl:{scope}:sender:{sender[:200]}:{window}", self.per_sender))
        for key, limit in checks:
            if not limit:
                continue
            try:
                count = self.counter.hit(key, WINDOW)
            except Exception:  # noqa: BLE001 - a missing counter never refuses a worker's question
                logger.warning("rate-limit counter unavailable; request let through")
                return
            if count > limit:
                error = APIError("Bạn gửi quá nhiều tin nhắn trong một phút. Vui lòng đợi một lát rồi gửi lại.", 429, "rate_limited")
                error.headers = {"Retry-After": str(retry_after)}
                raise error


def client_address() -> str:
    return request.remote_addr or "?"


def init_app(app: Flask, settings) -> None:
    hops = int(settings["TRUSTED_PROXY_HOPS"])
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    counter = RedisCounter(settings["REDIS_URL"]) if settings["WORKER_MODE"] == "redis" else MemoryCounter()
    app.extensions["rate_limiter"] = RateLimiter(int(settings["RATE_LIMIT_PER_SENDER"]), int(settings["RATE_LIMIT_PER_ADDRESS"]),
                                                 counter)
    app.after_request(security_headers)


def limit(scope: str, sender: str | None = None) -> None:
    """Count this request against the limits of ``scope`` (call at the top of a public view)."""
    from flask import current_app

    limiter: RateLimiter | None = current_app.extensions.get("rate_limiter")
    if limiter is not None:
        limiter.check(scope, client_address(), sender)


def security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith("/dashboard"):
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", DASHBOARD_CSP)
    return response
