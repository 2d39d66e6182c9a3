"""Verifying AWS Signature Version 4 (``kumo start --enforce-signatures``).

Off by default: kumo then reads who signed a request (aws/auth.py) and trusts
it.  When enforcing, every request must carry a valid SigV4 signature, in the
Authorization header or as a presigned query string, made with the secret of
a key kumo issued (IAM access keys, STS and workload credentials, whose
session token must come along) or with the documented root key pair: access
key ``test`` (the default account) or a 12-digit account id (that account's
root), secret ``test``.  Only the operations AWS serves unsigned are exempt.

The canonical request, string to sign and signature are botocore's own
(``SigV4Auth``), fed with what the client sent: its SignedHeaders, its
X-Amz-Date, its raw path, its query and the body bytes as they came over the
wire.

Refusals use the codes AWS gives, which differ by protocol: query services
(and JSON services that keep query compatibility: SQS, CloudWatch) answer
InvalidClientTokenId / SignatureDoesNotMatch / IncompleteSignature /
MissingAuthenticationToken; EC2 answers AuthFailure (401), RequestExpired
and MissingParameter; JSON services UnrecognizedClientException /
InvalidSignatureException / IncompleteSignatureException /
MissingAuthenticationTokenException (400); rest-json services (Lambda, API
Gateway) the same with 403 and Lambda's 5-minute window.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import logging
import re
import time
import zlib
from collections import OrderedDict
from email.utils import parsedate_tz, mktime_tz
from urllib.parse import unquote

from botocore.auth import SigV4Auth
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

from ..core import credentials
from .auth import account_from_access_key
from .errors import AwsError, too_large

log = logging.getLogger("kumo.sigv4")

ALGORITHM = "AWS4-HMAC-SHA256"
ROOT_ACCESS_KEY = "test"  # the default account's root; a 12-digit access key is that account's root
ROOT_SECRET = "test"
MAX_EXPIRES = 7 * 24 * 3600  # a SigV4 signing key is valid for seven days
# Operations AWS answers without a signature: botocore marks STS's web identity and SAML calls; SNS serves
# the confirmation and unsubscribe links of its messages to whoever follows them.
UNSIGNED_OPERATIONS = {("sns", "ConfirmSubscription"), ("sns", "Unsubscribe")}

MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your AWS "
            "Secret Access Key and signing method. Consult the service documentation for details.")
INVALID_TOKEN = "The security token included in the request is invalid."
_EC2_AUTH = "AWS was not able to validate the provided access credentials"

# (code, status) by kind of refusal and the protocol family of the service.
_CODES = {
    "missing": {"query": ("MissingAuthenticationToken", 403), "ec2": ("MissingParameter", 400),
                "json": ("MissingAuthenticationTokenException", 400),
                "rest": ("MissingAuthenticationTokenException", 403), "s3": ("AccessDenied", 403)},
    "incomplete": {"query": ("IncompleteSignature", 400), "ec2": ("IncompleteSignature", 400),
                   "json": ("IncompleteSignatureException", 400), "rest": ("IncompleteSignatureException", 403),
                   "s3": ("AuthorizationQueryParametersError", 400)},
    "unknown": {"query": ("InvalidClientTokenId", 403), "ec2": ("AuthFailure", 401),
                "json": ("UnrecognizedClientException", 400), "rest": ("UnrecognizedClientException", 403),
                "s3": ("InvalidAccessKeyId", 403)},
    "mismatch": {"query": ("SignatureDoesNotMatch", 403), "ec2": ("AuthFailure", 401),
                 "json": ("InvalidSignatureException", 400), "rest": ("InvalidSignatureException", 403),
                 "s3": ("SignatureDoesNotMatch", 403)},
    "skew": {"query": ("SignatureDoesNotMatch", 403), "ec2": ("RequestExpired", 400),
             "json": ("InvalidSignatureException", 400), "rest": ("InvalidSignatureException", 403),
             "s3": ("RequestTimeTooSkewed", 403)},
    "expired": {"query": ("RequestExpired", 400), "ec2": ("RequestExpired", 400),
                "json": ("RequestExpired", 400), "rest": ("RequestExpired", 403),
                "s3": ("AccessDenied", 403)},
}
_MISSING = {"s3": "Access Denied", "query": "Request is missing Authentication Token",
            "json": "Request is missing Authentication Token",
            "ec2": "The request must contain the parameter AWSAccessKeyId", "rest": "Missing Authentication Token"}
# How far X-Amz-Date may be from the wall clock: 15 minutes, 5 behind API Gateway's front door (Lambda).
_WINDOW = {"rest": 300}
_BASIC = re.compile(r"^\d{8}T\d{6}Z$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def family(protocol: str, model) -> str:
    if model is not None and model.metadata.get("serviceId") == "S3":
        return "s3"
    if protocol == "ec2":
        return "ec2"
    if protocol in ("query", "rest-xml"):
        return "query"
    if model is not None and "awsQueryCompatible" in model.metadata:
        return "query"
    return "rest" if protocol == "rest-json" else "json"


def refusal(kind: str, fam: str, message: str | None = None) -> AwsError:
    code, status = _CODES[kind][fam]
    if fam == "ec2" and kind in ("unknown", "mismatch"):
        message = _EC2_AUTH
    elif fam == "ec2" and kind in ("skew", "expired"):
        message = "Request has expired."
    elif message is None:
        message = {"missing": _MISSING[fam], "unknown": INVALID_TOKEN if fam != "s3" else
                   "The AWS Access Key Id you provided does not exist in our records.", "mismatch": MISMATCH,
                   "expired": "Request has expired."}.get(kind, "")
    return AwsError(code, message, status=status, sender_fault=True)


def signed(headers, query: str) -> bool:
    """Whether the request carries a signature of any kind (then it must be a valid SigV4 one)."""
    return "Authorization" in headers or "X-Amz-Signature=" in query or "X-Amz-Credential=" in query


_KEYS: dict[tuple[str, str, str, str], bytes] = {}


class _Canonical(SigV4Auth):
    """botocore's SigV4 over exactly the headers the client says it signed."""

    def __init__(self, secret: str, region: str, service: str, signed_headers: list[str]):
        super().__init__(Credentials("", secret), service, region)
        self._names = signed_headers

    def signature(self, string_to_sign, request):
        return self._sign(self.signing_key(request.context["timestamp"]), string_to_sign, hex=True)

    def signing_key(self, timestamp: str) -> bytes:
        # The signing key depends on the secret, day, region and service only: derived once per day and scope.
        scope = (self.credentials.secret_key, timestamp[0:8], self._region_name, self._service_name)
        key = _KEYS.get(scope)
        if key is None:
            secret, day, region, service = scope
            key = self._sign(self._sign(self._sign(self._sign(f"AWS4{secret}".encode(), day), region), service),
                             "aws4_request")
            if len(_KEYS) > 4096:
                _KEYS.clear()
            _KEYS[scope] = key
        return key

    def headers_to_sign(self, request):
        out = HTTPHeaders()
        for name in self._names:
            values = request.headers.getall(name, ())
            for value in values or ("",):
                out[name] = value
        return out


