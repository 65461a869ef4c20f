"""Alerts to officers: a new high-priority ticket, a ticket 4 hours before its deadline, a ticket
overdue. Sent by e-mail (SMTP) and/or a generic JSON webhook (e.g. a group-chat bot).

Each (ticket, kind, target) is a row with a unique constraint, so an alert is created once and
only once; delivery is retried with backoff. ``Notifier.run_once`` is called by a scheduler thread
inside the server (every ``NOTIFY_INTERVAL_SECONDS``).
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
import threading
from email.message import EmailMessage

import httpx
from sqlalchemy import select

from ..storage.models import Notification, Ticket, TicketEvent, utcnow
from ..vntime import format_local

logger = logging.getLogger(__name__)

DUE_SOON = dt.timedelta(hours=4)
MAX_ATTEMPTS = 6
SUBJECTS = {
    "high_priority": "[Công đoàn] Phiếu ưu tiên cao mới: {code}",
    "due_soon": "[Công đoàn] Phiếu {code} còn dưới 4 giờ đến hạn",
    "overdue": "[Công đoàn] Phiếu {code} đã quá hạn trả lời",
    "escalated": "[Công đoàn] Phiếu {code} chưa được trả lời, đã chuyển lên đơn vị cấp trên",
}


class Notifier:
    def __init__(self, db, settings, client: httpx.Client | None = None, clock=utcnow):
        self.db = db
        self.settings = settings
        self.client = client or httpx.Client(timeout=settings["HTTP_TIMEOUT_SECONDS"])
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def targets(self) -> list[str]:
        s = self.settings
        out = []
        if s["SMTP_HOST"] and s["NOTIFY_EMAILS"]:
            out.append("email")
        if s["NOTIFY_WEBHOOK_URL"]:
            out.append("webhook")
        return out

    # -- detection --------------------------------------------------------------------------------
    def detect(self) -> int:
        """Create the alerts that are due; returns how many new ones."""
        targets = self.targets
        if not targets:
            return 0
        now = self.clock()
        created = 0
        with self.db.session() as session:
            active = ("open", "assigned")
            found: list[tuple[int, str]] = []
            for tid in session.scalars(select(Ticket.id).where(Ticket.priority == "high", Ticket.status.in_(active))):
                found.append((tid, "high_priority"))
            for tid in session.scalars(select(Ticket.id).where(Ticket.status.in_(active), Ticket.due_at > now,
                                                                Ticket.due_at <= now + DUE_SOON)):
                found.append((tid, "due_soon"))
            for tid in session.scalars(select(Ticket.id).where(Ticket.status.in_(active), Ticket.due_at <= now)):
                found.append((tid, "overdue"))
            for tid, kind in found:
                for target in targets:
                    stmt = self.db.insert_ignoring(Notification, {"ticket_id": tid, "kind": kind, "target": target, "status": "pending",
                                                                  "attempts": 0, "next_attempt_at": now, "created_at": now},
                                                   ["ticket_id", "kind", "target"])
                    result = session.execute(stmt)
                    created += result.rowcount or 0
        return created

    # -- delivery ---------------------------------------------------------------------------------
    def deliver(self) -> int:
        now = self.clock()
        with self.db.read() as session:
            due = session.execute(
                select(Notification.id, Notification.kind, Notification.target, Ticket.code, Ticket.question, Ticket.due_at,
                       Ticket.channel, Ticket.priority)
                .join(Ticket, Ticket.id == Notification.ticket_id)
                .where(Notification.status == "pending", Notification.next_attempt_at <= now)
                .order_by(Notification.id).limit(50)
            ).all()
        sent = 0
        for nid, kind, target, code, question, due_at, channel, priority in due:
            subject = SUBJECTS[kind].format(code=code)
            body = (f"{subject}\n\n{self._units_line(nid) if kind == 'escalated' else ''}"
                    f"Kênh: {channel}\nMức ưu tiên: {'cao' if priority == 'high' else 'thường'}\n"
                    f"Hạn trả lời: {format_local(due_at)}\nCâu hỏi: {question[:300]}\n\n"
                    f"Mở bảng điều khiển để xử lý: {self.settings['PUBLIC_URL'].rstrip('/')}/dashboard/tickets/{code}")
            try:
                if target == "email":
                    self._send_email(subject, body)
                else:
                    self._send_webhook({"event": kind, "ticket": code, "channel": channel, "priority": priority,
                                        "due_at": due_at.isoformat(), "text": body})
                error = None
            except Exception as exc:  # noqa: BLE001 - recorded and retried
                error = f"{type(exc).__name__}: {str(exc)[:200]}"
            with self.db.session() as session:
                row = session.get(Notification, nid)
                row.attempts += 1
                if error is None:
                    row.status, row.sent_at, row.last_error = "sent", self.clock(), None
                    sent += 1
                else:
                    row.last_error = error
                    if row.attempts >= MAX_ATTEMPTS:
                        row.status = "failed"
                    else:
                        row.next_attempt_at = self.clock() + dt.timedelta(seconds=30 * 2 ** row.attempts)
                    logger.warning("notification %s (%s) failed: %s", nid, target, error)
        return sent

    def _units_line(self, notification_id: int) -> str:
        """For an escalation: which unit the ticket left and which one it reached (both are told)."""
        with self.db.read() as session:
            ticket_id = session.scalar(select(Notification.ticket_id).where(Notification.id == notification_id))
            event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id, TicketEvent.action == "escalated")
                                    .order_by(TicketEvent.id.desc()).limit(1)).first()
        if event is None:
            return ""
        return f"Chưa có cán bộ trả lời: chuyển từ {event.detail.get('from_unit')} lên {event.detail.get('to_unit')}.\n"

    def _send_email(self, subject: str, body: str) -> None:
        s = self.settings
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = s["SMTP_FROM"]
        message["To"] = ", ".join(s["NOTIFY_EMAILS"].split())
        message.set_content(body)
        with smtplib.SMTP(s["SMTP_HOST"], int(s["SMTP_PORT"]), timeout=s["HTTP_TIMEOUT_SECONDS"]) as smtp:
            if s["SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if s["SMTP_USER"]:
                smtp.login(s["SMTP_USER"], s["SMTP_PASSWORD"])
            smtp.send_message(message)

    def _send_webhook(self, payload: dict) -> None:
        response = self.client.post(self.settings["NOTIFY_WEBHOOK_URL"], json=payload)
        if response.status_code >= 300:
            raise RuntimeError(f"HTTP {response.status_code}")

    def run_once(self) -> int:
        self.detect()
        return self.deliver()

    # -- scheduler --------------------------------------------------------------------------------
    def start(self) -> None:
        if not self.targets or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="notifier", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(float(self.settings["NOTIFY_INTERVAL_SECONDS"])):
            try:
                self.run_once()
            except Exception:  # noqa: BLE001
                logger.exception("notification round failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
