"""A ticket's conversation as officers read it, on the ticket page and in the JSON API."""

from __future__ import annotations

from sqlalchemy import select

from ..storage.models import Message, OutboxMessage


def transcript(session, ticket_id: int) -> list[tuple[Message, OutboxMessage | None]]:
    """The ticket's messages in order, each officer reply with its outbox row (how its delivery went)."""
    messages = session.scalars(select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id)).all()
    outbox = session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id))
    deliveries = {o.message_id: o for o in outbox}
    return [(m, deliveries.get(m.id) if m.author == "officer" else None) for m in messages]
