"""The officers' dashboard (Vietnamese UI) and its JSON API, one blueprint per area:

- ``auth``: login and logout, the signed-in officer, roles, CSRF, the login rate limit
- ``queue``: open tickets by deadline; ``tickets``: a ticket's page and the actions on it
- ``reports``: the SLA report page and CSV; ``kpi``: the communication programme's KPI page and CSV;
  ``suggestions``: FAQ suggestions, reviewed by admins
- ``faq_editor``: the FAQ edited in the browser, with history and scheduled content (maintainers)
- ``learn``, ``model_versions``: the learning loop for maintainers (label real questions, retrain, compare, activate)
- ``api``: the JSON API for integrations (``/api``, officer tokens)

Security: hashed passwords, an HttpOnly SameSite session cookie, a CSRF token on every form, a
login rate limit, and roles (``officer``, ``maintainer``, ``admin``). No default account exists: the first admin is
created with ``python -m bot officers add EMAIL --name NAME --role admin``.
"""

from __future__ import annotations

from flask import Blueprint, Flask, g, request

from ..handoff import tickets as ticket_ops
from ..runtime import current_runtime
from ..vntime import format_short
from . import api, auth, faq_editor, kpi, learn, model_versions, queue, reports, scope, suggestions, tickets, units

URL_PREFIX = "/dashboard"
# The templates and static files every page shares (``url_for("dashboard.static", filename=...)``).
assets = Blueprint("dashboard", __name__, template_folder="templates", static_folder="static")
PAGES = (assets, auth.bp, queue.bp, tickets.bp, reports.bp, kpi.bp, suggestions.bp, faq_editor.bp, learn.bp, model_versions.bp,
         units.bp)
PAGE_BLUEPRINTS = frozenset(bp.name for bp in PAGES)

CHANNEL_LABELS = {"messenger": "Messenger", "zalo": "Zalo", "web": "Web", "fb_comment": "Bình luận trên fanpage"}
DELIVERY_LABELS = {"pending": "Đang gửi", "sending": "Đang gửi", "sent": "Đã gửi", "failed": "Gửi lỗi", "refused": "Bị từ chối"}


def init_app(app: Flask) -> None:
    """Register the pages under /dashboard and the API under /api, with the hooks every page needs."""
    for bp in PAGES:
        app.register_blueprint(bp, url_prefix=URL_PREFIX)
    app.register_blueprint(api.bp)
    app.before_request(_before_page)
    app.context_processor(_template_context)


def serves(path: str) -> bool:
    """Whether ``path`` is a dashboard page: its errors are HTML pages (``error_pages``), not JSON."""
    return path == URL_PREFIX or path.startswith(URL_PREFIX + "/")


def _before_page() -> None:
    if request.blueprint in PAGE_BLUEPRINTS:
        auth.load_officer()
        auth.check_csrf()
        scope.check_ticket_route(g.officer)


def _template_context() -> dict:
    return {"csrf_token": auth.csrf_token, "status_labels": ticket_ops.STATUS_LABELS_VI,
            "reason_labels": ticket_ops.REASON_LABELS_VI, "channel_labels": CHANNEL_LABELS,
            "delivery_labels": DELIVERY_LABELS, "local_time": format_short,
            "org_name": current_runtime().settings["ORG_NAME"]}
