"""A kumo whose clock moves only when a test advances it, and a loopback HTTP server that records calls.

Retries, rate limits and replays are judged on kumo's clock: on a clock at real time a retry could fall
between two assertions.  Modules that need it import ``kumo_server``/``endpoint`` from here (they override
the session's for that module).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import own_kumo


@pytest.fixture(scope="module")
def kumo_server():
    with own_kumo("kumo-events-test-", time_scale=0) as server:
        yield server


@pytest.fixture(scope="module")
def endpoint(kumo_server) -> str:
    return kumo_server.endpoint


class Recorder:
    """Answers each call with the next of ``statuses`` (then 200); /token answers an OAuth token."""

    def __init__(self):
        self.calls: list[dict] = []
        self.statuses: list[int] = []
        self.tokens = 0
        self.arrived = threading.Condition()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                call = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                if self.path.startswith("/token"):
                    recorder.tokens += 1
                    ok = self.headers.get("Authorization") == "Basic aWQ6c2VjcmV0"  # id:secret
                    status, out = (200, {"access_token": f"tok-{recorder.tokens}", "token_type": "bearer",
                                         "expires_in": 600}) if ok else (401, {"error": "invalid_client"})
                    call["token"] = True
                else:
                    status = recorder.statuses.pop(0) if recorder.statuses else 200
                    out = {"ok": status < 300}
                with recorder.arrived:
                    recorder.calls.append(call)
                    recorder.arrived.notify_all()
                data = json.dumps(out).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict]:
        """The invocations once ``count`` have arrived (from a kumo in another process), or as many as came."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.invocations()) >= count, timeout)
        return self.invocations()

    def invocations(self) -> list[dict]:
        return [c for c in self.calls if not c.get("token")]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def http_server():
    recorder = Recorder()
    yield recorder
    recorder.close()
