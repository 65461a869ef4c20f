"""Escalation up the unit tree: a question nobody has answered when its deadline is near.

A ticket still ``open`` or ``assigned`` with no officer answer, ``ESCALATE_BEFORE_HOURS`` (default 4)
or less before its deadline, moves to the parent unit of its unit, once: the ticket records the event
("Đã chuyển lên …", action ``escalated``) and an ``escalated`` alert is queued for the notification
targets (``bot.handoff.notify`` delivers it), naming both units. A ticket of the root, or one already
escalated, stays where it is. ``Escalator.run_once`` is idempotent and takes an injectable clock;
the workers' job thread runs it every ``NOTIFY_INTERVAL_SECONDS``.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import exists, select

from ..storage.models import Notification, Ticket, TicketEvent, Unit, utcnow
from .tickets import log

logger = logging.getLogger(__name__)

ACTION = "escalated"


class Escalator:
    def __init__(self, db, settings, clock=utcnow):
        self.db = db
        self.settings = settings
        self.clock = clock

    @property
    def before(self) -> dt.timedelta:
        return dt.timedelta(hours=float(self.settings.get("ESCALATE_BEFORE_HOURS", 4)))

    def run_once(self) -> list[str]:
        """Escalate what is due; returns the codes of the tickets moved up."""
        if self.before <= dt.timedelta(0):
            return []
        now = self.clock()
        moved = []
        targets = self._targets()
        with self.db.session() as session:
            already = exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.action == ACTION)
            stmt = (select(Ticket, Unit).join(Unit, Unit.id == Ticket.unit_id)
                    .where(Ticket.status.in_(("open", "assigned")), Ticket.first_response_at.is_(None),
                           Ticket.due_at <= now + self.before, Unit.parent_id.is_not(None), ~already)
                    .order_by(Ticket.due_at).limit(500))
            if self.db.dialect == "postgresql":
                stmt = stmt.with_for_update(of=Ticket, skip_locked=True)
            for ticket, unit in session.execute(stmt).all():
                parent = session.get(Unit, unit.parent_id)
                ticket.unit_id = parent.id
                ticket.updated_at = now
                log(session, ticket, "system", ACTION, from_unit_id=unit.id, from_unit=unit.short_name,
                    to_unit_id=parent.id, to_unit=parent.short_name)
                for target in targets:
                    session.execute(self.db.insert_ignoring(
                        Notification, {"ticket_id": ticket.id, "kind": ACTION, "target": target, "status": "pending", "attempts": 0,
                                       "next_attempt_at": now, "created_at": now}, ["ticket_id", "kind", "target"]))
                moved.append(ticket.code)
        if moved:
            logger.info("escalated %s tickets to their parent units", len(moved))
        return moved

    def _targets(self) -> list[str]:  # as Notifier.targets
        s = self.settings
        return (["email"] if s["SMTP_HOST"] and s["NOTIFY_EMAILS"] else []) + (["webhook"] if s["NOTIFY_WEBHOOK_URL"] else [])
