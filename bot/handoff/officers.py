"""Officer accounts: hashed passwords, per-officer API tokens (only their hash is stored)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..storage.models import LoginFailure, Officer, utcnow

ROLES = ("officer", "maintainer", "admin")  # maintainer: teaches the bot (learning loop, FAQ); admin: everything
MIN_PASSWORD = 10
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A fixed hash to compare against when the e-mail is unknown, so timing does not reveal accounts.
_DUMMY_HASH = generate_password_hash("not-a-real-password-" + secrets.token_hex(8))


class OfficerError(ValueError):
    """Invalid officer data; the message is Vietnamese for the person at the keyboard."""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(session: Session, email: str, name: str, role: str, password: str) -> Officer:
    email = (email or "").strip().lower()
    if not _EMAIL_RE.match(email):
        raise OfficerError(f"Địa chỉ e-mail không hợp lệ: {email!r}")
    if role not in ROLES:
        raise OfficerError(f"Vai trò phải là một trong: {', '.join(ROLES)}")
    if not (name or "").strip():
        raise OfficerError("Cần nhập họ tên cán bộ.")
    if len(password or "") < MIN_PASSWORD:
        raise OfficerError(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.")
    if session.scalar(select(Officer.id).where(Officer.email == email)) is not None:
        raise OfficerError(f"Đã có cán bộ với e-mail {email}.")
    officer = Officer(email=email, name=name.strip(), role=role, password_hash=generate_password_hash(password), active=True)
    session.add(officer)
    session.flush()
    return officer


def by_email(session: Session, email: str) -> Officer | None:
    return session.scalars(select(Officer).where(Officer.email == (email or "").strip().lower())).first()


def authenticate(session: Session, email: str, password: str) -> Officer | None:
    officer = by_email(session, email)
    if officer is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(officer.password_hash, password or "") or not officer.active:
        return None
    return officer


def new_token(session: Session, officer: Officer) -> str:
    """Issue a new API token (the previous one stops working). Returns it once; only a hash is kept."""
    token = "cdt_" + secrets.token_urlsafe(32)
    officer.api_token_hash = _token_hash(token)
    return token


def by_token(session: Session, token: str) -> Officer | None:
    if not token:
        return None
    officer = session.scalars(select(Officer).where(Officer.api_token_hash == _token_hash(token))).first()
    return officer if officer is not None and officer.active else None


def set_active(session: Session, email: str, active: bool) -> Officer:
    officer = by_email(session, email)
    if officer is None:
        raise OfficerError(f"Không có cán bộ với e-mail {email}.")
    officer.active = active
    if not active:
        officer.api_token_hash = None
    return officer


# --- failed dashboard logins (shared by every process through the database) --------------------

LOCK_SECONDS = 15 * 60


def account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


class LoginThrottle:
    """Failed logins in the database: shared by every process, per (account, address) and per account."""

    def __init__(self, db, pair_limit: int, account_limit: int, clock=utcnow):
        self.db, self.pair_limit, self.account_limit, self.clock = db, pair_limit, account_limit, clock

    def locked(self, email: str, address: str) -> bool:
        since = self.clock() - dt.timedelta(seconds=LOCK_SECONDS)
        account = account_key(email)
        with self.db.read() as s:
            per_account = s.scalar(select(func.count()).select_from(LoginFailure)
                                   .where(LoginFailure.account == account, LoginFailure.at >= since))
            if per_account >= self.account_limit:
                return True
            per_pair = s.scalar(select(func.count()).select_from(LoginFailure)
                                .where(LoginFailure.account == account, LoginFailure.address == address[:64], LoginFailure.at >= since))
            return per_pair >= self.pair_limit

    def fail(self, email: str, address: str) -> None:
        now = self.clock()
        with self.db.session() as s:
            s.add(LoginFailure(account=account_key(email), address=address[:64], at=now))
            s.execute(delete(LoginFailure).where(LoginFailure.at < now - dt.timedelta(days=1)))  # keep the table small

    def reset(self, email: str, address: str | None = None) -> None:
        stmt = delete(LoginFailure).where(LoginFailure.account == account_key(email))
        if address is not None:
            stmt = stmt.where(LoginFailure.address == address[:64])
        with self.db.session() as s:
            s.execute(stmt)
