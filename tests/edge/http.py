"""Raw HTTP to kumo, for requests no SDK would send."""

from __future__ import annotations

import urllib.error
import urllib.request


def auth_header(service: str, access_key: str = "000000000000", region: str = "us-east-1") -> str:
    # kumo routes by the credential scope; the signature itself is not checked.
    return (f"AWS4-HMAC-SHA256 Credential={access_key}/20260101/{region}/{service}/aws4_request, "
            f"SignedHeaders=host;x-amz-date, Signature=0")


def send(endpoint: str, path: str = "/", body: bytes = b"", headers: dict | None = None, method: str = "POST"):
    """(status, headers, body) of one request; HTTP errors are answers too."""
    req = urllib.request.Request(endpoint + path, data=body if method != "GET" else None, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()
