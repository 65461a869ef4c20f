"""Platform webhooks: verify, parse, store in the inbox, answer 200, wake the workers.

Nothing here decides what to say. A webhook is acknowledged only after its events are stored, so an
accepted message is never lost; a forged or unsigned request gets 403 and stores nothing.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import logging

from flask import Blueprint, jsonify, request

from .. import comments, outbox
from ..channels import messenger, rest, zalo
from ..errors import APIError
from ..runtime import current_runtime
from . import ratelimit
from .rasa_api import json_body, load_json

logger = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _enabled_runtime(channel: str, label: str):
    runtime = current_runtime()
    if not runtime.channels.enabled(channel) and not runtime.unit_channels.has_accounts(channel):
        raise APIError(f"Kênh {label} chưa được cấu hình trên máy chủ này.", 404, "channel_disabled")
    return runtime


# --- Facebook Messenger ------------------------------------------------------------------------


@bp.get("/facebook/webhook")
def facebook_verify():
    settings = _enabled_runtime("messenger", "Messenger").settings
    mode = request.args.get("hub.mode")
    token = request.args.get("hub.verify_token", "")
    challenge = request.args.get("hub.challenge", "")
    # The global token or a page's own (bot/unit_channels.py); every one is compared, in constant time.
    expected = [settings["FACEBOOK_VERIFY_TOKEN"]] + current_runtime().unit_channels.messenger_verify_tokens()
    # bytes, not str: compare_digest refuses non-ASCII strings (a TypeError, once a 500)
    matches = [hmac.compare_digest(token.encode("utf-8", "replace"), e.encode("utf-8")) for e in expected if e]
    if mode == "subscribe" and any(matches):
        return challenge, 200, {"Content-Type": "text/plain; charset=utf-8"}
    raise APIError("Mã xác minh không đúng.", 403, "forbidden")


@bp.post("/facebook/webhook")
def facebook_event():
    runtime = _enabled_runtime("messenger", "Messenger")
    raw = request.get_data(cache=False)
    header = request.headers.get("X-Hub-Signature-256")
    if not messenger.verify_signature(runtime.settings["FACEBOOK_APP_SECRET"], raw, header) and not any(
            messenger.verify_signature(secret, raw, header) for secret in runtime.unit_channels.messenger_secrets(_page_ids(raw))):
        logger.warning("Messenger webhook with a missing or wrong signature rejected")
        raise APIError("Chữ ký không hợp lệ.", 403, "invalid_signature")
    body = load_json(raw)
    try:
        messages = messenger.parse_webhook(body)
        changes = comments.parse_feed(body)  # fanpage comments ride on the same webhook
    except (ValueError, TypeError, AttributeError, KeyError):  # the parser's own checks, and a safety net
        raise APIError("Không phải sự kiện Messenger của trang.", 400, "invalid_event") from None
    messages = runtime.unit_channels.route("messenger", messages)
    # Comments under posts of a page that is not ours (or is switched off) are dropped like messages.
    changes = [c for c in changes if runtime.unit_channels.accepts("messenger", c.page_id)]
    messages += runtime.unit_channels.route("messenger", comments.accept_changes(runtime.db, changes))
    new = runtime.inbox.accept(messages)
    if new:
        runtime.workers.notify_inbox()
    return "EVENT_RECEIVED", 200, {"Content-Type": "text/plain; charset=utf-8"}


def _page_ids(raw: bytes) -> list[str]:
    """The page ids of a webhook body not yet verified, only to find the pages' own app secrets."""
    try:
        body = json.loads(raw)
        return [str(e["id"]) for e in body["entry"][:50] if isinstance(e, dict) and isinstance(e.get("id"), (str, int))]
    except (ValueError, TypeError, KeyError, RecursionError):  # a hostile body: no page, so no page secret
        return []


# --- Zalo OA -----------------------------------------------------------------------------------


