"""Platform webhooks: verify, parse, store in the inbox, answer 200, wake the workers.

Nothing here decides what to say. A webhook is acknowledged only after its events are stored, so an
accepted message is never lost; a forged or unsigned request gets 403 and stores nothing.
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid

from flask import Blueprint, current_app, jsonify, request

from ..channels import messenger, zalo
from ..channels.base import MAX_INCOMING_TEXT, IncomingMessage
from ..errors import APIError
from .rasa_api import json_body, text_field

logger = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _runtime():
    return current_app.extensions["bot"]


def _disabled(name: str):
    return APIError(f"Kênh {name} chưa được cấu hình trên máy chủ này.", 404, "channel_disabled")


def _load_json(raw: bytes) -> dict:
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise APIError("Nội dung không phải JSON hợp lệ.", 400, "invalid_json") from None
    if not isinstance(body, dict):
        raise APIError("Nội dung phải là một đối tượng JSON.", 400, "invalid_json")
    return body


# --- Facebook Messenger ------------------------------------------------------------------------


@bp.get("/facebook/webhook")
def facebook_verify():
    settings = _runtime().settings
    if not _runtime().messenger_enabled:
        raise _disabled("Messenger")
    mode = request.args.get("hub.mode")
    token = request.args.get("hub.verify_token", "")
    challenge = request.args.get("hub.challenge", "")
    if mode == "subscribe" and settings["FACEBOOK_VERIFY_TOKEN"] and hmac.compare_digest(token, settings["FACEBOOK_VERIFY_TOKEN"]):
        return challenge, 200, {"Content-Type": "text/plain; charset=utf-8"}
    raise APIError("Mã xác minh không đúng.", 403, "forbidden")


@bp.post("/facebook/webhook")
def facebook_event():
    runtime = _runtime()
    if not runtime.messenger_enabled:
        raise _disabled("Messenger")
    raw = request.get_data(cache=False)
    if not messenger.verify_signature(runtime.settings["FACEBOOK_APP_SECRET"], raw, request.headers.get("X-Hub-Signature-256")):
        logger.warning("Messenger webhook with a missing or wrong signature rejected")
        raise APIError("Chữ ký không hợp lệ.", 403, "invalid_signature")
    body = _load_json(raw)
    try:
        messages = messenger.parse_webhook(body)
    except ValueError:
        raise APIError("Không phải sự kiện Messenger của trang.", 400, "invalid_event") from None
    new = runtime.inbox.accept(messages)
    if new:
        runtime.workers.notify_inbox()
    return "EVENT_RECEIVED", 200, {"Content-Type": "text/plain; charset=utf-8"}


# --- Zalo OA -----------------------------------------------------------------------------------


@bp.post("/zalo/webhook")
def zalo_event():
    runtime = _runtime()
    if not runtime.zalo_enabled:
        raise _disabled("Zalo")
    settings = runtime.settings
    raw = request.get_data(cache=False)
    # The signature covers the raw body and the event's own timestamp field, so the body has to be
    # read for the timestamp; nothing else from it is used before the check passes.
    body = _load_json(raw)
    if not zalo.verify_signature(settings["ZALO_APP_ID"], settings["ZALO_OA_SECRET_KEY"], raw, body.get("timestamp"),
                                 request.headers.get("X-ZEvent-Signature")):
        logger.warning("Zalo webhook with a missing or wrong signature rejected")
        raise APIError("Chữ ký không hợp lệ.", 403, "invalid_signature")
    try:
        message = zalo.parse_event(body)
    except ValueError:
        raise APIError("Không phải sự kiện Zalo OA.", 400, "invalid_event") from None
    if message is not None and runtime.inbox.accept([message]):
        runtime.workers.notify_inbox()
    return jsonify({"error": 0, "message": "Success"})


# --- Rasa REST channel (also used by the web chat widget) -------------------------------------


@bp.post("/rest/webhook")
def rest_webhook():
    runtime = _runtime()
    body = json_body()
    sender = body.get("sender")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > 200:
        raise APIError("Trường 'sender' phải là chuỗi không rỗng (tối đa 200 ký tự).", 400, "invalid_field")
    text = text_field(body, "message", limit=MAX_INCOMING_TEXT)
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    message_id = str(metadata.get("message_id") or uuid.uuid4().hex)[:200]
    payload = text.strip() if text.strip().startswith("/") else None
    incoming = IncomingMessage("web", sender.strip(), message_id, "postback" if payload else "text", text=text, payload=payload,
                               display_name=str(metadata.get("name") or "")[:200] or None)
    new = runtime.inbox.accept([incoming])
    if new:
        outcome = runtime.conversations.process(new[0])
        if outcome is None:  # processed concurrently by a worker: return what it produced
            outcome = runtime.conversations.outcome_for(new[0])
        runtime.workers.notify_outbox()
    else:
        outcome = runtime.conversations.outcome_for(runtime.inbox.event_id("web", message_id))
    return jsonify([{"recipient_id": sender, "text": r["text"], **({"buttons": r["buttons"]} if r.get("buttons") else {})}
                    for r in outcome.replies])


@bp.get("/rest/messages")
def rest_poll():
    """Officer replies for a web chat user, delivered by polling (``?sender=…&after=<id>``)."""
    runtime = _runtime()
    sender = request.args.get("sender", "")
    if not sender or len(sender) > 200:
        raise APIError("Thiếu tham số 'sender'.", 400, "invalid_field")
    try:
        after = int(request.args.get("after", "0"))
    except ValueError:
        raise APIError("Tham số 'after' phải là số.", 400, "invalid_field") from None
    return jsonify({"messages": runtime.web_messages(sender, after)})
