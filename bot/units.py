"""The federation's units: the tree, their pages and OAs, officers' memberships, scopes, placeholders.

The root unit (the provincial federation) is made by migration 0008 from the ``ORG_*`` settings, or
by ``root_unit`` on an empty database. Empty contact fields of a unit inherit its parent's (the
root's, the ``ORG_*`` settings). Each Messenger page / Zalo OA (``UnitAccount``) belongs to a unit;
its secrets are Fernet tokens (``bot.secretbox``). An officer sees the tickets of the units they are
a member of and of those units' sub-units; an officer with no membership belongs to the root (a
single-unit deployment needs no memberships). Functions take an open session; the caller commits.
Errors are ``UnitError`` with a Vietnamese message.
"""

from __future__ import annotations

import functools
import threading
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .secretbox import SecretBox, mask
from .storage.models import Conversation, Officer, Ticket, Unit, UnitAccount, UnitMember, utcnow

OPEN_STATUSES = ("open", "assigned", "answered")
CHANNELS = ("messenger", "zalo")
MEMBER_ROLES = ("officer", "admin")
CONTACT_FIELDS = ("hotline", "address", "office_hours", "fanpage_url", "zalo_url")
# Secrets of an account, per channel (columns of UnitAccount holding Fernet tokens).
SECRET_FIELDS = {
    "messenger": ("page_access_token", "app_secret", "verify_token"),
    "zalo": ("oa_secret_key", "app_secret", "access_token", "refresh_token"),
}
ALL_SECRET_FIELDS = ("page_access_token", "app_secret", "verify_token", "oa_secret_key", "access_token", "refresh_token")
SECRET_LABELS = {
    "page_access_token": "mã truy cập trang", "app_secret": "khóa bí mật ứng dụng", "verify_token": "mã xác minh webhook",
    "oa_secret_key": "khóa bí mật OA", "access_token": "mã truy cập OA", "refresh_token": "mã làm mới OA",
}


class UnitError(ValueError):
    """A refused change to the units; the message is Vietnamese for operators."""


# --- a short cache of what every message looks up ------------------------------------------------