class _S3Canonical(_Canonical):
    """S3 signs the path exactly as sent (no normalization), and a payload hash the client names:
    X-Amz-Content-SHA256 (a hex digest, UNSIGNED-PAYLOAD, STREAMING-...), UNSIGNED-PAYLOAD when presigned."""

    def _normalize_url_path(self, path):
        return path

    def payload(self, request):
        return request.headers.get("X-Amz-Content-SHA256") or "UNSIGNED-PAYLOAD"


class _Incoming:
    """The request as botocore's signer reads one (url, method, headers, params, body, context)."""

    __slots__ = ("method", "url", "headers", "params", "body", "context")

    def __init__(self, method, path, headers, params, body, timestamp):
        self.method = method
        self.url = "http://kumo" + path  # only the path is read; the host is a signed header
        self.headers = headers
        self.params = params
        self.body = body
        self.context = {"timestamp": timestamp}


class Verifier:
    def __init__(self, kumo):
        self.kumo = kumo
        # Presigned signature -> the simulated time it was signed at, as placed on its first use.
        self._presigned: OrderedDict[str, float] = OrderedDict()

    # -- the gateway's two calls ------------------------------------------------------------------
    def verify(self, method: str, path: str, query: str, headers, body: bytes, *, protocol: str, model,
               signing_name: str | None, limit: int, unsigned_body: bool = False,
               chunk_seed: dict | None = None) -> bytes:
        """Check a signed request's signature (before routing); returns the body decoded for parsing.

        ``unsigned_body``: the service reads the body itself (S3's uploads) and checks its hash as it does.
        """
        if signed(headers, query):
            self.check(method, path, query, headers, body, fam=family(protocol, model), service=signing_name,
                       unsigned_body=unsigned_body, chunk_seed=chunk_seed)
        if unsigned_body:
            return body
        return decode_body(headers, body, limit)

    def require(self, route, headers, query: str) -> None:
        """Refuse an unsigned request (after routing) unless AWS serves its operation unsigned."""
        if signed(headers, query):
            return
        op = route.operation
        if op.auth_type == "none" or "smithy.api#noAuth" in (op.auth or ()):
            return
        if (route.spec.name, op.name) in UNSIGNED_OPERATIONS:
            return
        raise refusal("missing", family(route.protocol, route.model))

    # -- verification -----------------------------------------------------------------------------
    def check(self, method: str, path: str, query: str, headers, body: bytes, *, fam: str,
              service: str | None = None, unsigned_body: bool = False, chunk_seed: dict | None = None) -> None:
        """``chunk_seed``, when given, is filled with what checks a SigV4 streaming body's chunk signatures
        (signing key, timestamp, scope, seed signature)."""
        """Raise AwsError unless the request's SigV4 signature is right, current and made by a known key."""
        pairs = _pairs(query)
        auth = headers.get("Authorization")
        if auth is not None:
            parts = _header_parts(auth, fam)
            token = headers.get("X-Amz-Security-Token")
            timestamp = _header_timestamp(headers, auth, fam)
            presigned_expires = None
        else:
            parts, timestamp, presigned_expires = _query_parts(pairs, fam)
            token = next((v for k, v in pairs if k == "X-Amz-Security-Token"), None)
            pairs = [(k, v) for k, v in pairs if k != "X-Amz-Signature"]
        access_key, scope_date, region, scope_service = parts["scope"]
        if scope_date != timestamp[:8]:
            raise refusal("mismatch", fam, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                                           f"of date from HTTP: '{scope_date}' != '{timestamp[:8]}', from "
                                           f"'{timestamp}'.")
        if service and scope_service != service:
            raise refusal("mismatch", fam, f"Credential should be scoped to correct service: '{service}'. ")
        secret = self._secret(access_key, token, fam)
        self._check_time(timestamp, presigned_expires, fam)
        content_sha = headers.get("X-Amz-Content-SHA256")
        if (content_sha is not None and not unsigned_body and _HEX64.match(content_sha)
                and content_sha != hashlib.sha256(body).hexdigest()):
            raise refusal("mismatch", fam, "The provided 'x-amz-content-sha256' header does not match what was "
                                           "computed.")
        signer = (_S3Canonical if scope_service == "s3" else _Canonical)(secret, region, scope_service,
                                                                          parts["signed_headers"])
        request = _Incoming(method, path, headers, pairs, body, timestamp)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, parts["signature"]):
            log.info("signature mismatch for %s; canonical request:\n%s", access_key, canonical)
            raise refusal("mismatch", fam)
        if presigned_expires is not None:
            self._check_expiry(timestamp, presigned_expires, parts["signature"], fam)
        if chunk_seed is not None:
            chunk_seed.update(key=signer.signing_key(timestamp), timestamp=timestamp,
                              scope=f"{scope_date}/{region}/{scope_service}/aws4_request", seed=parts["signature"])

    def _secret(self, access_key: str, token: str | None, fam: str) -> str:
        record = credentials.lookup(self.kumo.store, access_key)
        if record is not None:
            # Temporary credentials are only valid with their own session token; long-term keys with none.
            if (record.get("SessionToken") or None) != (token or None):
                raise refusal("unknown", fam)
            return record["SecretAccessKey"]
        if access_key == ROOT_ACCESS_KEY or account_from_access_key(access_key):
            if token:
                raise refusal("unknown", fam)
            return ROOT_SECRET
        raise refusal("unknown", fam)

    def _check_time(self, timestamp: str, presigned_expires: int | None, fam: str) -> None:
        signed_at = _epoch(timestamp)
        # Clients sign with the wall clock, not kumo's simulated one, so skew is judged on wall time.
        now = time.time()
        window = _WINDOW.get(fam, 900)
        if signed_at > now + window:
            raise refusal("skew", fam, f"Signature not yet current: {timestamp} is still later than "
                                       f"{_basic(now + window)} ({_basic(now)} + {window // 60} min.)")
        if presigned_expires is None and signed_at < now - window:
            raise refusal("skew", fam, f"Signature expired: {timestamp} is now earlier than "
                                       f"{_basic(now - window)} ({_basic(now)} - {window // 60} min.)")

    def _check_expiry(self, timestamp: str, expires: int, signature: str, fam: str) -> None:
        signed_at = _epoch(timestamp)
        now = time.time()
        # A presigned URL lives X-Amz-Expires seconds of kumo's time, so advancing the clock expires it.  X-Amz-Date
        # drops the fraction of its second, so a URL signed in the second of an advance could be from before or
        # after it: the first use settles where it sits in simulated time.
        clock = self.kumo.clock
        seen = self._presigned.get(signature)
        if seen is None:
            seen = self._presigned[signature] = clock.at_wall(min(signed_at + 1, now))
            if len(self._presigned) > 10000:
                self._presigned.popitem(last=False)
        if clock.now() - seen > expires:
            raise refusal("expired", fam)


