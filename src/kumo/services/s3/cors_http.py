"""CORS over HTTP: Put/Get/DeleteBucketCors, the OPTIONS preflight, and CORS headers on actual requests.

A preflight (``OPTIONS`` naming a bucket, path-style or virtual-hosted) is answered from the bucket's rules
(cors.py): 200 with the Access-Control-* headers, or S3's 403 AccessForbidden when no rule allows it or
the bucket has none.  A request carrying ``Origin`` gets the headers of the first rule matching its origin
and method, errors included.

kumo's guard refuses requests a browser sends from another site (docs/architecture.md, "Who"); for S3 it
lets through what AWS would let a page do: preflights, and requests the bucket's own CORS rules allow.
"""

from __future__ import annotations

import urllib.parse

from aiohttp import web

from ...aws.errors import AwsError
from ...aws.routing import virtual_bucket
from ...core.ids import request_id as new_request_id
from . import buckets, cors
from .bucket_config import delete_config, get_config, public_read, put_config

KIND = "s3.cors"


def put_bucket_cors(ctx, params):
    record = buckets.for_request(ctx, params)
    rules = cors.check(params.get("CORSConfiguration") or {})
    put_config(ctx.store, KIND, record["Name"], {"CORSRules": rules})
    return {}


def get_bucket_cors(ctx, params):
    record = buckets.for_request(ctx, params)
    config = get_config(ctx.store, KIND, record["Name"])
    if config is None:
        raise AwsError("NoSuchCORSConfiguration", "The CORS configuration does not exist", status=404,
                       BucketName=record["Name"])
    return config


def delete_bucket_cors(ctx, params):
    record = buckets.for_request(ctx, params)
    delete_config(ctx.store, KIND, record["Name"])
    return {}


def bucket_of(kumo, request: web.Request) -> str | None:
    """The existing bucket a request names: by its virtual-hosted host, or the first segment of its path."""
    host = request.headers.get("Host", "")
    name = virtual_bucket(host)
    if name is None:
        first = request.raw_path.partition("?")[0].lstrip("/").split("/", 1)[0]
        name = urllib.parse.unquote(first) if first else None
    if not name or buckets.get(kumo.store, name) is None:
        return None
    return name


def _rules(kumo, bucket: str) -> list[dict] | None:
    config = get_config(kumo.store, KIND, bucket)
    return config["CORSRules"] if config else None


def _error(status: int, code: str, message: str, headers: dict | None = None) -> web.Response:
    rid = new_request_id()
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"<RequestId>{rid}</RequestId><HostId>{rid}</HostId></Error>")
    return web.Response(status=status, body=body.encode(), headers={"Content-Type": "application/xml",
                                                                   "x-amz-request-id": rid, **(headers or {})})


def preflight(kumo):
    async def intercept(request: web.Request) -> web.Response | None:
        if request.method != "OPTIONS":
            return None
        bucket = bucket_of(kumo, request)
        if bucket is None:
            return None
        h = request.headers
        status, headers, error = cors.preflight(_rules(kumo, bucket), h.get("Origin"),
                                                h.get("Access-Control-Request-Method"),
                                                h.get("Access-Control-Request-Headers"))
        if error is not None:
            return _error(status, error[0], error[1])
        return web.Response(status=200, headers={**headers, "x-amz-request-id": new_request_id()})

    return intercept


def finisher(kumo):
    def finish(request: web.Request, headers) -> None:
        bucket = bucket_of(kumo, request)
        if bucket is None:
            return
        for name, value in cors.actual_headers(_rules(kumo, bucket), request.headers.get("Origin"),
                                               request.method).items():
            headers.setdefault(name, value)

    return finish


def browser_allowed(kumo):
    def allowed(request: web.Request) -> bool:
        bucket = bucket_of(kumo, request)
        if bucket is None:
            return False
        if request.method == "OPTIONS":
            return True
        origin = request.headers.get("Origin")
        if not origin or cors.find_rule(_rules(kumo, bucket) or [], origin, request.method) is None:
            return False
        # A page's unsigned request is anonymous on AWS: it reads only what the bucket policy makes public.
        # kumo treats unsigned API requests as the account's root, so a page gets through only with a
        # signature (a presigned URL, or credentials it holds) or for a public read.
        return _signed(request) or (request.method in ("GET", "HEAD")
                                    and public_read(kumo.store, bucket, _key_of(request, bucket)))

    return allowed


def _signed(request: web.Request) -> bool:
    auth = request.headers.get("Authorization", "")
    query = request.query
    return auth.startswith(("AWS4-HMAC-SHA256 ", "AWS ")) or "X-Amz-Signature" in query or "Signature" in query


def _key_of(request: web.Request, bucket: str) -> str:
    path = urllib.parse.unquote(request.raw_path.partition("?")[0]).lstrip("/")
    if virtual_bucket(request.headers.get("Host", "")) is None:
        path = path.split("/", 1)[1] if "/" in path else ""
    return path


__all__ = ["put_bucket_cors", "get_bucket_cors", "delete_bucket_cors"]
