"""Which channels this deployment serves, their settings and their senders.

A channel is enabled when all its required settings are set. Every sender (and the notifier)
shares one injected ``httpx.Client``, so tests swap the transport (``httpx.MockTransport``) instead
of starting servers. Adding a channel means one adapter module here and one entry below.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx

from . import comments, rest
from .base import ChannelSender
from .messenger import MessengerSender
from .zalo import TokenStore, ZaloSender

logger = logging.getLogger(__name__)

REQUIRED = {
    "messenger": ("FACEBOOK_APP_SECRET", "FACEBOOK_VERIFY_TOKEN", "FACEBOOK_PAGE_ACCESS_TOKEN"),
    "zalo": ("ZALO_APP_ID", "ZALO_OA_SECRET_KEY", "ZALO_ACCESS_TOKEN"),
}
# Channels whose replies the client fetches (in the HTTP answer, or by polling) instead of a push.
PULL_CHANNELS = (rest.CHANNEL,)


class ChannelRegistry:
    def __init__(self, settings, client: httpx.Client, zalo_tokens: Callable[[], TokenStore]):
        self.settings = settings
        self.client = client
        self.senders: dict[str, ChannelSender] = {}
        for name in REQUIRED:
            if self.enabled(name):
                self.senders[name] = self._make_sender(name, zalo_tokens)
                logger.info("%s channel enabled", name)
            else:
                logger.info("%s channel disabled: %s are needed", name, ", ".join(REQUIRED[name]))
        if "messenger" in self.senders:  # fanpage comments: same page, same token (bot.comments)
            self.senders[comments.CHANNEL] = comments.CommentSender(settings["FACEBOOK_GRAPH_URL"], settings["FACEBOOK_PAGE_ACCESS_TOKEN"], client=client)

    def enabled(self, name: str) -> bool:
        return name in PULL_CHANNELS or all(self.settings[key] for key in REQUIRED[name])

    def is_pull(self, name: str) -> bool:
        return name in PULL_CHANNELS

    def _make_sender(self, name: str, zalo_tokens: Callable[[], TokenStore]) -> ChannelSender:
        s = self.settings
        if name == "messenger":
            return MessengerSender(s["FACEBOOK_GRAPH_URL"], s["FACEBOOK_PAGE_ACCESS_TOKEN"], client=self.client)
        return ZaloSender(s["ZALO_API_URL"], s["ZALO_OAUTH_URL"], s["ZALO_APP_ID"], s["ZALO_APP_SECRET"], zalo_tokens(),
                          client=self.client)
