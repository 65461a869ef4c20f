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
import queue
import threading
import time

from .dialogue import Dialogue, Round
from .outbox import DirectDelivery, OutboxSender, shard_of
from .storage import DatabaseUnavailable

logger = logging.getLogger(__name__)

INBOX_KEY = "congdoan:wake:inbox"
OUTBOX_KEY = "congdoan:wake:outbox"
SWEEP_SECONDS = 1.0
OUTBOX_SWEEP_SECONDS = 0.5  # retries are due after 0.5 s, 1 s, 2 s…
# Inbox events a `python -m bot worker` round takes at most (one transaction on PostgreSQL, ~2 ms
# per event): the replies of a round go out when it commits. A full round is followed by another
# at once; a partial one by the linger (WORKER_LINGER_MS), so messages arriving meanwhile share the
# next round's transaction instead of costing one each.
WORKER_BATCH = 30
INBOX_THREADS = 2  # events are sharded by sender, so one person's messages stay in order
# Sending threads, sharded by recipient (order per person is kept): a Send API call that hangs
# until the HTTP timeout holds up one shard, not every reply. They wait on the network, not the
# CPU: with 4, at 100 messages/s and 2 % of calls hanging 2 s, replies drained 55 s late; with 16,
# 8 s. The crash window is one reply per sending thread in flight at a kill.
OUTBOX_THREADS = 16
OUTBOX_CLAIM = 50  # replies leased per dispatcher round
MAINTENANCE_SECONDS = 3600.0  # how often the daily jobs (the retention purge) check whether they are due
JOBS_SECONDS = 2.0  # how often a process looks for a queued retrain (bot/learning/retrain.py)


