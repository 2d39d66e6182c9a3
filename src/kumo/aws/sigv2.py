"""S3's presigned URLs of signature version 2 (``?AWSAccessKeyId=&Expires=&Signature=``), which boto3 still
makes for S3 unless told ``signature_version="s3v4"``: HMAC-SHA1 over the method, Content-MD5, Content-Type,
Expires, the x-amz-* headers and the resource (path and the subresources botocore names).

The expiry is an absolute wall-clock time; kumo turns what is left of it at the URL's first use into a
deadline on its own clock, so advancing the clock expires it (as the SigV4 verifier does).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections import OrderedDict
from urllib.parse import unquote

from botocore.auth import HmacV1Auth

from .sigv4 import _pairs, refusal

_SUBRESOURCES = frozenset(HmacV1Auth.QSAOfInterest)


def presigned(query: str) -> bool:
    return "AWSAccessKeyId=" in query and "Signature=" in query


class V2Verifier:
    def __init__(self, kumo, secrets):
        self.kumo = kumo
        self._secret = secrets  # (access_key, token, fam) -> secret, the SigV4 verifier's lookup
        self._deadlines: OrderedDict[str, float] = OrderedDict()

    def check(self, method: str, path: str, query: str, headers, bucket: str | None) -> None:
        pairs = _pairs(query)
        params = dict(pairs)
        access_key, signature, expires = params.get("AWSAccessKeyId"), params.get("Signature"), params.get("Expires")
        if not access_key or not signature or not expires or not expires.isdigit():
            raise refusal("incomplete", "s3", "Query-string authentication requires the Signature, Expires and "
                                              "AWSAccessKeyId parameters")
        token = params.get("x-amz-security-token") or headers.get("X-Amz-Security-Token")
        secret = self._secret(access_key, token, "s3")
        amz = {}
        for name, value in headers.items():
            if name.lower().startswith("x-amz-"):
                amz.setdefault(name.lower(), []).append(value.strip())
        for name, value in pairs:
            if name.lower().startswith("x-amz-"):
                amz.setdefault(name.lower(), []).append(value.strip())
        resource = (f"/{bucket}" + path) if bucket else path
        sub = sorted((k, v) for k, v in ((item.split("=", 1) + [None])[:2] for item in query.split("&") if item)
                     if k in _SUBRESOURCES)
        if sub:
            resource += "?" + "&".join(k if v is None else f"{k}={unquote(v)}" for k, v in sub)
        text = "\n".join([method.upper(), headers.get("Content-MD5", ""), headers.get("Content-Type", ""), expires]
                         + [f"{k}:{','.join(v)}" for k, v in sorted(amz.items())] + [resource])
        expected = base64.b64encode(hmac.new(secret.encode(), text.encode("utf-8"), hashlib.sha1).digest()).decode()
        if not hmac.compare_digest(expected, signature):
            raise refusal("mismatch", "s3")
        self._check_expiry(signature, int(expires))

    def _check_expiry(self, signature: str, expires: int) -> None:
        clock = self.kumo.clock
        deadline = self._deadlines.get(signature)
        if deadline is None:
            left = expires - time.time()  # wall clock: the client computed Expires from it
            deadline = self._deadlines[signature] = clock.now() + left
            if len(self._deadlines) > 10000:
                self._deadlines.popitem(last=False)
        if clock.now() > deadline:
            raise refusal("expired", "s3")