class _ShortCache:
    """What each message needs about units (the root's id, a page's unit, a unit's placeholders, a
    page's decrypted account), kept ``seconds`` per process so the hot path costs no query. The
    functions below that change units or accounts clear it; a change made by another process (the
    CLI next to a running server) is seen within ``seconds`` (``UNIT_CACHE_SECONDS``; 0 turns it off)."""

    def __init__(self, seconds: float = 10.0):
        self.seconds = seconds
        self._data: dict = {}
        self._lock = threading.Lock()

    def get(self, session: Session, key: tuple, load):
        if self.seconds <= 0:
            return load()
        key = (str(session.get_bind().url), *key)
        now = time.monotonic()
        with self._lock:
            hit = self._data.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        with self._lock:
            if len(self._data) > 10_000:
                self._data.clear()
            self._data[key] = (now + self.seconds, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


cache = _ShortCache()


def configure_cache(seconds: float) -> None:
    cache.seconds = float(seconds)
    cache.clear()


def _clears_cache(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        finally:
            cache.clear()

    return wrapper


# --- the tree ------------------------------------------------------------------------------------


@_clears_cache
def root_unit(session: Session, settings=None) -> Unit:
    """The root unit, created from the ``ORG_*`` settings if the database has none yet."""
    root = session.scalars(select(Unit).where(Unit.is_root.is_(True))).first()
    if root is not None:
        return root
    from .config import Settings

    s = settings or Settings.load()
    root = Unit(name=s["ORG_NAME"], short_name=s["ORG_SHORT_NAME"], is_root=True, hotline=s["HOTLINE"], address=s["ADDRESS"],
                office_hours=s["OFFICE_HOURS"], fanpage_url=s["FANPAGE_URL"] or None, zalo_url=s["ZALO_URL"] or None)
    session.add(root)
    session.flush()
    return root


def get_unit(session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise UnitError(f"Không có đơn vị số {unit_id}. Xem danh sách: python -m bot units list")
    return unit


def all_units(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).order_by(Unit.id)))


def children_map(session: Session) -> dict[int | None, list[int]]:
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in session.execute(select(Unit.id, Unit.parent_id)):
        children.setdefault(parent_id, []).append(unit_id)
    return children


def subtree_ids(session: Session, unit_ids) -> set[int]:
    """The units and all their sub-units."""
    children = children_map(session)
    seen: set[int] = set()
    stack = list(unit_ids)
    while stack:
        uid = stack.pop()
        if uid in seen:
            continue
        seen.add(uid)
        stack.extend(children.get(uid, ()))
    return seen


def ancestors(session: Session, unit: Unit) -> list[Unit]:
    """The unit's parent, grandparent… up to the root."""
    out, seen = [], {unit.id}
    current = unit
    while current.parent_id is not None and current.parent_id not in seen:
        current = session.get(Unit, current.parent_id)
        if current is None:
            break
        seen.add(current.id)
        out.append(current)
    return out


def _clean(value) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


@_clears_cache
def create_unit(session: Session, name: str, short_name: str, parent_id: int | None = None, **contact) -> Unit:
    name, short_name = _clean(name), _clean(short_name)
    if not name or not short_name:
        raise UnitError("Cần nhập tên và tên viết tắt của đơn vị.")
    parent = get_unit(session, parent_id) if parent_id is not None else root_unit(session)
    unit = Unit(name=name[:200], short_name=short_name[:100], parent_id=parent.id,
                **{k: _clean(v) for k, v in contact.items() if k in CONTACT_FIELDS})
    session.add(unit)
    session.flush()
    return unit


@_clears_cache
def update_unit(session: Session, unit_id: int, **changes) -> Unit:
    """Change a unit's fields; ``parent_id`` moves it in the tree (a cycle is refused). An empty
    contact field ("") clears it: the unit then inherits its parent's."""
    unit = get_unit(session, unit_id)
    for key in ("name", "short_name"):
        if key in changes and changes[key] is not None:
            value = _clean(changes[key])
            if not value:
                raise UnitError("Tên và tên viết tắt của đơn vị không được để trống.")
            setattr(unit, key, value)
    for key in CONTACT_FIELDS:
        if key in changes and changes[key] is not None:
            setattr(unit, key, _clean(changes[key]))
    if changes.get("parent_id") is not None:
        parent_id = int(changes["parent_id"])
        if unit.is_root:
            raise UnitError("Đơn vị gốc không có đơn vị cấp trên.")
        parent = get_unit(session, parent_id)
        if parent.id in subtree_ids(session, [unit.id]):
            raise UnitError(f"Không thể đặt «{parent.short_name}» làm cấp trên của «{unit.short_name}»: "
                            "nó là chính đơn vị này hoặc đơn vị cấp dưới của nó (cây đơn vị sẽ thành vòng).")
        unit.parent_id = parent.id
    session.flush()
    return unit


@_clears_cache
def delete_unit(session: Session, unit_id: int) -> None:
    unit = get_unit(session, unit_id)
    if unit.is_root:
        raise UnitError("Không thể xóa đơn vị gốc.")
    open_tickets = session.scalar(select(func.count(Ticket.id)).where(Ticket.unit_id == unit.id, Ticket.status.in_(OPEN_STATUSES)))
    if open_tickets:
        raise UnitError(f"Không thể xóa «{unit.short_name}»: đơn vị còn {open_tickets} câu hỏi chưa xử lý xong. "
                        "Hãy giải quyết hoặc đóng các câu hỏi đó trước.")
    if session.scalar(select(func.count(Unit.id)).where(Unit.parent_id == unit.id)):
        raise UnitError(f"Không thể xóa «{unit.short_name}»: đơn vị còn đơn vị cấp dưới. Hãy chuyển hoặc xóa các đơn vị đó trước.")
    if session.scalar(select(func.count(UnitAccount.id)).where(UnitAccount.unit_id == unit.id)):
        raise UnitError(f"Không thể xóa «{unit.short_name}»: đơn vị còn trang Facebook/OA Zalo. Hãy chuyển chúng sang đơn vị khác trước.")
    # Closed questions and conversations stay, attached to the parent unit (nothing is lost).
    for model in (Ticket, Conversation):
        for row in session.scalars(select(model).where(model.unit_id == unit.id)):
            row.unit_id = unit.parent_id
    session.flush()
    session.delete(unit)
    session.flush()


def attach(session: Session, conv: Conversation, event, settings) -> None:
    """The conversation's unit and receiving account, from the event (the unit of the page/OA that
    received it, or the one a web chat chose), else the conversation's own, else the root."""
    if event.account_external_id:
        conv.account_external_id = event.account_external_id
    unit_id = event.unit_id
    if unit_id is None and event.account_external_id:
        channel, external_id = event.channel, event.account_external_id
        unit_id = cache.get(session, ("account_unit", channel, external_id),
                            lambda: getattr(find_account(session, channel, external_id), "unit_id", None))
    if unit_id is not None:
        conv.unit_id = unit_id
    elif conv.unit_id is None:
        conv.unit_id = cache.get(session, ("root",), lambda: root_unit(session, settings).id)


def placeholders(session: Session, unit_id: int | None, settings) -> dict[str, str]:
    """The answer placeholders ({org_name}, {hotline}…) of a unit: its own fields, else its
    ancestors', else the ``ORG_*`` settings."""
    if unit_id is None:
        return settings.org_context()
    return dict(cache.get(session, ("placeholders", unit_id), lambda: _placeholders(session, unit_id, settings)))


def _placeholders(session: Session, unit_id: int, settings) -> dict[str, str]:
    context = settings.org_context()
    if unit_id is None:
        return context
    unit = session.get(Unit, unit_id)
    if unit is None:
        return context
    chain = [unit, *ancestors(session, unit)]
    context["org_name"] = unit.name
    context["org_short_name"] = unit.short_name
    for key in CONTACT_FIELDS:
        for u in chain:
            value = getattr(u, key)
            if value:
                context[key] = value
                break
    return context


# --- officers --------------------------------------------------------------------------------------


def add_member(session: Session, officer: Officer, unit_id: int, role: str = "officer") -> UnitMember:
    if role not in MEMBER_ROLES:
        raise UnitError(f"Vai trò trong đơn vị phải là một trong: {', '.join(MEMBER_ROLES)}")
    unit = get_unit(session, unit_id)
    member = session.scalars(select(UnitMember).where(UnitMember.officer_id == officer.id, UnitMember.unit_id == unit.id)).first()
    if member is None:
        member = UnitMember(officer_id=officer.id, unit_id=unit.id, role=role)
        session.add(member)
    else:
        member.role = role
    session.flush()
    return member


def remove_member(session: Session, officer: Officer, unit_id: int) -> None:
    member = session.scalars(select(UnitMember).where(UnitMember.officer_id == officer.id, UnitMember.unit_id == unit_id)).first()
    if member is None:
        raise UnitError(f"Cán bộ {officer.email} không thuộc đơn vị số {unit_id}.")
    session.delete(member)
    session.flush()


def memberships(session: Session, officer_id: int) -> list[tuple[int, str]]:
    return [(u, r) for u, r in session.execute(select(UnitMember.unit_id, UnitMember.role).where(UnitMember.officer_id == officer_id))]


def scope(session: Session, officer_id: int) -> set[int] | None:
    """The unit ids whose tickets the officer sees; None: every unit (a member of the root)."""
    own = [u for u, _ in memberships(session, officer_id)]
    root = root_unit(session)
    if not own or root.id in own:
        return None
    return subtree_ids(session, own)


def is_unit_admin(session: Session, officer: Officer, unit_id: int | None = None) -> bool:
    """An admin of the unit or of one of its ancestors (root admins: of everything)."""
    if officer.role == "admin" and not memberships(session, officer.id):
        return True
    admin_of = {u for u, r in memberships(session, officer.id) if r == "admin"}
    if not admin_of:
        return False
    if unit_id is None:
        return root_unit(session).id in admin_of
    return bool(admin_of & ({unit_id} | {u.id for u in ancestors(session, get_unit(session, unit_id))}))


# --- accounts (pages and OAs) ----------------------------------------------------------------------


def find_account(session: Session, channel: str, external_id: str | None) -> UnitAccount | None:
    if not external_id:
        return None
    return session.scalars(select(UnitAccount).where(UnitAccount.channel == channel, UnitAccount.external_id == str(external_id))).first()


def has_accounts(session: Session, channel: str) -> bool:
    return session.scalar(select(func.count(UnitAccount.id)).where(UnitAccount.channel == channel)) > 0


@_clears_cache
def add_account(session: Session, box: SecretBox, channel: str, external_id: str, unit_id: int, *, name: str | None = None,
                app_id: str | None = None, public_replies: bool = True, **secrets) -> UnitAccount:
    if channel not in CHANNELS:
        raise UnitError(f"Kênh phải là một trong: {', '.join(CHANNELS)}")
    external_id = _clean(external_id)
    if not external_id:
        raise UnitError("Cần nhập mã trang (page id) hoặc mã OA.")
    get_unit(session, unit_id)
    if find_account(session, channel, external_id) is not None:
        raise UnitError(f"Đã có tài khoản {channel} với mã {external_id}.")
    account = UnitAccount(channel=channel, external_id=external_id[:200], unit_id=unit_id, name=_clean(name), app_id=_clean(app_id),
                          public_replies=public_replies, active=True)
    _set_secrets(account, box, secrets)
    session.add(account)
    session.flush()
    return account


@_clears_cache
def update_account(session: Session, box: SecretBox, account: UnitAccount, *, unit_id: int | None = None, name: str | None = None,
                   app_id: str | None = None, public_replies: bool | None = None, active: bool | None = None, **secrets) -> UnitAccount:
    if unit_id is not None:
        account.unit_id = get_unit(session, unit_id).id
    if name is not None:
        account.name = _clean(name)
    if app_id is not None:
        account.app_id = _clean(app_id)
    if public_replies is not None:
        account.public_replies = public_replies
    if active is not None:
        account.active = active
    _set_secrets(account, box, secrets)
    account.updated_at = utcnow()
    session.flush()
    return account


def _set_secrets(account: UnitAccount, box: SecretBox, secrets: dict) -> None:
    allowed = SECRET_FIELDS[account.channel]
    for key, value in secrets.items():
        if value is None:
            continue  # write-only fields: not given, not changed
        if key not in ALL_SECRET_FIELDS:
            raise UnitError(f"Trường bí mật không hợp lệ: {key}")
        if key not in allowed:
            raise UnitError(f"Tài khoản {account.channel} không dùng {SECRET_LABELS[key]}.")
        setattr(account, key, box.encrypt(value) if value != "" else None)


def secret(box: SecretBox, account: UnitAccount, field: str) -> str | None:
    return box.decrypt(getattr(account, field))


def masked_secrets(box: SecretBox, account: UnitAccount) -> dict[str, str]:
    """Each secret of the account as ``••••abcd`` (decrypted to take its last characters)."""
    return {key: mask(box.decrypt(getattr(account, key))) for key in SECRET_FIELDS[account.channel]}


@_clears_cache
def rotate_secrets(session: Session, box: SecretBox) -> int:
    """Re-encrypt every stored secret with the current key; returns how many were rewritten."""
    count = 0
    for account in session.scalars(select(UnitAccount)):
        for key in ALL_SECRET_FIELDS:
            token = getattr(account, key)
            if token:
                setattr(account, key, box.rotate(token))
                count += 1
    session.flush()
    return count


def public_replies_enabled(session: Session, page_id: str | None) -> bool:
    """Whether public replies under the page's comments are on (a page without an account: yes)."""
    account = find_account(session, "messenger", page_id)
    return True if account is None else bool(account.public_replies)