@bp.post("/zalo/webhook")
def zalo_event():
    runtime = _enabled_runtime("zalo", "Zalo")
    settings = runtime.settings
    raw = request.get_data(cache=False)
    # The signature covers the raw body and the event's own timestamp field, so the body has to be
    # read for the timestamp; nothing else from it is used before the check passes.
    body = load_json(raw)
    header = request.headers.get("X-ZEvent-Signature")
    if not zalo.verify_signature(settings["ZALO_APP_ID"], settings["ZALO_OA_SECRET_KEY"], raw, body.get("timestamp"), header) and not any(
            zalo.verify_signature(app_id, key, raw, body.get("timestamp"), header)
            for app_id, key in runtime.unit_channels.zalo_keys(zalo.account_of(body))):
        logger.warning("Zalo webhook with a missing or wrong signature rejected")
        raise APIError("Chữ ký không hợp lệ.", 403, "invalid_signature")
    try:
        message = zalo.parse_event(body)
    except (ValueError, TypeError, AttributeError, KeyError):
        raise APIError("Không phải sự kiện Zalo OA.", 400, "invalid_event") from None
    if message is not None:  # the OA it is for: several OAs may share the webhook
        message = dataclasses.replace(message, account=zalo.account_of(body))
        message = (runtime.unit_channels.route("zalo", [message]) or [None])[0]
    if message is not None and runtime.inbox.accept([message]):
        runtime.workers.notify_inbox()
    return jsonify({"error": 0, "message": "Success"})


# --- Rasa REST channel (also used by the web chat widget) -------------------------------------


@bp.post("/rest/webhook")
def rest_webhook():
    """Store, then answer at once: the reply is the HTTP response (a pull channel)."""
    runtime = current_runtime()
    body = json_body()
    ratelimit.limit("rest", body.get("sender") if isinstance(body.get("sender"), str) else None)
    try:
        incoming = rest.parse_message(body)
    except rest.InvalidMessage as exc:
        raise APIError(exc.message, 413 if exc.code == "too_long" else 400, exc.code) from None
    incoming = dataclasses.replace(incoming, unit_id=_chosen_unit(runtime, body))
    new = runtime.inbox.accept([incoming])
    if new:
        runtime.reload_knowledge_if_changed()  # answered in this request, not by a worker round
        outcome = runtime.dialogue.process(new[0])
        if outcome is None:  # a worker took it first (a round's batch): answer with what it produces
            outcome = runtime.dialogue.wait_for_outcome(new[0])
        runtime.workers.notify_outbox()
    else:
        outcome = runtime.dialogue.outcome_for(runtime.inbox.event_id(rest.CHANNEL, incoming.message_id))
    return jsonify(rest.reply_json(body["sender"], outcome.replies))


def _chosen_unit(runtime, body: dict) -> int | None:
    """``?unit=ID`` (or a ``unit`` field): the unit whose officers answer this web chat; None: the root."""
    raw = request.args.get("unit") or body.get("unit")
    if raw in (None, ""):
        return None
    try:
        unit_id = int(str(raw).strip())
    except ValueError:
        raise APIError("Tham số 'unit' phải là mã số đơn vị.", 400, "invalid_field") from None
    from ..storage.models import Unit

    with runtime.db.read() as session:
        if session.get(Unit, unit_id) is None:
            raise APIError(f"Không có đơn vị số {unit_id}.", 400, "unknown_unit")
    return unit_id


@bp.get("/rest/messages")
def rest_poll():
    """Officer replies for a web chat user, delivered by polling (``?sender=…&after=<id>``)."""
    sender = request.args.get("sender", "")
    if not sender or len(sender) > rest.MAX_SENDER_CHARS:
        raise APIError("Thiếu tham số 'sender'.", 400, "invalid_field")
    try:
        after = int(request.args.get("after", "0"))
    except ValueError:
        raise APIError("Tham số 'after' phải là số.", 400, "invalid_field") from None
    return jsonify({"messages": outbox.pull(current_runtime().db, rest.CHANNEL, sender, after)})
