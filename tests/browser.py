"""Headless Chromium for end-to-end tests (Debian's chromium + chromedriver, driven by Selenium),
and a real server (waitress) on a free localhost port."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def need_browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail("Chromium/chromedriver not installed: run `apt-get install chromium chromium-driver` (bin/test does it in CI)")


def make_driver(width: int = 1280, height: int = 900):
    """Debian's chromedriver, named explicitly: Selenium Manager never runs, downloads nothing and
    sends no usage statistics (SE_AVOID_STATS, SE_OFFLINE say so too, should anything call it)."""
    os.environ["SE_AVOID_STATS"] = "true"
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    need_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    if width < 500:  # desktop windows cannot be that narrow: emulate a phone instead
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 3}})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, app):
        from waitress.server import create_server

        self.port = free_port()
        self.server = create_server(app, host="127.0.0.1", port=self.port, threads=4)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self):
        self.server.close()
