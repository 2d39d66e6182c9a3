"""Connection timeouts and clients that leave: no connection is held open by saying nothing, none costs an error.

Socket timeouts run on real time (not kumo's clock), so this kumo runs with sub-second timeouts.
"""

from __future__ import annotations

import json
import select
import socket
import time
import urllib.request

import pytest

from tests.conftest import KumoProcess

from .http import auth_header

HEADER, BODY, IDLE = 0.5, 0.5, 1.5


@pytest.fixture(scope="module")
def kumo(tmp_path_factory):
    k = KumoProcess(tmp_path_factory.mktemp("conn"), "--ephemeral", "--header-timeout", str(HEADER),
                    "--body-timeout", str(BODY), "--idle-timeout", str(IDLE)).start()
    yield k
    k.close()


def connect(k) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", k.port), timeout=10)
    return s


def until_closed(s: socket.socket, limit: float = 10.0) -> tuple[float, bytes]:
    """Seconds until the server closes the connection, and what it sent before."""
    t0, out = time.monotonic(), b""
    s.settimeout(limit)
    try:
        while chunk := s.recv(65536):
            out += chunk
    except ConnectionResetError:
        pass
    finally:
        s.close()
    return time.monotonic() - t0, out


def sts_request(body_length: int | None = None, keep_alive: bool = True) -> bytes:
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    return (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + f"Authorization: {auth_header('sts')}\r\nContent-Length: {body_length or len(body)}\r\n".encode()
            + (b"" if keep_alive else b"Connection: close\r\n") + b"\r\n" + body)


def health(k) -> dict:
    with urllib.request.urlopen(k.endpoint + "/_kumo/health", timeout=10) as r:
        return json.loads(r.read())


def test_half_a_header_is_closed_within_the_header_timeout(kumo):
    s = connect(kumo)
    s.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Tar")
    elapsed, out = until_closed(s)
    assert out == b""
    assert HEADER * 0.8 <= elapsed < IDLE  # the header timer, not the idle one


def test_a_head_trickling_in_byte_by_byte_is_closed_too(kumo):
    """Bytes that keep arriving do not extend the header timeout (a slowloris)."""
    s = connect(kumo)
    t0, closed_after = time.monotonic(), None
    for byte in b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long-Header: " + b"a" * 200:
        try:
            s.sendall(bytes([byte]))
        except OSError:
            closed_after = time.monotonic() - t0
            break
        if select.select([s], [], [], 0.05)[0] and s.recv(1) == b"":
            closed_after = time.monotonic() - t0
            break
    s.close()
    assert closed_after is not None and closed_after < HEADER + 1


def test_a_connection_that_sends_nothing_is_closed_within_the_idle_timeout(kumo):
    elapsed, out = until_closed(connect(kumo))
    assert out == b"" and IDLE * 0.8 <= elapsed < IDLE + 2


def test_keep_alive_connections_live_until_the_idle_timeout_and_no_longer(kumo):
    s = connect(kumo)
    s.sendall(sts_request())
    s.settimeout(5)
    assert b"<Account>" in s.recv(65536)
    time.sleep(HEADER * 1.6)  # longer than the header timeout, shorter than the idle timeout
    s.sendall(sts_request())
    assert b"<Account>" in s.recv(65536)
    elapsed, out = until_closed(s)
    assert out == b"" and IDLE * 0.8 <= elapsed < IDLE + 2


def test_a_stalled_body_answers_request_timeout_and_closes(kumo):
    s = connect(kumo)
    s.sendall(sts_request(body_length=500))  # promises 500 bytes, sends ~40
    elapsed, out = until_closed(s)
    assert out.startswith(b"HTTP/1.1 400") and b"<Code>RequestTimeout</Code>" in out
    assert BODY * 0.8 <= elapsed < BODY + 2


def test_a_slow_body_that_keeps_coming_is_read(kumo):
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    s = connect(kumo)
    s.sendall(sts_request(keep_alive=False)[:-len(body)])
    for i in range(0, len(body), 8):  # the whole body takes longer than the body timeout, but never stalls that long
        s.sendall(body[i:i + 8])
        time.sleep(BODY / 3)
    _, out = until_closed(s)
    assert out.startswith(b"HTTP/1.1 200") and b"<Account>" in out


def test_clients_leaving_mid_body_are_not_internal_errors(kumo):
    before = health(kumo)["internal_errors"]
    for _ in range(20):
        s = connect(kumo)
        s.sendall(sts_request(body_length=10_000))
        s.close()
    s = connect(kumo)
    s.sendall(sts_request(keep_alive=False))
    assert b"<Account>" in until_closed(s)[1]
    assert health(kumo)["internal_errors"] == before == 0


def test_malformed_http_is_a_400_not_a_500(kumo):
    for raw in (b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n",
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n",
                b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc\r\nzz\r\n\r\n",
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"):
        s = connect(kumo)
        s.sendall(raw)
        _, out = until_closed(s)
        assert out.split(b"\r\n", 1)[0].split()[1].startswith(b"4"), (raw, out[:200])
    assert health(kumo)["internal_errors"] == 0
