"""Who may use the dashboard: login and logout, the signed-in officer, roles, CSRF, the login rate limit.

Passwords are hashed (``bot.handoff.officers``), the session cookie is HttpOnly and SameSite, every
form carries a CSRF token, and failed logins are counted in the database, so every server process
sees the same counts: ``LOGIN_MAX_FAILURES`` failures for one e-mail from one address in 15 minutes
lock that pair, and ``LOGIN_ACCOUNT_MAX_FAILURES`` failures for one e-mail from any addresses lock
the account, for 15 minutes after the last counted failure (attempts refused while locked are not
counted, so a lock always ends). The trade-off: someone who keeps guessing from many addresses can
keep an officer's account locked; ``python -m bot officers unlock EMAIL`` clears the count at once,
and the officer's other accounts and API tokens are not affected.
"""

from __future__ import annotations

import functools
import hmac
import secrets

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for

from ..handoff import officers as officer_ops
from ..handoff.officers import LoginThrottle
from ..runtime import current_runtime
from ..storage.models import Officer

bp = Blueprint("auth", __name__)

LOCKED = "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút."
REFUSED = "E-mail hoặc mật khẩu không đúng, hoặc tài khoản đã bị khóa."
CSRF_FAILED = "Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang rồi thử lại."


def throttle() -> LoginThrottle:
    runtime = current_runtime()
    return LoginThrottle(runtime.db, int(runtime.settings["LOGIN_MAX_FAILURES"]), int(runtime.settings["LOGIN_ACCOUNT_MAX_FAILURES"]))


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


def role_required(*roles: str):
    """A view for signed-in officers whose role is one of ``roles`` (others get 403)."""

    def decorate(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if g.officer.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


# Maintainers teach the bot (review real questions, edit the FAQ, retrain); admins may do it too.
maintainer_required = role_required("maintainer", "admin")


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
    email = request.form.get("email", "").strip().lower()[:200]
    address = request.remote_addr or ""
    limiter = throttle()
    if limiter.locked(email, address):
        return render_template("dashboard/login.html", error=LOCKED), 429
    with current_runtime().db.read() as s:
        officer = officer_ops.authenticate(s, email, request.form.get("password", ""))
    if officer is None:
        limiter.fail(email, address)
        return render_template("dashboard/login.html", error=REFUSED)
    limiter.reset(email, address)
    session.clear()
    session["officer_id"] = officer.id
    csrf_token()
    target = request.args.get("next", "")
    return redirect(target if target.startswith("/dashboard") else url_for("queue.index"))


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"))