# -- reading the request -----------------------------------------------------------------------------


def _pairs(query: str) -> list[tuple[str, str]]:
    out = []
    for item in query.split("&") if query else ():
        key, _, value = item.partition("=")
        out.append((unquote(key), unquote(value)))
    return out


def _header_parts(auth: str, fam: str) -> dict:
    algorithm, _, rest = auth.strip().partition(" ")
    fields: dict[str, str] = {}
    if algorithm != ALGORITHM and algorithm.startswith("AWS4-"):
        raise refusal("incomplete", fam, f"Unsupported AWS 'algorithm': '{algorithm}'")
    for item in rest.split(",") if algorithm == ALGORITHM else ():
        item = item.strip()
        if not item:
            continue
        key, eq, value = item.partition("=")
        if not eq:
            raise refusal("incomplete", fam, f"'{item}' not a valid key=value pair (missing equal-sign) in "
                                             f"Authorization header: '{auth}'.")
        fields[key.strip()] = value.strip()
    missing = [f"Authorization header requires '{name}' parameter." for name in ("Credential", "Signature",
                                                                                 "SignedHeaders")
               if not fields.get(name)]
    if missing:
        raise refusal("incomplete", fam, " ".join(missing) + f" Authorization={auth}")
    return {"scope": _scope(fields["Credential"], fam), "signature": fields["Signature"],
            "signed_headers": _signed_headers(fields["SignedHeaders"], fam)}


