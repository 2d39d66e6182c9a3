"""Requests on the wire: botocore's own serializers make them, a raw socket sends them.

A raw socket (not an HTTP library) because mutated requests must reach kumo
exactly as written: wrong lengths of things, odd bytes in paths and headers,
duplicate headers.  Strings holding lone surrogates, which no serializer can
encode, travel as stand-ins of the same UTF-8 length and are swapped for the
surrogates' bytes once the request is bytes.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from dataclasses import dataclass, field

import cbor2
from botocore.serialize import create_serializer
from botocore.utils import percent_encode_sequence

_SERIALIZERS: dict[str, object] = {}
MAX_LINE = 8190  # aiohttp's limit for the request line and each header line, as most servers'
# Headers HTTP allows once (aiohttp refuses a request repeating one).
SINGLETON_HEADERS = {b"content-length", b"content-location", b"content-range", b"content-type", b"etag", b"host",
                     b"max-forwards", b"server", b"transfer-encoding", b"user-agent"}
_PUA = 0xE000  # U+D800..U+DFFF stand in as U+E000..U+E7FF: three UTF-8 bytes each, like the surrogates


@dataclass
class Request:
    method: str
    target: bytes  # path and query, as sent
    headers: list[tuple[bytes, bytes]]
    body: bytes
    service: str
    operation: str
    protocol: str
    kind: str = "generated"  # or "mutated"
    mutations: list[str] = field(default_factory=list)

    @property
    def http_valid(self) -> bool:
        """Whether this is well-formed HTTP/1.1, which kumo itself must answer (in the service's shape).

        Malformed HTTP (control bytes in the request line or a header, a repeated header that may appear
        once, a line longer than the server reads) is refused by the HTTP layer with a plain 400 before kumo's edge sees it, as AWS's front end
        does.
        """
        if not self.method or not all(33 <= b < 127 for b in self.method.encode("latin-1", "replace")):
            return False
        if not self.target.startswith(b"/") or not all(33 <= b < 127 for b in self.target):
            return False
        if len(self.target) > MAX_LINE or any(len(k) + len(v) + 2 > MAX_LINE for k, v in self.headers):
            return False
        seen = set()
        for k, v in self.headers:
            if not k or any(b <= 32 or b >= 127 or b in b'()<>@,;:\\"/[]?={}' for b in k):
                return False
            if any((b < 32 and b != 9) or b == 127 for b in v):
                return False
            name = k.lower()
            if name in SINGLETON_HEADERS and name in seen:
                return False
            seen.add(name)
        return True

    def header(self, name: str) -> bytes | None:
        lname = name.lower().encode()
        return next((v for k, v in self.headers if k.lower() == lname), None)

    def to_bytes(self) -> bytes:
        lines = [self.method.encode("latin-1", "replace") + b" " + self.target + b" HTTP/1.1"]
        lines += [k + b": " + v for k, v in self.headers]
        lines.append(b"Content-Length: " + str(len(self.body)).encode())
        lines.append(b"Connection: close")
        return b"\r\n".join(lines) + b"\r\n\r\n" + self.body

    def describe(self, limit: int = 1200) -> str:
        raw = self.to_bytes()
        text = repr(raw[:limit]) + (f" ... ({len(raw)} bytes)" if len(raw) > limit else "")
        return f"{self.service}.{self.operation} [{self.protocol}, {self.kind} {'+'.join(self.mutations)}] {text}"


@dataclass
class Answer:
    status: int  # 0: no answer (connection closed or reset), -1: timed out
    headers: dict
    body: bytes
    seconds: float
    error: str = ""


def serializer(protocol: str):
    if protocol not in _SERIALIZERS:
        _SERIALIZERS[protocol] = create_serializer(protocol, include_validation=False)
    return _SERIALIZERS[protocol]


def _stand_in(value, used: set):
    if isinstance(value, str):
        if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            out = []
            for c in value:
                if 0xD800 <= ord(c) <= 0xDFFF:
                    used.add(ord(c))
                    c = chr(_PUA + ord(c) - 0xD800)
                out.append(c)
            return "".join(out)
        return value
    if isinstance(value, dict):
        return {_stand_in(k, used): _stand_in(v, used) for k, v in value.items()}
    if isinstance(value, list):
        return [_stand_in(v, used) for v in value]
    return value


def _restore(data: bytes, used: set) -> bytes:
    for cp in used:
        pua = chr(_PUA + cp - 0xD800)
        raw = chr(cp).encode("utf-8", "surrogatepass")
        data = data.replace(pua.encode(), raw)
        data = data.replace("".join(f"%{b:02X}" for b in pua.encode()).encode(),
                            "".join(f"%{b:02X}" for b in raw).encode())
        data = data.replace(f"\\u{_PUA + cp - 0xD800:04x}".encode(), f"\\u{cp:04x}".encode())
    return data


def _bytes(value) -> bytes:
    if value is None:
        return b""
    if isinstance(value, dict):
        return percent_encode_sequence(value).encode() if value else b""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if hasattr(value, "read"):
        return value.read()
    return bytes(value)


def auth_header(access_key: str, service: str, region: str = "us-east-1") -> bytes:
    # kumo routes by the credential scope; signatures are not verified by default.
    return (f"AWS4-HMAC-SHA256 Credential={access_key}/20260101/{region}/{service}/aws4_request, "
            f"SignedHeaders=host;x-amz-date, Signature={'0' * 64}").encode()


def build(op, params: dict, protocol: str, service: str, signing_name: str, access_key: str, host: str) -> Request:
    """The HTTP request botocore would send for ``params``; raises whatever the serializer raises."""
    used: set = set()
    params = _stand_in(params, used)
    d = serializer(protocol).serialize_to_request(params, op)
    path = d["url_path"] or "/"
    qs = d.get("query_string")
    if isinstance(qs, dict):
        qs = percent_encode_sequence(qs) if qs else ""
    if qs:
        path += ("&" if "?" in path else "?") + qs
    headers = [(b"Host", host.encode()), (b"X-Amz-Date", b"20260101T000000Z"),
               (b"Authorization", auth_header(access_key, signing_name))]
    for k, v in d["headers"].items():
        if k.lower() in ("content-length", "host"):
            continue
        headers.append((k.encode("latin-1", "replace"), str(v).encode("utf-8", "surrogatepass")))
    body = _bytes(d.get("body"))
    req = Request(d["method"], _restore(path.encode("utf-8", "surrogatepass"), used),
                  [(k, _restore(v, used)) for k, v in headers], _restore(body, used), service, op.name, protocol)
    return req


def send(host: str, port: int, req: Request, timeout: float) -> Answer:
    started = time.perf_counter()
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.settimeout(timeout)
        try:
            sock.sendall(req.to_bytes())
        except OSError:
            pass  # kumo may answer (413, 400) and close before reading everything
        resp = http.client.HTTPResponse(sock, method=req.method)
        try:
            resp.begin()
            body = resp.read()
        except (TimeoutError, socket.timeout):
            return Answer(-1, {}, b"", time.perf_counter() - started, "timed out")
        except (http.client.HTTPException, OSError) as exc:
            return Answer(0, {}, b"", time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body,
                      time.perf_counter() - started)
    finally:
        sock.close()


def aws_shaped(answer: Answer, method: str) -> bool:
    """Whether an error answer is in a shape an AWS SDK reads as a service error."""
    if answer.status < 400:
        return True
    if "x-amzn-errortype" in answer.headers or "x-amzn-query-error" in answer.headers:
        return True
    body = answer.body.strip()
    if method == "HEAD" and not body:
        return True
    if body.startswith(b"<"):
        return b"<Code>" in body
    try:
        doc = json.loads(body)
    except ValueError:
        try:
            doc = cbor2.loads(body)
        except Exception:
            return False
    return isinstance(doc, dict) and any(k in doc for k in ("__type", "code", "Code", "message", "Message"))
