"""Who may use the dashboard: login and logout, the signed-in officer, roles, CSRF, the login rate limit.

Passwords are hashed (``bot.handoff.officers``), the session cookie is HttpOnly and SameSite, every
form carries a CSRF token, and repeated failed logins lock an e-mail + address for 15 minutes.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import threading
import time

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for

from ..handoff import officers as officer_ops
from ..runtime import current_runtime
from ..storage.models import Officer

bp = Blueprint("auth", __name__)

LOCK_SECONDS = 15 * 60
LOCKED = "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút."
REFUSED = "E-mail hoặc mật khẩu không đúng, hoặc tài khoản đã bị khóa."
CSRF_FAILED = "Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang rồi thử lại."


class LoginThrottle:
    """Recent failed logins per (e-mail, address), in this process; one per application (``init_app``)."""

    def __init__(self):
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def locked(self, key, limit: int) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(key, []) if now - t < LOCK_SECONDS]
            self._failures[key] = recent
            return len(recent) >= limit

    def fail(self, key) -> None:
        with self._lock:
            self._failures.setdefault(key, []).append(time.monotonic())

    def reset(self, key) -> None:
        with self._lock:
            self._failures.pop(key, None)


def throttle() -> LoginThrottle:
    return current_app.extensions["login_throttle"]


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def load_officer() -> None:
    """``g.officer``: the signed-in officer if the account is still active, else None."""
    g.officer = None
    officer_id = session.get("officer_id")
    if officer_id is not None:
        with current_runtime().db.read() as s:
            officer = s.get(Officer, officer_id)
            if officer is not None and officer.active:
                g.officer = officer


def check_csrf() -> None:
    """Refuse (400) a form that does not carry this session's CSRF token."""
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
            abort(400, description=CSRF_FAILED)


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.officer is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if g.officer.role != "admin":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("dashboard/login.html", error=None)
    email = request.form.get("email", "").strip().lower()
    key = (email, request.remote_addr or "")
    if throttle().locked(key, int(current_runtime().settings["LOGIN_MAX_FAILURES"])):
        return render_template("dashboard/login.html", error=LOCKED), 429
    with current_runtime().db.read() as s:
        officer = officer_ops.authenticate(s, email, request.form.get("password", ""))
    if officer is None:
        throttle().fail(key)
        return render_template("dashboard/login.html", error=REFUSED)
    throttle().reset(key)
    session.clear()
    session["officer_id"] = officer.id
    csrf_token()
    target = request.args.get("next", "")
    return redirect(target if target.startswith("/dashboard") else url_for("queue.index"))


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"))
