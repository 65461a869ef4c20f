"""Prometheus metrics (the official ``prometheus_client``).

Two kinds, so that the figures are right with several web and worker processes:

- **From the database, at scrape time** (``DatabaseCollector``): messages received and replies sent
  per channel, actions taken, hand-offs per reason, open and overdue tickets, outbox retries and
  failures, inbox and outbox queue depths. Every process that serves ``/metrics`` reports the same
  totals, whichever process did the work, and they survive restarts.
- **In the process**: the NLU latency histogram (``NLU_SECONDS``), observed where the NLU runs.
  With ``WORKER_MODE=redis`` that is the worker processes: each can serve its own metrics on
  ``METRICS_PORT`` (``python -m bot worker``).

``/metrics`` is open to loopback addresses; from elsewhere it needs ``METRICS_TOKEN`` as a bearer
token (it carries counts only, never personal data).
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select

from .handoff.tickets import OPEN_STATUSES
from .nlu.metrics import NLU_SECONDS
from .storage import Database
from .storage.models import InboxEvent, Message, OutboxMessage, Ticket, utcnow

logger = logging.getLogger(__name__)

__all__ = ["NLU_SECONDS", "DatabaseCollector", "registry_for", "render"]


class DatabaseCollector:
    """Counts read from the database when Prometheus scrapes."""

    def __init__(self, db: Database):
        self.db = db

    def collect(self):
        try:
            with self.db.read() as s:
                yield from self._collect(s)
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail because the database is down
            logger.warning("metrics: database not readable (%s)", type(exc).__name__)
            up = GaugeMetricFamily("congdoan_database_up", "1 if the database answered the metrics queries")
            up.add_metric([], 0)
            yield up
            return
        up = GaugeMetricFamily("congdoan_database_up", "1 if the database answered the metrics queries")
        up.add_metric([], 1)
        yield up

    def _collect(self, s):
        received = CounterMetricFamily("congdoan_messages_received", "Worker messages accepted, per channel", labels=["channel"])
        for channel, n in s.execute(select(InboxEvent.channel, func.count()).group_by(InboxEvent.channel)):
            received.add_metric([channel], n)
        yield received

        sent = CounterMetricFamily("congdoan_replies_sent", "Replies accepted by the platform, per channel and author",
                                   labels=["channel", "author"])
        for channel, author, n in s.execute(select(OutboxMessage.channel, OutboxMessage.author, func.count())
                                            .where(OutboxMessage.status == "sent").group_by(OutboxMessage.channel, OutboxMessage.author)):
            sent.add_metric([channel, author], n)
        yield sent

        actions = CounterMetricFamily("congdoan_actions", "What the bot did with worker messages", labels=["action"])
        for action, n in s.execute(select(Message.action, func.count()).where(Message.direction == "in", Message.action.is_not(None))
                                   .group_by(Message.action)):
            actions.add_metric([action], n)
        yield actions

        handoffs = CounterMetricFamily("congdoan_handoffs", "Tickets opened, per reason", labels=["reason"])
        for reason, n in s.execute(select(Ticket.reason, func.count()).group_by(Ticket.reason)):
            handoffs.add_metric([reason or "unknown"], n)
        yield handoffs

        now = utcnow()
        open_n = s.scalar(select(func.count()).select_from(Ticket).where(Ticket.status.in_(OPEN_STATUSES))) or 0
        overdue = s.scalar(select(func.count()).select_from(Ticket).where(Ticket.status.in_(("open", "assigned")), Ticket.due_at < now)) or 0
        tickets = GaugeMetricFamily("congdoan_tickets", "Tickets waiting for officers", labels=["state"])
        tickets.add_metric(["open"], open_n)
        tickets.add_metric(["overdue"], overdue)
        yield tickets

        retries = CounterMetricFamily("congdoan_outbox_retries", "Send attempts beyond the first")
        retries.add_metric([], s.scalar(select(func.coalesce(func.sum(OutboxMessage.attempts - 1), 0)).where(OutboxMessage.attempts > 1)) or 0)
        yield retries
        outcomes = GaugeMetricFamily("congdoan_outbox", "Replies in the outbox, per status", labels=["status"])
        for status, n in s.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)):
            outcomes.add_metric([status], n)
        yield outcomes

        depth = GaugeMetricFamily("congdoan_inbox", "Worker messages in the inbox, per status", labels=["status"])
        for status, n in s.execute(select(InboxEvent.status, func.count()).group_by(InboxEvent.status)):
            depth.add_metric([status], n)
        yield depth


def registry_for(db: Database) -> CollectorRegistry:
    from prometheus_client import REGISTRY

    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(db))
    registry.register(_ProcessMetrics(REGISTRY))
    return registry


class _ProcessMetrics:
    """This process's own metrics (NLU latency, process CPU and memory) from the default registry."""

    def __init__(self, default):
        self.default = default

    def collect(self):
        yield from self.default.collect()


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
