"""Flask entry point.

``create_app(config=None, runtime=None)`` builds the application (tests pass a dict of settings,
or a prepared runtime); ``python server.py`` sets up logging, migrates the database, loads the
model, starts the workers and serves with waitress on HOST:PORT (default 127.0.0.1:5005).
"""

from __future__ import annotations

import logging
import signal
import sys

from bot import logs
from bot.config import Settings
from bot.runtime import Runtime, StartupError
from bot.web.app import create_app

__all__ = ["create_app"]


def main() -> None:
    from waitress import serve

    settings = Settings.load()
    logs.configure(settings)
    try:
        runtime = Runtime(settings).prepare(strict=True)
    except StartupError as exc:
        print(f"Không khởi động được: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
    app = create_app(runtime=runtime)
    runtime.start()

    def _terminate(*_):  # SIGTERM (systemd, docker stop): stop serving, drain the workers, exit 0
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _terminate)
    host, port = settings["HOST"], int(settings["PORT"])
    logging.getLogger("server").info("serving on http://%s:%s", host, port)
    print(f"Trợ lý công đoàn đang chạy: http://{host}:{port}/  (bảng điều khiển: http://{host}:{port}/dashboard/)", file=sys.stderr, flush=True)
    try:
        serve(app, host=host, port=port, threads=int(settings["SERVER_THREADS"]), ident="congdoan-bot")
    finally:
        logging.getLogger("server").info("stopping: finishing the work in hand")
        runtime.shutdown()


if __name__ == "__main__":
    main()
