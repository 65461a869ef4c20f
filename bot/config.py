"""Settings, declared as a table: name, default, help.

Every setting is read from the environment variable of the same name; ``create_app(config)`` and
``Settings.load(overrides)`` accept a mapping that wins over the environment (used by tests).
``python -m bot settings`` prints the table; the README documents each entry (a test checks this).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    type: Callable[[str], Any] = str
    secret: bool = False


def _engine(value: str) -> str:
    value = str(value).strip().lower()
    if value not in ("native", "rasa"):
        raise ValueError(value)
    return value


def _bool(value: str) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


SETTINGS: tuple[Setting, ...] = (
    # --- storage and paths
    Setting("DATABASE_URL", "", "SQLAlchemy URL. Empty: SQLite at instance/bot.db. PostgreSQL: postgresql+psycopg://user@host/db"),
    Setting("INSTANCE_DIR", str(PROJECT_ROOT / "instance"), "Folder for the SQLite database and local state"),
    Setting("MODELS_DIR", str(PROJECT_ROOT / "models"), "Folder of versioned NLU models (CURRENT points at the one in use)"),
    Setting("NLU_DATA_DIR", str(PROJECT_ROOT / "nlu_data"), "Training data (Rasa 3.x YAML) and abbreviations.yml"),
    Setting("FAQ_DIR", str(PROJECT_ROOT / "faq"), "Knowledge base: one YAML file per topic group"),
    Setting("CALIBRATION_FILE", str(PROJECT_ROOT / "nlu_data" / "calibration.yml"),
            "Independently written messages (topic labels) that `train` uses to choose the answer threshold; never trained on"),
    Setting("TEST_SET_FILE", str(PROJECT_ROOT / "tests" / "data" / "independent_test.yml"),
            "Independent test set a retrain's candidate is compared on (a deployment without it compares on CALIBRATION_FILE only)"),
    Setting("RETRAIN_FOLDS", 5, "Cross-validation folds of a retrain started from the dashboard (as `python -m bot train`)", int),
    Setting("REPORTS_DIR", str(PROJECT_ROOT / "reports"), "Where `evaluate` writes HTML reports"),
    # --- server
    Setting("HOST", "127.0.0.1", "Address `python server.py` listens on"),
    Setting("PORT", 5005, "Port `python server.py` listens on", int),
    Setting("SERVER_THREADS", 8, "Waitress worker threads", int),
    Setting("SECRET_KEY", "", "Flask session key for the dashboard. Empty: a random key stored in instance/secret_key", secret=True),
    Setting("LOG_LEVEL", "INFO", "Python log level"),
    Setting("WORKER_MODE", "thread", "How inbox/outbox rows are processed: thread (in the server), redis (separate workers), none (tests)"),
    Setting("REDIS_URL", "redis://127.0.0.1:6379/0", "Redis for WORKER_MODE=redis"),
    Setting("WORKER_LINGER_MS", 50, "A `python -m bot worker` woken by a message waits this long for more before its round, so "
            "that several messages share one transaction on PostgreSQL: about half the CPU per message at 100 messages/s, for "
            "that much more latency (0: answer each at once)", int),
    Setting("RATE_LIMIT_PER_SENDER", 20, "Web chat / REST messages one sender may send per minute (0: no limit)", int),
    Setting("RATE_LIMIT_PER_ADDRESS", 600,
            "Requests per minute to the public endpoints (web chat, REST, /model/parse) from one client address; generous, as a "
            "factory's workers often share one address (0: no limit)", int),
    Setting("TRUSTED_PROXY_HOPS", 0, "Reverse proxies in front of the server whose X-Forwarded-For is trusted (0: none)", int),
    Setting("WEBCHAT_ORIGINS", "*", "Space-separated origins allowed to embed the web chat widget (CORS); * for any"),
    Setting("MAX_MESSAGE_CHARS", 4000, "Longer incoming messages are truncated (the full text is still stored)", int),
    # --- dialogue
    Setting("SLA_HOURS", 24, "Hours an officer has to answer a handed-off question", int),
    Setting("CONVERSATION_TIMEOUT_MINUTES", 60, "A conversation's dialogue state expires after this much inactivity", int),
    # --- Rasa interoperability (bot/rasa/): a Rasa server decides what to say, our channels and queue stay
    Setting("BOT_ENGINE", "native", "Who decides the replies: native (our engine) or rasa (a Rasa server at RASA_URL, through its REST channel)", _engine),
    Setting("RASA_URL", "http://127.0.0.1:5006", "Rasa server for BOT_ENGINE=rasa (`rasa run --enable-api`)"),
    Setting("RASA_TIMEOUT_SECONDS", 30.0, "Timeout of one call to the Rasa server; a failed call is retried like any failed turn", float),
    Setting("RASA_ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook", "Our action server, as `export-rasa` writes it into endpoints.yml"),
    # --- KPI of the communication programme (/dashboard/kpi): answer every question, double the answered volume
    Setting("KPI_BASELINE_MONTHLY_ANSWERED", 0.0,
            "Questions answered per month before the programme (the KPI's target is twice this); 0: use KPI_BASELINE_YEAR", float),
    Setting("KPI_BASELINE_YEAR", 0, "Year whose average answered per month (months with questions) is the baseline when the above is 0; 0: none", int),
    # --- personal data
    Setting("RETENTION_DAYS", 365, "Days personal data is kept after a question is closed; a daily purge anonymises older data (0: never)", int),
    # --- organisation (placeholders in FAQ answers)
    Setting("ORG_NAME", "Liên đoàn Lao động tỉnh", "Full name of the union, {org_name} in answers"),
    Setting("ORG_SHORT_NAME", "LĐLĐ tỉnh", "Short name, {org_short_name}"),
    Setting("HOTLINE", "(chưa cấu hình số đường dây nóng)", "Hotline, {hotline}"),
    Setting("ADDRESS", "(chưa cấu hình địa chỉ)", "Office address, {address}"),
    Setting("OFFICE_HOURS", "giờ hành chính, thứ Hai đến thứ Sáu", "Office hours, {office_hours}"),
    Setting("FANPAGE_URL", "", "Facebook fanpage link, {fanpage_url}"),
    Setting("ZALO_URL", "", "Zalo OA link, {zalo_url}"),
    # --- units of the federation (bot/units.py): pages and OAs of several units, their secrets encrypted
    Setting("SECRETS_KEY", "", "Fernet key encrypting the pages' and OAs' tokens in the database (`python -m bot units new-key`)", secret=True),
    Setting("UNIT_CACHE_SECONDS", 10.0,
            "Seconds a process keeps what each message looks up about units and pages (root, a page's unit and secrets, "
            "placeholders); changes made in another process (the CLI) apply within this time (0: no cache)", float),
    Setting("ESCALATE_BEFORE_HOURS", 4.0, "An unanswered question moves to the parent unit this many hours before its deadline (0: never)", float),
    Setting("SECRETS_KEY_OLD", "", "Former SECRETS_KEY values (space-separated) still accepted for decryption during a key rotation", secret=True),
    # --- Facebook Messenger
    Setting("FACEBOOK_APP_SECRET", "", "App secret used to verify X-Hub-Signature-256; empty disables Messenger", secret=True),
    Setting("FACEBOOK_VERIFY_TOKEN", "", "Token for the webhook verification handshake", secret=True),
    Setting("FACEBOOK_PAGE_ACCESS_TOKEN", "", "Page access token for the Send API", secret=True),
    Setting("FACEBOOK_GRAPH_URL", "https://graph.facebook.com/v21.0", "Graph API base URL (with version)"),
    Setting("FACEBOOK_COMMENT_PUBLIC_REPLIES", True,
            "Answer FAQ comments under posts with a short public reply (the answer itself always goes privately)", _bool),
    Setting("FACEBOOK_COMMENT_PUBLIC_REPLIES_OFF_PAGES", "", "Comma-separated page ids whose comments never get a public reply"),
    # --- Zalo OA
    Setting("ZALO_APP_ID", "", "Zalo app id (part of the webhook signature); empty disables Zalo"),
    Setting("ZALO_OA_SECRET_KEY", "", "OA secret key used to verify X-ZEvent-Signature", secret=True),
    Setting("ZALO_APP_SECRET", "", "App secret key for refreshing access tokens", secret=True),
    Setting("ZALO_ACCESS_TOKEN", "", "Initial OA access token", secret=True),
    Setting("ZALO_REFRESH_TOKEN", "", "Initial OA refresh token", secret=True),
    Setting("ZALO_API_URL", "https://openapi.zalo.me", "Zalo OpenAPI base URL"),
    Setting("ZALO_OAUTH_URL", "https://oauth.zaloapp.com", "Zalo OAuth base URL (token refresh)"),
    Setting("METRICS_TOKEN", "", "Bearer token for /metrics from other hosts (empty: /metrics only from loopback)"),
    Setting("METRICS_PORT", 0, "python -m bot worker serves its own Prometheus metrics on this port (0: off)", int),
    Setting("HTTP_TIMEOUT_SECONDS", 10.0, "Timeout for calls to platform APIs", float),
    # --- officers, notifications
    Setting("PUBLIC_URL", "http://127.0.0.1:5005", "Address officers use to reach the dashboard (links in alerts)"),
    Setting("SESSION_COOKIE_SECURE", False, "Send the dashboard cookie over HTTPS only (set true behind HTTPS)", _bool),
    Setting("LOGIN_MAX_FAILURES", 5, "Failed logins per e-mail and address before a 15-minute lock", int),
    Setting("LOGIN_ACCOUNT_MAX_FAILURES", 20, "Failed logins per e-mail from any address before that account is locked for 15 minutes", int),
    Setting("NOTIFY_EMAILS", "", "Space-separated e-mail addresses that receive ticket alerts"),
    Setting("NOTIFY_WEBHOOK_URL", "", "JSON webhook (e.g. a group-chat bot) that receives ticket alerts"),
    Setting("NOTIFY_INTERVAL_SECONDS", 60, "How often the alert scheduler checks deadlines", int),
    Setting("SMTP_HOST", "", "SMTP server for alerts; empty disables e-mail"),
    Setting("SMTP_PORT", 587, "SMTP port", int),
    Setting("SMTP_USER", "", "SMTP user name (empty: no login)"),
    Setting("SMTP_PASSWORD", "", "SMTP password", secret=True),
    Setting("SMTP_FROM", "congdoan-bot@localhost", "Sender address of alert e-mails"),
    Setting("SMTP_STARTTLS", True, "Use STARTTLS", _bool),
)

SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


class Settings(dict):
    """A plain dict of typed settings."""

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        overrides = dict(overrides or {})
        values = {}
        for s in SETTINGS:
            if s.name in overrides:
                raw = overrides.pop(s.name)
            elif s.name in environ:
                raw = environ[s.name]
            else:
                values[s.name] = s.default
                continue
            try:
                values[s.name] = s.type(raw) if not isinstance(raw, (int, float, bool)) or s.type is str else raw
            except (TypeError, ValueError):
                raise ValueError(f"Giá trị cấu hình {s.name}={raw!r} không hợp lệ") from None
        values.update(overrides)  # extra keys (e.g. Flask's TESTING) pass through
        settings = cls(values)
        if not settings["DATABASE_URL"]:
            settings["DATABASE_URL"] = "sqlite:///" + str(Path(settings["INSTANCE_DIR"]) / "bot.db")
        return settings

    def org_context(self) -> dict[str, str]:
        return {
            "org_name": self["ORG_NAME"],
            "org_short_name": self["ORG_SHORT_NAME"],
            "hotline": self["HOTLINE"],
            "address": self["ADDRESS"],
            "office_hours": self["OFFICE_HOURS"],
            "fanpage_url": self["FANPAGE_URL"],
            "zalo_url": self["ZALO_URL"],
        }
