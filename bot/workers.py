"""Background processing of the inbox and the outbox.

``WORKER_MODE=thread`` (default): two daemon threads inside the server, woken at once by the webhook
and every second regardless. ``WORKER_MODE=redis``: the server only pushes wake-ups to Redis lists;
``python -m bot worker`` processes (any number, on any machine sharing the database) block on those
lists. In both modes the database is the queue: a lost wake-up only delays work until the next
sweep, and a restart resumes every unfinished row. ``WORKER_MODE=none`` runs nothing (tests drain
explicitly).
"""

from __future__ import annotations

import logging
import threading
import time

from .dialogue import Dialogue
from .outbox import OutboxSender

logger = logging.getLogger(__name__)

INBOX_KEY = "congdoan:wake:inbox"
OUTBOX_KEY = "congdoan:wake:outbox"
SWEEP_SECONDS = 1.0
# Inbox events a `python -m bot worker` handles before it sends the replies that are ready: a big
# batch (~11 ms per event) would hold finished replies back for a second under load.
WORKER_BATCH = 10
INBOX_THREADS = 2  # events are sharded by sender, so one person's messages stay in order
MAINTENANCE_SECONDS = 3600.0  # how often the daily jobs (the retention purge) check whether they are due


class Workers:
    def __init__(self, dialogue: Dialogue, outbox: OutboxSender, mode: str = "thread", redis_url: str | None = None,
                 tick=None, maintenance=None):
        if mode not in ("thread", "redis", "none"):
            raise ValueError(f"WORKER_MODE phải là thread, redis hoặc none (gặp {mode!r})")
        self.dialogue = dialogue
        self.outbox = outbox
        self.mode = mode
        self.redis_url = redis_url
        self.tick = tick or (lambda: None)  # called every round (the runtime reloads a changed model)
        self.maintenance = maintenance  # called about hourly; decides itself whether a daily job is due
        self._maintenance_at = time.monotonic() + 60  # first check a minute after start
        self._redis = None
        self._inbox_wakes = [threading.Event() for _ in range(INBOX_THREADS)]
        self._outbox_wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- wake-ups ---------------------------------------------------------------------------------
    def _redis_client(self):
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)
        return self._redis

    def notify_inbox(self) -> None:
        self._notify(self._inbox_wakes, INBOX_KEY)

    def notify_outbox(self) -> None:
        self._notify([self._outbox_wake], OUTBOX_KEY)

    def _notify(self, events: list[threading.Event], key: str) -> None:
        if self.mode == "redis":
            try:
                self._redis_client().lpush(key, "1")
            except Exception as exc:  # noqa: BLE001 - the sweep picks the row up later
                logger.warning("could not wake workers through Redis (%s); rows wait for the next sweep", type(exc).__name__)
        else:
            for event in events:
                event.set()

    # -- one round --------------------------------------------------------------------------------
    def run_inbox_once(self, shard: tuple[int, int] = (0, 1), limit: int = 100) -> int:
        done = 0
        try:
            self.tick()
            done = self.dialogue.process_pending(limit=limit, shard=shard)
        except Exception:  # noqa: BLE001 - logged; the row stays pending and is retried
            logger.exception("inbox round failed")
        if done:
            self.notify_outbox()
        return done

    def run_outbox_once(self) -> int:
        try:
            return self.outbox.send_due()
        except Exception:  # noqa: BLE001
            logger.exception("outbox round failed")
            return 0

    def run_maintenance_if_due(self) -> bool:
        if self.maintenance is None or time.monotonic() < self._maintenance_at:
            return False
        self._maintenance_at = time.monotonic() + MAINTENANCE_SECONDS
        try:
            self.maintenance()
        except Exception:  # noqa: BLE001 - logged; tried again at the next check
            logger.exception("maintenance failed")
        return False

    def drain(self, rounds: int = 20) -> None:
        """Process inbox and outbox until nothing is left that is due now (tests, CLI)."""
        for _ in range(rounds):
            inbox = self.run_inbox_once()
            outbox = self.run_outbox_once()
            if not inbox and not outbox:
                return

    # -- threads ----------------------------------------------------------------------------------
    def start(self) -> None:
        if self.mode != "thread" or self._threads:
            return
        self._stop.clear()
        loops = [(f"inbox-worker-{k}", self._inbox_wakes[k], lambda k=k: self.run_inbox_once((k, INBOX_THREADS)))
                 for k in range(INBOX_THREADS)]
        loops.append(("outbox-worker", self._outbox_wake, self.run_outbox_once))
        loops.append(("maintenance", threading.Event(), self.run_maintenance_if_due))
        for name, wake, work in loops:
            thread = threading.Thread(target=self._loop, args=(wake, work), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        logger.info("background workers started (thread mode)")

    def _loop(self, wake: threading.Event, work) -> None:
        while not self._stop.is_set():
            wake.wait(SWEEP_SECONDS)
            wake.clear()
            if self._stop.is_set():
                break
            while work() and not self._stop.is_set():
                pass

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for event in (*self._inbox_wakes, self._outbox_wake):
            event.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """The ``python -m bot worker`` loop for WORKER_MODE=redis."""
        stop = stop or self._stop
        client = self._redis_client()
        logger.info("worker started, waiting on Redis %s", self.redis_url)
        while not stop.is_set():
            try:
                client.brpop([INBOX_KEY, OUTBOX_KEY], timeout=SWEEP_SECONDS)
            except Exception as exc:  # noqa: BLE001 - keep sweeping the database without Redis
                logger.warning("Redis unavailable (%s); sweeping the database only", type(exc).__name__)
                time.sleep(SWEEP_SECONDS)
            # Inbox and outbox take turns, so replies go out while new messages keep arriving.
            while not stop.is_set():
                worked = self.run_inbox_once(limit=WORKER_BATCH)
                worked += self.run_outbox_once()
                self.run_maintenance_if_due()
                if not worked:
                    break