def _query_parts(pairs: list[tuple[str, str]], fam: str) -> tuple[dict, str, int]:
    params = dict(pairs)
    needed = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature")
    absent = [name for name in needed if not params.get(name)]
    if absent:
        raise refusal("incomplete", fam, "AWS query-string parameters must include "
                                         + ", ".join(f"'{n}'" for n in needed) + ". Missing: "
                                         + ", ".join(f"'{n}'" for n in absent) + ".")
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise refusal("incomplete", fam, f"Unsupported AWS 'algorithm': '{params['X-Amz-Algorithm']}'")
    timestamp = params["X-Amz-Date"]
    if _epoch(timestamp) is None:
        raise refusal("incomplete", fam, f"Date must be in ISO-8601 'basic format'. Got '{timestamp}'. See "
                                         "http://en.wikipedia.org/wiki/ISO_8601")
    raw = params.get("X-Amz-Expires", "900")  # without one, the usual 15-minute window
    if not raw.isdigit() or int(raw) < 1:
        raise refusal("incomplete", fam, "X-Amz-Expires should be a number of seconds, at least 1.")
    if int(raw) > MAX_EXPIRES:
        raise refusal("incomplete", fam, f"X-Amz-Expires must be less than a week (in seconds) that is "
                                         f"{MAX_EXPIRES}")
    parts = {"scope": _scope(params["X-Amz-Credential"], fam), "signature": params["X-Amz-Signature"],
             "signed_headers": _signed_headers(params["X-Amz-SignedHeaders"], fam)}
    return parts, timestamp, int(raw)


