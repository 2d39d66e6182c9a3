"""Who signed a request, and for which region and service.

kumo reads AWS Signature Version 4 from the Authorization header or from a
presigned query string; it verifies the signature only with
``--enforce-signatures`` (aws/sigv4.py), and IAM policies are stored, not
enforced.  The credential scope names the region and the signing service,
which is how most requests are routed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs

_CRED = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Signature:
    access_key: str
    date: str
    region: str
    service: str
    session_token: str | None = None


def read_signature(headers, query: str) -> Signature | None:
    auth = headers.get("Authorization", "")
    token = headers.get("X-Amz-Security-Token")
    if auth.startswith("AWS4-"):
        m = _CRED.search(auth)
        if m:
            return Signature(m.group(1), m.group(2), m.group(3), m.group(4), token)
    if "X-Amz-Credential" in query:
        q = parse_qs(query)
        cred = (q.get("X-Amz-Credential") or [""])[0].split("/")
        if len(cred) >= 5:
            token = (q.get("X-Amz-Security-Token") or [token])[0]
            return Signature(cred[0], cred[1], cred[2], cred[3], token)
    if auth.startswith("AWS "):  # signature version 2 (very old clients): access key only
        key = auth[4:].split(":", 1)[0]
        return Signature(key, "", "", "", token)
    return None


def account_from_access_key(access_key: str) -> str | None:
    """A 12-digit access key id names its account (LocalStack's convention, kept for compatibility)."""
    if len(access_key) == 12 and access_key.isdigit():
        return access_key
    return None
