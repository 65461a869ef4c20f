"""Rasa-compatible HTTP API: ``POST /model/parse`` and ``POST /webhooks/rest/webhook``."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from ..errors import APIError
from ..runtime import current_runtime

bp = Blueprint("rasa_api", __name__)

MAX_TEXT_CHARS = 10_000


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise APIError("Cần gửi một đối tượng JSON.", 400, "invalid_json")
    return body


def text_field(body: dict, name: str, limit: int = MAX_TEXT_CHARS) -> str:
    value = body.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise APIError(f"Trường '{name}' phải là chuỗi.", 400, "invalid_field")
    if len(value) > limit:
        raise APIError(f"Trường '{name}' dài quá {limit} ký tự.", 413, "too_long")
    return value


@bp.post("/model/parse")
def model_parse():
    body = json_body()
    text = text_field(body, "text")
    runtime = current_runtime()
    runtime.reload_model_if_changed()
    return jsonify(runtime.engine.parse(text))
