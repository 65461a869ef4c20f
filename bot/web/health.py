"""Health endpoints: /healthz (process up), /readyz (database, model and, in redis mode, Redis
reachable) and /metrics (Prometheus text format, ``bot.metrics``)."""

import hmac
import ipaddress

from flask import Blueprint, Response, jsonify, request

from .. import metrics
from ..errors import APIError
from ..runtime import current_runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    checks = current_runtime().readiness()
    ready = all(c["ok"] for c in checks.values())
    response = jsonify({"status": "ready" if ready else "not_ready", "checks": checks})
    response.status_code = 200 if ready else 503
    return response


@bp.get("/metrics")
def prometheus():
    runtime = current_runtime()
    token = runtime.settings["METRICS_TOKEN"]
    sent = request.headers.get("Authorization", "")
    if token:
        if not hmac.compare_digest(sent.encode("utf-8", "replace"), f"Bearer {token}".encode()):
            raise APIError("Cần mã truy cập số liệu (METRICS_TOKEN).", 401, "unauthorized")
    elif not _loopback(request.remote_addr):
        raise APIError("Số liệu chỉ mở cho máy chủ nội bộ; đặt METRICS_TOKEN để đọc từ nơi khác.", 403, "forbidden")
    if runtime.metrics_registry is None:
        runtime.metrics_registry = metrics.registry_for(runtime.db)
    return Response(metrics.render(runtime.metrics_registry), mimetype="text/plain; version=0.0.4; charset=utf-8")


def _loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False
