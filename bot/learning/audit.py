"""One ``audit_log`` record per maintainer action of the learning loop."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..storage.models import AuditLog, utcnow


def record(session: Session, actor: str, action: str, target: str | None, detail: dict) -> None:
    session.add(AuditLog(at=utcnow(), actor=actor, action=action, target=target, detail=detail))
