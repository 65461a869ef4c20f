"""Which units' tickets an officer may see and act on (``bot.units.scope``).

An officer sees the tickets of the units they belong to and of those units' sub-units; a member of
the root (or an officer with no membership, in a single-unit deployment) sees all. Every route with
a ticket ``<code>`` in its URL — dashboard pages and the JSON API alike — passes through
``check_ticket_route`` before its view runs, so a route added later cannot forget the check.
"""

from __future__ import annotations

from flask import abort, g, request
from sqlalchemy import select

from .. import units
from ..errors import APIError
from ..runtime import current_runtime
from ..storage.models import Ticket

FORBIDDEN = "Phiếu này thuộc đơn vị khác: bạn không có quyền xem hay xử lý."


def unit_ids(officer_id: int) -> set[int] | None:
    """The officer's unit ids (with sub-units), or None for every unit; computed once per request."""
    cache = g.setdefault("_unit_scopes", {})
    if officer_id not in cache:
        with current_runtime().db.read() as s:
            cache[officer_id] = units.scope(s, officer_id)
    return cache[officer_id]


def restrict(stmt, officer_id: int):
    """A ticket query limited to the officer's units."""
    scope = unit_ids(officer_id)
    return stmt if scope is None else stmt.where(Ticket.unit_id.in_(sorted(scope)))


def allowed(officer_id: int, ticket_unit_id: int | None) -> bool:
    scope = unit_ids(officer_id)
    return scope is None or (ticket_unit_id is not None and ticket_unit_id in scope)


def check_ticket_route(officer, api: bool = False) -> None:
    """403 when the URL names a ticket (``<code>``) of a unit outside the officer's scope."""
    code = (request.view_args or {}).get("code")
    if officer is None or not isinstance(code, str):
        return
    with current_runtime().db.read() as s:
        found = s.execute(select(Ticket.id, Ticket.unit_id).where(Ticket.code == code.strip().upper())).first()
    if found is not None and not allowed(officer.id, found.unit_id):
        if api:
            raise APIError(FORBIDDEN, 403, "forbidden")
        abort(403, description=FORBIDDEN)
