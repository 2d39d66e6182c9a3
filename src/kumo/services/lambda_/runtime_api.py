"""The Lambda Runtime API (2018-06-01) that each environment's runtime process talks to.

Every environment gets a listener of its own on 127.0.0.1 (its address is the
process's AWS_LAMBDA_RUNTIME_API), which serves that environment's processes
only: when a connection opens, its owner says whether a process of the
environment holds the other end (``compute/peers.py``); anyone else gets 403
Forbidden to its first request, and the connection is closed.  The paths,
status codes and headers are AWS's:

    GET  /2018-06-01/runtime/invocation/next                 -> 200, the event, Lambda-Runtime-* headers
    POST /2018-06-01/runtime/invocation/{RequestId}/response -> 202 {"status":"OK"}
    POST /2018-06-01/runtime/invocation/{RequestId}/error    -> 202 (Lambda-Runtime-Function-Error-Type)
    POST /2018-06-01/runtime/init/error                      -> 202

A runtime parks on ``next`` until there is work (there is no timeout on it,
as on AWS).  HTTP/1.1 with keep-alive, Content-Length or chunked bodies and
``Expect: 100-continue`` (curl sends it) are understood, so AWS's runtime
interface clients and shell bootstraps built on curl work unchanged.

The protocol is sans-IO apart from the transport it writes to: it parses
requests and hands them to its ``Owner`` (the environment), which answers
with ``reply``/``send_event``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Protocol

PREFIX = "/2018-06-01"
MAX_HEAD = 64 * 1024
MAX_RESPONSE = 6 * 1024 * 1024 + 100  # AWS: "Exceeded maximum allowed payload size (6291556 bytes)."
ACCEPTED = b'HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"status":"OK"}'
_REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
            413: "Request Entity Too Large", 500: "Internal Server Error"}


class Owner(Protocol):
    def admits(self, peer, local) -> bool: ...
    def on_next(self, conn: "RuntimeConnection") -> None: ...
    def on_result(self, conn: "RuntimeConnection", request_id: str, ok: bool, body: bytes, headers: dict) -> None: ...
    def on_init_error(self, conn: "RuntimeConnection", body: bytes, headers: dict) -> None: ...
    def on_too_large(self, conn: "RuntimeConnection", request_id: str) -> None: ...


class RuntimeConnection(asyncio.Protocol):
    __slots__ = ("owner", "transport", "buf", "closed", "refused", "_head", "_need", "_chunks", "_chunked", "_skip",
                 "_owed")

    def __init__(self, owner: Owner):
        self.owner = owner
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.closed = False
        self.refused = False
        self._head: tuple[str, str, dict] | None = None
        self._need = 0
        self._chunked = False
        self._chunks: bytearray | None = None
        self._skip = False  # a body too large: read and drop it
        self._owed = False  # a 202 not written yet (it always goes out before anything written after it)

    # -- asyncio --------------------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        # Once per connection, before anything is read: runtimes keep theirs open (keep-alive).
        self.refused = not self.owner.admits(transport.get_extra_info("peername"),
                                             transport.get_extra_info("sockname"))
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                import socket

                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def connection_lost(self, exc) -> None:
        self.closed = True

    def data_received(self, data: bytes) -> None:
        if self.refused:
            self.reply(403, {"errorMessage": "This Runtime API serves only its own execution environment's processes",
                             "errorType": "Forbidden"}, close=True)
            return
        self.buf += data
        try:
            while self._step():
                pass
        except ValueError:
            self.reply(400, {"errorMessage": "Malformed HTTP request", "errorType": "InvalidRequest"}, close=True)

    # -- parsing --------------------------------------------------------------------------------
    def _step(self) -> bool:
        if self._head is None:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > MAX_HEAD:
                    raise ValueError("head too large")
                return False
            lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
            del self.buf[:end + 4]
            method, path, _version = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                k, sep, v = line.partition(":")
                if not sep:
                    raise ValueError("bad header")
                headers[k.strip().lower()] = v.strip()
            self._head = (method, path, headers)
            self._chunked = "chunked" in headers.get("transfer-encoding", "").lower()
            self._need = 0 if self._chunked else int(headers.get("content-length") or 0)
            self._chunks = bytearray() if self._chunked else None
            self._skip = (not self._chunked) and self._need > MAX_RESPONSE
            if headers.get("expect", "").lower() == "100-continue" and not self._skip:
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if self._chunked:
            return self._step_chunked()
        if self._skip:
            take = min(len(self.buf), self._need)
            del self.buf[:take]
            self._need -= take
            if self._need:
                return False
            self._finish(b"", too_large=True)
            return True
        if len(self.buf) < self._need:
            return False
        body = bytes(self.buf[:self._need])
        del self.buf[:self._need]
        self._finish(body)
        return True

    def _step_chunked(self) -> bool:
        while True:
            if self._need > 0:
                if len(self.buf) < self._need + 2:
                    return False
                if not self._skip:
                    self._chunks += self.buf[:self._need]
                    if len(self._chunks) > MAX_RESPONSE:
                        self._skip = True
                        self._chunks = bytearray()
                del self.buf[:self._need + 2]
                self._need = 0
            end = self.buf.find(b"\r\n")
            if end < 0:
                return False
            size = int(bytes(self.buf[:end]).split(b";")[0].strip() or b"0", 16)
            del self.buf[:end + 2]
            if size == 0:
                # Trailers end with an empty line.
                end = self.buf.find(b"\r\n")
                while end > 0:
                    del self.buf[:end + 2]
                    end = self.buf.find(b"\r\n")
                if end < 0:
                    return False
                del self.buf[:2]
                body = bytes(self._chunks)
                self._finish(body, too_large=self._skip)
                return True
            self._need = size

    def _finish(self, body: bytes, too_large: bool = False) -> None:
        method, path, headers = self._head
        self._head = None
        self._chunks = None
        self._skip = False
        path = path.split("?", 1)[0]
        if not path.startswith(PREFIX + "/runtime/"):
            self.reply(404, {"errorMessage": f"Unknown path {path}", "errorType": "NotFound"})
            return
        rest = path[len(PREFIX) + len("/runtime/"):]
        if rest == "invocation/next":
            if method != "GET":
                self.reply(405 if method else 400, {"errorMessage": "Method not allowed", "errorType": "InvalidRequest"})
                return
            self.owner.on_next(self)
            return
        if rest == "init/error" and method == "POST":
            self.owner.on_init_error(self, body, headers)
            return
        if rest.startswith("invocation/") and method == "POST":
            request_id, _, what = rest[len("invocation/"):].partition("/")
            if what in ("response", "error"):
                if too_large:
                    self.owner.on_too_large(self, request_id)
                    return
                self.owner.on_result(self, request_id, what == "response", body, headers)
                return
        self.reply(404, {"errorMessage": f"Unknown path {path}", "errorType": "NotFound"})

    # -- answering ------------------------------------------------------------------------------
    def accepted(self) -> None:
        """202 {"status":"OK"}, written on the loop's next turn (the invocation's caller is answered first),
        or with the next thing written on this connection, whichever comes first: responses stay in order."""
        self._owed = True
        asyncio.get_running_loop().call_soon(self._write_accepted)

    def _write_accepted(self) -> None:
        if self._owed and not self.closed and self.transport is not None:
            self._owed = False
            self.transport.write(ACCEPTED)

    def reply(self, status: int, doc: dict | None = None, close: bool = False) -> None:
        if self.closed or self.transport is None:
            return
        body = json.dumps(doc if doc is not None else {"status": "OK"}).encode()
        head = (f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n" + ("Connection: close\r\n" if close else "") + "\r\n")
        owed, self._owed = (ACCEPTED if self._owed else b""), False
        self.transport.write(owed + head.encode("latin-1") + body)
        if close:
            self.transport.close()

    def send_event(self, headers: dict[str, str], payload: bytes) -> bool:
        """Answer the parked ``next`` with an invocation; False if the runtime hung up meanwhile."""
        if self.closed or self.transport is None:
            return False
        parts = ["HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"]
        for k, v in headers.items():
            parts.append(f"{k}: {v}\r\n")
        parts.append(f"Content-Length: {len(payload)}\r\n\r\n")
        owed, self._owed = (ACCEPTED if self._owed else b""), False
        self.transport.write(owed + "".join(parts).encode("latin-1") + payload)
        return True


async def serve(owner: Owner, host: str = "127.0.0.1") -> tuple[asyncio.AbstractServer, str]:
    """A listener for one environment; returns it and its host:port."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: RuntimeConnection(owner), host, 0, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    return server, f"{host}:{port}"
