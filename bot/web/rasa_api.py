"""Rasa-compatible HTTP API: ``POST /model/parse`` and ``POST /webhooks/rest/webhook``."""

from __future__ import annotations

import json

from flask import Blueprint, jsonify, request

from ..channels.base import clean_text
from ..errors import APIError
from ..runtime import current_runtime
from . import ratelimit

bp = Blueprint("rasa_api", __name__)

MAX_TEXT_CHARS = 10_000


def load_json(raw: bytes) -> dict:
    """A JSON object from a request body; 400 for anything else, including nesting so deep that
    the parser gives up (RecursionError) and invalid UTF-8."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise APIError("Nội dung không phải JSON hợp lệ.", 400, "invalid_json") from None
    if not isinstance(body, dict):
        raise APIError("Cần gửi một đối tượng JSON.", 400, "invalid_json")
    return body


def json_body() -> dict:
    return load_json(request.get_data(cache=True))


def text_field(body: dict, name: str, limit: int = MAX_TEXT_CHARS) -> str:
    value = body.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise APIError(f"Trường '{name}' phải là chuỗi.", 400, "invalid_field")
    if len(value) > limit:
        raise APIError(f"Trường '{name}' dài quá {limit} ký tự.", 413, "too_long")
    return clean_text(value)


@bp.post("/model/parse")
def model_parse():
    ratelimit.limit("parse")
    body = json_body()
    text = text_field(body, "text")
    runtime = current_runtime()
    runtime.reload_if_changed()
    return jsonify(runtime.engine.parse(text))
