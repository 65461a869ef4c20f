"""Flask entry point.

``create_app(config=None)`` builds the application (tests pass a dict of settings);
``python server.py`` serves it with waitress on HOST:PORT (default 127.0.0.1:5005).
"""

from __future__ import annotations

import logging
import sys

from bot.web.app import create_app

__all__ = ["create_app"]


def main() -> None:
    from waitress import serve

    app = create_app()
    settings = app.config["BOT_SETTINGS"]
    host, port = settings["HOST"], int(settings["PORT"])
    log = logging.getLogger("server")
    log.info("serving on http://%s:%s", host, port)
    print(f"Trợ lý công đoàn đang chạy: http://{host}:{port}/  (bảng điều khiển: http://{host}:{port}/dashboard/)", file=sys.stderr, flush=True)
    try:
        serve(app, host=host, port=port, threads=int(settings["SERVER_THREADS"]), ident="congdoan-bot")
    finally:
        app.extensions["bot"].shutdown()


if __name__ == "__main__":
    main()
