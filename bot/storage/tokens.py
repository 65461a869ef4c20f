"""Platform credentials that rotate (Zalo's access/refresh token pair), kept in the database so a
refreshed pair survives restarts and is shared by every worker process."""

from __future__ import annotations

import datetime as dt

from .db import Database
from .models import PlatformToken, utcnow


class DatabaseTokenStore:
    def __init__(self, db: Database, channel: str, initial_access: str, initial_refresh: str):
        self.db = db
        self.channel = channel
        self.initial = (initial_access, initial_refresh)

    def load(self) -> tuple[str, str, dt.datetime | None]:
        with self.db.session() as session:
            row = session.get(PlatformToken, self.channel)
            if row is None:
                return self.initial[0], self.initial[1], None
            return row.access_token, row.refresh_token or "", row.expires_at

    def save(self, access_token: str, refresh_token: str, expires_at: dt.datetime | None) -> None:
        with self.db.session() as session:
            row = session.get(PlatformToken, self.channel)
            if row is None:
                row = PlatformToken(channel=self.channel, access_token=access_token)
                session.add(row)
            row.access_token = access_token
            row.refresh_token = refresh_token
            row.expires_at = expires_at
            row.updated_at = utcnow()