def _scope(credential: str, fam: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or not all(parts):
        raise refusal("incomplete", fam, "Credential must have exactly 5 slash-delimited elements, e.g. "
                                         f"keyid/date/region/service/term, got '{credential}'")
    if parts[4] != "aws4_request":
        raise refusal("incomplete", fam, "Credential should be scoped with a valid terminator: 'aws4_request', "
                                         f"not '{parts[4]}'.")
    return parts[0], parts[1], parts[2], parts[3]


def _signed_headers(value: str, fam: str) -> list[str]:
    names = [n.strip().lower() for n in value.split(";") if n.strip()]
    if "host" not in names and ":authority" not in names:
        raise refusal("incomplete", fam, "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                                         "Authorization.")
    return names


def _header_timestamp(headers, auth: str, fam: str) -> str:
    value = headers.get("X-Amz-Date")
    if value is None:
        date = headers.get("Date")
        parsed = parsedate_tz(date) if date else None
        if parsed is None:
            raise refusal("incomplete", fam, "Authorization header requires existence of either a 'X-Amz-Date' "
                                             f"or a 'Date' header. Authorization={auth}")
        return _basic(mktime_tz(parsed))
    if _epoch(value) is None:
        raise refusal("incomplete", fam, f"Date must be in ISO-8601 'basic format'. Got '{value}'. See "
                                         "http://en.wikipedia.org/wiki/ISO_8601")
    return value


def _epoch(value: str) -> float | None:
    """Epoch seconds of an ISO-8601 basic timestamp (20260101T000000Z), or None when it is not one."""
    if not _BASIC.match(value):
        return None
    try:
        return _dt.datetime(int(value[0:4]), int(value[4:6]), int(value[6:8]), int(value[9:11]), int(value[11:13]),
                            int(value[13:15]), tzinfo=_dt.timezone.utc).timestamp()
    except ValueError:
        return None


def _basic(epoch: float) -> str:
    return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def decode_body(headers, body: bytes, limit: int) -> bytes:
    """The body as the protocols read it: gzip request compression (CloudWatch PutMetricData) undone.

    While enforcing, the server hands the gateway the bytes as sent (the signature covers them), so the
    decompression aiohttp otherwise does happens here, bounded by the service's body limit.
    """
    encoding = headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("gzip", "x-gzip", "deflate") or not body:
        return body
    wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise AwsError("MalformedHttpRequestException", f"The request body could not be decompressed as {encoding}.",
                       status=400) from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise too_large(limit)
    return out