class Workers:
    def __init__(self, dialogue: Dialogue, outbox: OutboxSender, mode: str = "thread", redis_url: str | None = None,
                 tick=None, maintenance=None, jobs=None, linger: float = 0.0):
        if mode not in ("thread", "redis", "none"):
            raise ValueError(f"WORKER_MODE phải là thread, redis hoặc none (gặp {mode!r})")
        self.dialogue = dialogue
        self.outbox = outbox
        self.mode = mode
        self.redis_url = redis_url
        self.tick = tick or (lambda: None)  # called every round (the runtime reloads a changed model)
        self.maintenance = maintenance  # called about hourly; decides itself whether a daily job is due
        self._maintenance_at = time.monotonic() + 60  # first check a minute after start
        self.jobs = jobs  # runs one queued long job (a retrain) if any; returns whether it ran one
        self.jobs_seconds = JOBS_SECONDS
        self.linger = linger  # seconds a woken `python -m bot worker` waits for more messages (WORKER_LINGER_MS)
        self._redis = None
        self._inbox_wakes = [threading.Event() for _ in range(INBOX_THREADS)]
        self._outbox_wakes = [threading.Event()]
        self._send_queues: list[queue.Queue] = []
        self._sends_here = False  # a `python -m bot worker` process sends the replies it produces
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- wake-ups ---------------------------------------------------------------------------------
    def _redis_client(self):
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)
        return self._redis

    def ping_redis(self) -> None:
        self._redis_client().ping()

    def notify_inbox(self) -> None:
        self._notify(self._inbox_wakes, INBOX_KEY)

    def notify_outbox(self) -> None:
        if self._sends_here:  # this process sends its own replies: no round trip through Redis
            for event in self._outbox_wakes:
                event.set()
            return
        self._notify(self._outbox_wakes, OUTBOX_KEY)

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
        """One round; returns how many events it processed."""
        return self._inbox_round(shard, limit).done

    def _inbox_round(self, shard: tuple[int, int] = (0, 1), limit: int = 100) -> Round:
        done, dispatch = 0, True
        try:
            self.tick()
            done, dispatch = self.dialogue.process_pending(limit=limit, shard=shard)
        except DatabaseUnavailable as exc:  # one line, not a traceback a second while the database is away
            logger.warning("inbox round skipped: %s", exc)
        except Exception:  # noqa: BLE001 - logged; the row stays pending and is retried
            logger.exception("inbox round failed")
        if done and dispatch:  # replies handed straight to this process's senders need no dispatcher
            self.notify_outbox()
        return Round(done, dispatch)

    def run_outbox_once(self, shard: tuple[int, int] = (0, 1)) -> int:
        try:
            if shard[0] == 0:
                self.outbox.heartbeat()
            return self.outbox.send_due(shard=shard)
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

    def run_jobs_once(self) -> bool:
        """Run one queued long job (a retrain) on this thread; False when none was queued."""
        if self.jobs is None:
            return False
        try:
            return bool(self.jobs())
        except DatabaseUnavailable as exc:
            logger.warning("job round skipped: %s", exc)
        except Exception:  # noqa: BLE001 - logged; the job row records its own failure
            logger.exception("job round failed")
        return False

    def _start_jobs_thread(self) -> None:
        """Long jobs get their own thread: a retrain takes minutes and must not hold up messages."""
        if self.jobs is None:
            return
        thread = threading.Thread(target=self._loop, args=(threading.Event(), self.run_jobs_once, self.jobs_seconds),
                                  name="training-jobs", daemon=True)
        thread.start()
        self._threads.append(thread)

    def drain(self, rounds: int = 20) -> None:
        """Process inbox and outbox until nothing is left that is due now (tests, CLI)."""
        for _ in range(rounds):
            inbox = self.run_inbox_once()
            outbox = 0
            while True:
                sent = self.run_outbox_once()
                outbox += sent
                if not sent:
                    break
            if not inbox and not outbox:
                return

    # -- threads ----------------------------------------------------------------------------------
    def start(self) -> None:
        if self.mode != "thread" or self._threads:
            return
        self._stop.clear()
        loops = [(f"inbox-worker-{k}", self._inbox_wakes[k], lambda k=k: self.run_inbox_once((k, INBOX_THREADS)))
                 for k in range(INBOX_THREADS)]
        loops.append(("maintenance", threading.Event(), self.run_maintenance_if_due))
        for name, wake, work in loops:
            thread = threading.Thread(target=self._loop, args=(wake, work), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        self._start_outbox_threads()
        self._start_jobs_thread()
        logger.info("background workers started (thread mode)")

    # -- outbox: one dispatcher claims, sending threads (one per shard of recipients) send ---------
    def _dispatch_once(self) -> int:
        """Claim due replies in one query and hand each to its recipient's sending thread."""
        try:
            self.outbox.heartbeat()
            delivery = self.dialogue.delivery
            if delivery is not None:
                delivery.release_unsure()
            claimed = self.outbox.claim_due(OUTBOX_CLAIM)
        except DatabaseUnavailable as exc:
            logger.warning("outbox round skipped: %s", exc)
            return 0
        except Exception:  # noqa: BLE001 - logged; the rows stay due
            logger.exception("outbox round failed")
            return 0
        for row in claimed:
            self._hand_over(row)
        return len(claimed) if len(claimed) == OUTBOX_CLAIM else 0  # a full batch: claim again at once

    def _send_loop(self, q: queue.Queue) -> None:
        failed: set[tuple[str, str]] = set()
        while not self._stop.is_set() or not q.empty():
            try:
                row = q.get(timeout=0.5)
            except queue.Empty:
                failed.clear()  # a new round: failed recipients are tried again when their retry is due
                continue
            try:
                self.outbox.send_one(row, failed)
            except DatabaseUnavailable as exc:  # the reply may have gone out: its lease returns it (crash window)
                logger.warning("reply %s not settled: %s", row[0], exc)
            except Exception:  # noqa: BLE001 - the lease expires and the row returns
                logger.exception("sending reply %s failed", row[0])
            if q.empty():
                failed.clear()

    def _hand_over(self, row: tuple) -> None:
        self._send_queues[shard_of(row[2], OUTBOX_THREADS)].put(row)

    def _start_outbox_threads(self) -> None:
        self._send_queues = [queue.Queue() for _ in range(OUTBOX_THREADS)]
        # Replies this process's turns write go to its sending threads directly (no claim query).
        self.dialogue.delivery = DirectDelivery(self.outbox, self._hand_over)
        for k, q in enumerate(self._send_queues):
            thread = threading.Thread(target=self._send_loop, args=(q,), name=f"outbox-sender-{k}", daemon=True)
            thread.start()
            self._threads.append(thread)
        thread = threading.Thread(target=self._loop, args=(self._outbox_wakes[0], self._dispatch_once, OUTBOX_SWEEP_SECONDS),
                                  name="outbox-dispatcher", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _loop(self, wake: threading.Event, work, sweep: float = SWEEP_SECONDS) -> None:
        while not self._stop.is_set():
            wake.wait(sweep)
            wake.clear()
            if self._stop.is_set():
                break
            while work() and not self._stop.is_set():
                pass

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loops after the work in hand (SIGTERM drains), then hand back leased rows."""
        self._stop.set()
        self.dialogue.delivery = None
        for event in (*self._inbox_wakes, *self._outbox_wakes):
            event.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        if self.mode != "none":
            try:
                self.outbox.retire()
            except Exception:  # noqa: BLE001 - the database may be gone; the heartbeat then goes stale
                logger.warning("could not hand back leased replies at stop")

    @staticmethod
    def _take_wakes(client, count: int) -> None:
        try:
            client.rpop(INBOX_KEY, count)
        except Exception:  # noqa: BLE001 - extra wake-ups only cost an empty round each
            pass

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """The ``python -m bot worker`` loop for WORKER_MODE=redis."""
        stop = stop or self._stop
        client = self._redis_client()
        logger.info("worker started, waiting on Redis %s", self.redis_url)
        self._stop.clear()
        self._start_outbox_threads()  # replies go out on their own threads while this one reads the inbox
        self._start_jobs_thread()
        self._sends_here = True
        try:
            while not stop.is_set():
                woken = None
                try:
                    woken = client.brpop([INBOX_KEY, OUTBOX_KEY], timeout=SWEEP_SECONDS)
                except Exception as exc:  # noqa: BLE001 - keep sweeping the database without Redis
                    logger.warning("Redis unavailable (%s); sweeping the database only", type(exc).__name__)
                    time.sleep(SWEEP_SECONDS)
                if woken is None or woken[0] == OUTBOX_KEY.encode():  # (the dispatcher also sweeps on its own)
                    for event in self._outbox_wakes:
                        event.set()
                else:  # one wake-up per message: a round takes up to WORKER_BATCH, so it answers as many wake-ups
                    if self.linger > 0:
                        stop.wait(self.linger)
                    self._take_wakes(client, WORKER_BATCH - 1)
                # Rounds until one finds nothing: a message that arrived while its sender's previous one was
                # being answered here may have woken another worker, which found it held back and went back
                # to sleep; this worker is the one that must look again.
                while not stop.is_set():
                    done = self._inbox_round(limit=WORKER_BATCH).done
                    if not done:
                        break
                    if self.linger > 0 and done < WORKER_BATCH:  # let the next messages gather (none are waiting)
                        stop.wait(self.linger)
                        self._take_wakes(client, WORKER_BATCH)
                self.run_maintenance_if_due()
        finally:
            self.stop()
