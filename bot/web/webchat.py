"""The web chat: a landing page with the widget, and ``/widget.js`` to embed on the union's site.

The widget may be served from another origin (the union's website), so the REST channel answers
CORS requests from ``WEBCHAT_ORIGINS``.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, send_from_directory, url_for

from ..runtime import current_runtime

bp = Blueprint("webchat", __name__, static_folder="static", template_folder="templates")

CORS_PATHS = ("/webhooks/rest/webhook", "/webhooks/rest/messages")


@bp.get("/")
def index():
    settings = current_runtime().settings
    return render_template(
        "chat.html",
        org_name=settings["ORG_NAME"],
        org_short_name=settings["ORG_SHORT_NAME"],
        sla_hours=settings["SLA_HOURS"],
        widget_url=url_for("webchat.widget", _external=True),
        open_chat=request.args.get("open") == "1",
        unit_id=request.args.get("unit", type=int),  # /?unit=ID: the chat of a unit (checked by the REST channel)
    )


@bp.get("/widget.js")
def widget():
    response = send_from_directory(bp.static_folder, "widget.js", mimetype="application/javascript", max_age=300)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def add_cors(response):
    """CORS for the REST channel so the widget works when embedded on another site."""
    if request.path in CORS_PATHS:
        allowed = current_runtime().settings["WEBCHAT_ORIGINS"].split()
        origin = request.headers.get("Origin")
        if "*" in allowed:
            response.headers["Access-Control-Allow-Origin"] = "*"
        elif origin and origin in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    return response
