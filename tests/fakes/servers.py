"""Local fake Graph API and Zalo OpenAPI servers: real HTTP on 127.0.0.1, recording every request,
with injectable faults (HTTP errors, platform error codes, slow answers)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def form(self):
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8")).items()}


@dataclass
class Fault:
    status: int = 500
    body: dict | None = None
    delay: float = 0.0


@dataclass
class FakeServer:
    """Base: subclasses implement ``respond(recorded) -> (status, body)``."""

    requests: list[Recorded] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real platform APIs (the client reuses connections)

            def log_message(self, *args):  # keep test output quiet
                pass

            def _handle(self):
                parsed = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                rec = Recorded(self.command, parsed.path, {k: v[0] for k, v in parse_qs(parsed.query).items()},
                               {k.lower(): v for k, v in self.headers.items()}, body)
                with fake._lock:
                    fake.requests.append(rec)
                    fault = fake.faults.pop(0) if fake.faults else None
                if fault is not None:
                    if fault.delay:
                        time.sleep(fault.delay)
                    status, payload = fault.status, fault.body if fault.body is not None else {"error": {"message": "injected"}}
                else:
                    status, payload = fake.respond(rec)
                data = json.dumps(payload).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    def sent(self, path_suffix: str = "") -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith(path_suffix)]

    def wait_for(self, count: int, path_suffix: str = "", timeout: float = 10.0) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.sent(path_suffix)
            if len(got) >= count:
                return got
            time.sleep(0.01)
        return self.sent(path_suffix)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def respond(self, rec: Recorded):
        raise NotImplementedError


class FakeGraph(FakeServer):
    """``POST /v21.0/me/messages``: answers like the Send API, private replies included
    (``recipient.comment_id``: one per comment, a second gets error 10900; the answer carries the
    commenter's PSID, ``psid-<comment id>``). ``POST /v21.0/{comment-id}/comments``: a public reply.
    ``refuse_private``: (status, error body) to refuse every private reply with."""

    refuse_private: tuple | None = None

    def __post_init__(self):
        super().__post_init__()
        self.refuse_private = None
        self.private_replied: set = set()

    def respond(self, rec):
        if rec.path.endswith("/me/messages"):
            body = rec.json()
            if "sender_action" in body:
                return 200, {"recipient_id": body["recipient"]["id"]}
            comment_id = body["recipient"].get("comment_id")
            if comment_id is not None:
                if self.refuse_private is not None:
                    return self.refuse_private
                with self._lock:
                    if comment_id in self.private_replied:
                        return 400, {"error": {"message": "Activity already replied to", "code": 10900, "type": "OAuthException"}}
                    self.private_replied.add(comment_id)
                return 200, {"recipient_id": f"psid-{comment_id}", "message_id": f"m_{len(self.requests)}"}
            return 200, {"recipient_id": body["recipient"]["id"], "message_id": f"m_{len(self.requests)}"}
        if rec.method == "POST" and rec.path.endswith("/comments"):
            return 200, {"id": f"reply_{len(self.requests)}"}
        return 404, {"error": {"message": "unknown path", "code": 803}}


class FakeZalo(FakeServer):
    """``POST /v3.0/oa/message/cs`` and ``POST /v4/oa/access_token`` (OAuth)."""

    valid_tokens: set = None  # type: ignore[assignment]
    refresh_count: int = 0

    def __post_init__(self):
        super().__post_init__()
        self.valid_tokens = {"access-1"}
        self.refresh_count = 0

    def respond(self, rec):
        if rec.path.endswith("/hook"):  # doubles as a generic JSON webhook receiver
            return 200, {"ok": True}
        if rec.path.endswith("/v3.0/oa/message/cs"):
            if rec.headers.get("access_token") not in self.valid_tokens:
                return 200, {"error": -216, "message": "Access token is invalid"}
            body = rec.json()
            return 200, {"error": 0, "message": "Success", "data": {"message_id": f"z_{len(self.requests)}", "user_id": body["recipient"]["user_id"]}}
        if rec.path.endswith("/v4/oa/access_token"):
            form = rec.form()
            if rec.headers.get("secret_key") != "app-secret" or form.get("grant_type") != "refresh_token":
                return 200, {"error": -14014, "error_name": "Invalid secret key"}
            self.refresh_count += 1
            token = f"access-{self.refresh_count + 1}"
            self.valid_tokens = {token}
            return 200, {"access_token": token, "refresh_token": f"refresh-{self.refresh_count + 1}", "expires_in": "90000"}
        return 404, {"error": -1, "message": "unknown path"}
