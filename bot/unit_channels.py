"""Several pages and OAs in one deployment: which account an event is for, and sending through it.

Messenger tells pages apart by ``entry[].id`` (the page id), Zalo by the event's ``oa_id`` or
``recipient.id``. While no account of a channel is registered (``python -m bot units account add``),
the channel works exactly as before on the global ``FACEBOOK_*`` / ``ZALO_*`` settings. Once accounts
exist, an event for a page/OA that is not registered (or is switched off) is logged, by channel and
id only, and dropped: acknowledged with 200, never processed, never answered.

A webhook signature is accepted with the global app secret or with the app secret of the account
the event is for (one Facebook app may serve many pages). Replies go out through the account that
received the question (``OutboxMessage.account_external_id`` → ``SendContext.account``): its own
page token, or its own Zalo token pair, refreshed per OA and stored encrypted in its row. An
account without its own token uses the global one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading

import httpx
from sqlalchemy import select

from . import units
from .channels.base import ChannelSender, IncomingMessage, PermanentDeliveryError, SendContext, SendResult
from .channels.comments import CommentSender
from .channels.messenger import MessengerSender
from .channels.zalo import ZaloSender
from .secretbox import SecretBox
from .storage import Database
from .storage.models import UnitAccount

logger = logging.getLogger(__name__)

ACCOUNT_CHANNELS = ("messenger", "zalo")
ACCOUNT_OF = {CommentSender.channel: "messenger"}  # replies under a page's posts go through the page's account


@dataclasses.dataclass(frozen=True)
class Account:
    """An account's row with its secrets decrypted (kept in memory only, never logged)."""

    id: int
    channel: str
    external_id: str
    unit_id: int
    active: bool
    app_id: str | None
    page_access_token: str | None
    app_secret: str | None
    verify_token: str | None
    oa_secret_key: str | None
    access_token: str | None
    refresh_token: str | None
    updated_at: dt.datetime

    def __repr__(self) -> str:  # secrets stay out of tracebacks and logs
        return f"Account({self.channel} {self.external_id}, unit {self.unit_id})"


class AccountTokenStore:
    """One OA's rotating Zalo token pair, encrypted in its ``unit_accounts`` row."""

    def __init__(self, db: Database, box: SecretBox, account_id: int):
        self.db, self.box, self.account_id = db, box, account_id

    def load(self) -> tuple[str, str, dt.datetime | None]:
        with self.db.read() as session:
            row = session.get(UnitAccount, self.account_id)
            if row is None:
                raise PermanentDeliveryError("OA Zalo này không còn được cấu hình.")
            return self.box.decrypt(row.access_token) or "", self.box.decrypt(row.refresh_token) or "", row.token_expires_at

    def save(self, access_token: str, refresh_token: str, expires_at: dt.datetime | None) -> None:
        with self.db.session() as session:
            row = session.get(UnitAccount, self.account_id)
            if row is None:
                return
            row.access_token = self.box.encrypt(access_token)
            row.refresh_token = self.box.encrypt(refresh_token) if refresh_token else None
            row.token_expires_at = expires_at
            # updated_at is left alone: the cached sender (and its lock) stays the same for this OA


