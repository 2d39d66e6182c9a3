"""ALB target groups of type lambda: the exchange between a load balancer node and a function.

A worker process turns the client's request into AWS's ALB event
(requestContext.elb.targetGroupArn, httpMethod, path, queryStringParameters
and headers, or their multiValue* forms when the target group's
``lambda.multi_value_headers.enabled`` is true, body with isBase64Encoded)
and invokes the function through kumo's own Lambda Invoke API over loopback
HTTP, as the function's account.  The function's answer (statusCode,
statusDescription, headers or multiValueHeaders, body, isBase64Encoded)
becomes the HTTP response.  As on AWS: a function error, an invalid answer or
one over 1 MB is a 502, a throttled invocation a 503, and a request body over
1 MB a 413.

The group spec of a lambda target group carries ``lambda``: {"endpoint": kumo's
URL, "multi_value_headers": bool}; each target's key is the function ARN.
"""

from __future__ import annotations

import asyncio
import base64
import http
import json
import time
from urllib.parse import quote

from ...core import tls

MAX_BODY = 1024 * 1024
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
               "application/x-www-form-urlencoded", "+json", "+xml")
_session = None


def event(req_method: str, url: str, headers: list[tuple[str, str]], body: bytes, group_arn: str,
          multi_value: bool) -> dict:
    """AWS's ALB→Lambda event for one request (query values are passed as the client sent them)."""
    path, _, query = url.partition("?")
    pairs = [tuple(p.split("=", 1)) if "=" in p else (p, "") for p in query.split("&") if p]
    out: dict = {"requestContext": {"elb": {"targetGroupArn": group_arn}}, "httpMethod": req_method,
                 "path": path or "/"}
    if multi_value:
        mq: dict[str, list[str]] = {}
        for k, v in pairs:
            mq.setdefault(k, []).append(v)
        mh: dict[str, list[str]] = {}
        for k, v in headers:
            mh.setdefault(k.lower(), []).append(v)
        out["multiValueQueryStringParameters"] = mq
        out["multiValueHeaders"] = mh
    else:
        out["queryStringParameters"] = {k: v for k, v in pairs}
        out["headers"] = {k.lower(): v for k, v in headers}
    ctype = next((v for k, v in headers if k.lower() == "content-type"), "")
    encoded = bool(body) and not (any(t in ctype for t in _TEXT_TYPES) or not ctype)
    if not encoded:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            encoded = True
    out["body"] = base64.b64encode(body).decode() if encoded else text
    out["isBase64Encoded"] = encoded
    return out


def response(payload: bytes, multi_value: bool, keep: bool) -> tuple[int, bytes]:
    """(status, raw HTTP response) for a function's answer; 502 when the answer is not a valid one."""
    try:
        doc = json.loads(payload)
        status = int(doc["statusCode"])
        if not 100 <= status <= 599:
            raise ValueError(status)
    except (ValueError, TypeError, KeyError):
        return 502, error_page(502, keep)
    body = doc.get("body") or ""
    data = base64.b64decode(body) if doc.get("isBase64Encoded") else (
        body if isinstance(body, str) else json.dumps(body)).encode()
    lines = [f"HTTP/1.1 {doc.get('statusDescription') or _reason(status)}" if doc.get("statusDescription")
             else f"HTTP/1.1 {status} {_reason(status)}", "Server: awselb/2.0"]
    if multi_value and isinstance(doc.get("multiValueHeaders"), dict):
        items = [(k, v) for k, vs in doc["multiValueHeaders"].items() for v in (vs or [])]
    else:
        items = list((doc.get("headers") or {}).items())
    for k, v in items:
        if k.lower() not in ("content-length", "connection", "transfer-encoding"):
            lines.append(f"{k}: {v}")
    lines.append(f"Content-Length: {len(data)}")
    lines.append(f"Connection: {'keep-alive' if keep else 'close'}")
    return status, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + data


def error_page(status: int, keep: bool) -> bytes:
    from .http_proxy import error_page as page

    return page(status, close=not keep)


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


async def invoke(endpoint: str, function_arn: str, payload: bytes) -> tuple[int, dict, bytes]:
    """POST to kumo's Invoke API as the function's account; (HTTP status, headers, body)."""
    import aiohttp
    import yarl

    global _session
    if _session is None or _session.closed:
        tls.client_ready()
        _session = aiohttp.ClientSession()
    parts = function_arn.split(":")
    region, account = parts[3], parts[4]
    url = f"{endpoint}/2015-03-31/functions/{quote(function_arn, safe='')}/invocations"
    headers = _signed(url, payload, account, region)
    # encoded=True: the path goes out as signed (yarl would otherwise turn the ARN's %3A back into ':').
    async with _session.post(yarl.URL(url, encoded=True), data=payload, headers=headers,
                             timeout=aiohttp.ClientTimeout(total=960)) as resp:
        return resp.status, dict(resp.headers), await resp.read()


def _signed(url: str, payload: bytes, account: str, region: str) -> dict:
    """Headers of an Invoke signed as the function account's root (the documented root key pair), so it
    passes ``--enforce-signatures`` too."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from ...aws.sigv4 import ROOT_SECRET

    request = AWSRequest("POST", url, data=payload, headers={"Content-Type": "application/json",
                                                              "X-Amz-Invocation-Type": "RequestResponse"})
    SigV4Auth(Credentials(account, ROOT_SECRET), "lambda", region).add_auth(request)
    return dict(request.headers.items())


def forward(conn, req, group, target, keep: bool, started: float) -> bool:
    """Serve ``req`` from the lambda target: True when answered at once, else the exchange completes later."""
    spec = group.lambda_spec
    body = b"".join(req.body)
    if len(body) > MAX_BODY:
        conn._error(413, keep, req, started, None, group)
        return True
    headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in req.headers]
    headers += [("x-forwarded-for", conn.peer[0]), ("x-forwarded-port", str(conn.listener.port)),
                ("x-forwarded-proto", "https" if conn.listener.protocol == "HTTPS" else "http")]
    doc = event(req.method.decode(), req.url.decode("latin-1"), headers, body, group.arn,
                spec.get("multi_value_headers", False))
    target.outstanding += 1
    asyncio.get_running_loop().create_task(_exchange(conn, req, doc, group, target, keep, started, spec))
    return False


async def _exchange(conn, req, doc: dict, group, target, keep: bool, started: float, spec: dict) -> None:
    stats = conn.worker.stats
    try:
        status, headers, payload = await invoke(spec["endpoint"], target.key, json.dumps(doc).encode())
    except Exception:
        status, headers, payload = 0, {}, b""
    target.outstanding -= 1
    if conn.closed:
        return
    if status == 200 and "X-Amz-Function-Error" not in headers and len(payload) <= MAX_BODY:
        code, raw = response(payload, spec.get("multi_value_headers", False), keep)
        if code == 502:
            conn._error(502, keep, req, started, None, group)
        else:
            conn.transport.write(raw if req_not_head(doc) else raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n")
            stats.target_response(conn.listener.lb, group.arn, target.key, code,
                                  time.monotonic() - started)  # real-time measurement (latency)
            if conn.listener.access_log:  # a Lambda target's address is "-" in AWS's log
                conn._access(req, code, started, group=group, target_status=code, sent=len(raw))
    else:
        conn._error(503 if status == 429 else 502, keep, req, started, None, group)
    conn._complete(keep)


def req_not_head(doc: dict) -> bool:
    return doc.get("httpMethod") != "HEAD"