class UnitChannels:
    def __init__(self, db: Database, settings, client: httpx.Client, defaults: dict[str, ChannelSender], clock=None):
        self.db = db
        self.settings = settings
        self.client = client
        self.defaults = dict(defaults)
        self.box = SecretBox.from_settings(settings)
        self.clock = clock
        self._senders: dict[tuple[str, str], tuple[dt.datetime, ChannelSender]] = {}
        self._lock = threading.Lock()

    # -- accounts ---------------------------------------------------------------------------------
    def has_accounts(self, channel: str) -> bool:
        with self.db.read() as session:
            return units.cache.get(session, ("has_accounts", channel), lambda: units.has_accounts(session, channel))

    def account(self, channel: str, external_id: str | None) -> Account | None:
        if not external_id:
            return None
        with self.db.read() as session:
            return units.cache.get(session, ("account", channel, str(external_id)), lambda: self._load_account(session, channel, external_id))

    def _load_account(self, session, channel: str, external_id: str) -> Account | None:
        row = units.find_account(session, channel, external_id)
        if row is None:
            return None
        d = self.box.decrypt
        return Account(row.id, row.channel, row.external_id, row.unit_id, row.active, row.app_id, d(row.page_access_token),
                       d(row.app_secret), d(row.verify_token), d(row.oa_secret_key), d(row.access_token), d(row.refresh_token),
                       row.updated_at)

    def accounts(self, channel: str) -> list[Account]:
        with self.db.read() as session:
            ids = session.scalars(select(UnitAccount.external_id).where(UnitAccount.channel == channel)).all()
        return [a for a in (self.account(channel, i) for i in ids) if a is not None]

    def public_replies_enabled(self, page_id: str | None) -> bool:
        """The page's setting for public replies under its comments (a page without an account: on)."""
        with self.db.read() as session:
            return units.public_replies_enabled(session, page_id)

    # -- webhooks ---------------------------------------------------------------------------------
    def messenger_secrets(self, page_ids: list[str]) -> list[str]:
        """App secrets a Messenger webhook for these pages may be signed with."""
        secrets = [self.settings["FACEBOOK_APP_SECRET"]] if self.settings["FACEBOOK_APP_SECRET"] else []
        for page_id in page_ids:
            account = self.account("messenger", page_id)
            if account is not None and account.app_secret and account.app_secret not in secrets:
                secrets.append(account.app_secret)
        return secrets

    def messenger_verify_tokens(self) -> list[str]:
        tokens = [self.settings["FACEBOOK_VERIFY_TOKEN"]] if self.settings["FACEBOOK_VERIFY_TOKEN"] else []
        return tokens + [a.verify_token for a in self.accounts("messenger") if a.verify_token]

    def zalo_keys(self, oa_id: str | None) -> list[tuple[str, str]]:
        """(app id, OA secret key) pairs a Zalo webhook for this OA may be signed with."""
        s = self.settings
        keys = [(s["ZALO_APP_ID"], s["ZALO_OA_SECRET_KEY"])] if s["ZALO_APP_ID"] and s["ZALO_OA_SECRET_KEY"] else []
        account = self.account("zalo", oa_id)
        if account is not None and account.oa_secret_key:
            keys.append((account.app_id or s["ZALO_APP_ID"], account.oa_secret_key))
        return keys

    def accepts(self, channel: str, external_id: str | None) -> bool:
        """Whether an event for this page/OA is ours: any, while the channel has no accounts."""
        if not self.has_accounts(channel):
            return True
        account = self.account(channel, external_id)
        if account is None or not account.active:
            logger.warning("%s event for %s account %s dropped", channel, "an inactive" if account else "an unknown", external_id or "-")
            return False
        return True

    def route(self, channel: str, messages: list[IncomingMessage]) -> list[IncomingMessage]:
        """The messages to accept, each with its unit; events for unknown or inactive accounts are
        dropped (logged without content). Without accounts for the channel, all pass unchanged."""
        if not messages or not self.has_accounts(channel):
            return messages
        kept = []
        for m in messages:
            account = self.account(channel, m.account)
            if account is None or not account.active:
                logger.warning("%s event for %s account %s dropped", channel, "an inactive" if account else "an unknown", m.account or "-")
                continue
            kept.append(dataclasses.replace(m, unit_id=account.unit_id))
        return kept

    # -- sending ------------------------------------------------------------------------------------
    def sender(self, channel: str, external_id: str | None) -> ChannelSender:
        default = self.defaults.get(channel)
        account = self.account(ACCOUNT_OF.get(channel, channel), external_id)
        if account is None:  # the single page/OA of the global settings (no account registered for this id)
            if default is None:
                raise PermanentDeliveryError(f"Kênh {channel} chưa được cấu hình cho trang/OA này nên không gửi được.")
            return default
        if not account.active:
            raise PermanentDeliveryError(f"Trang/OA {external_id} không còn được cấu hình hoặc đã tắt nên không gửi được.")
        key = (channel, external_id)  # a page has two senders: messages and comment replies
        with self._lock:
            cached = self._senders.get(key)
            if cached is not None and cached[0] == account.updated_at:
                return cached[1]
            sender = self._build(account, default, channel)
            self._senders[key] = (account.updated_at, sender)
            return sender

    def _build(self, account: Account, default: ChannelSender | None, channel: str) -> ChannelSender:
        s = self.settings
        if account.channel == "messenger":
            token = account.page_access_token or s["FACEBOOK_PAGE_ACCESS_TOKEN"]
            if not token:
                raise PermanentDeliveryError(f"Trang {account.external_id} chưa có mã truy cập trang.")
            if channel == CommentSender.channel:  # replies under the page's posts, with the same page token
                return CommentSender(s["FACEBOOK_GRAPH_URL"], token, client=self.client)
            return MessengerSender(s["FACEBOOK_GRAPH_URL"], token, client=self.client)
        if not account.access_token and not account.refresh_token:
            if default is None:
                raise PermanentDeliveryError(f"OA {account.external_id} chưa có mã truy cập Zalo.")
            return default
        kwargs = {"clock": self.clock} if self.clock else {}
        return ZaloSender(s["ZALO_API_URL"], s["ZALO_OAUTH_URL"], account.app_id or s["ZALO_APP_ID"],
                          account.app_secret or s["ZALO_APP_SECRET"], AccountTokenStore(self.db, self.box, account.id),
                          client=self.client, **kwargs)


class AccountSender:
    """The channel's sender as the outbox sees it: each reply goes through its own account's sender."""

    def __init__(self, channel: str, unit_channels: UnitChannels, window: ChannelSender):
        self.channel = channel
        self.units = unit_channels
        self.window = window  # the platform's window rules, which need no credentials

    def check_window(self, ctx: SendContext) -> None:
        self.window.check_window(ctx)

    def send(self, recipient_id: str, body: dict, ctx: SendContext) -> SendResult:
        return self.units.sender(self.channel, ctx.account).send(recipient_id, body, ctx)


def wire(runtime_senders: dict[str, ChannelSender], unit_channels: UnitChannels) -> None:
    """Put account-aware senders in front of a channel that is configured or has accounts."""
    s = unit_channels.settings
    windows = {"messenger": MessengerSender(s["FACEBOOK_GRAPH_URL"], "", client=unit_channels.client),
               "zalo": ZaloSender(s["ZALO_API_URL"], s["ZALO_OAUTH_URL"], "", "", None, client=unit_channels.client),
               CommentSender.channel: CommentSender(s["FACEBOOK_GRAPH_URL"], "", client=unit_channels.client)}
    for channel in (*ACCOUNT_CHANNELS, CommentSender.channel):
        if channel in unit_channels.defaults or unit_channels.has_accounts(ACCOUNT_OF.get(channel, channel)):
            runtime_senders[channel] = AccountSender(channel, unit_channels, windows[channel])

