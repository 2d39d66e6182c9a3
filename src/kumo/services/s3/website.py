"""Static website hosting: Put/Get/DeleteBucketWebsite, and the website endpoint served over HTTP.

The endpoint is kumo's port under the website host names, which resolve to loopback on Linux as any
``*.localhost`` does: ``<bucket>.s3-website.localhost:4566``, ``<bucket>.s3-website-<region>.localhost:4566``
or ``<bucket>.s3-website.<region>.localhost:4566`` (AWS's ``...amazonaws.com`` forms too, through a proxy or
/etc/hosts).  As on AWS it answers GET and HEAD only, with HTML errors, and serves only objects anyone may
read: the bucket policy must allow ``s3:GetObject`` to ``*`` (and the public access block let it), else 403.
Index documents, the 302 to ``key/`` when ``key/<index>`` exists, error documents, RedirectAllRequestsTo,
routing rules and objects' WebsiteRedirectLocation are followed.
"""

from __future__ import annotations

import email.utils
import re
import urllib.parse

from aiohttp import web

from ...aws.errors import AwsError
from ...core.ids import request_id as new_request_id
from . import buckets, objects, website_rules as rules
from .bucket_config import delete_config, get_config, public_read, put_config

KIND = "s3.website"
_HOST = re.compile(r"^(?P<bucket>.+?)\.s3-website(?:[.-](?P<region>[a-z0-9-]+))?\.(?:localhost|amazonaws\.com)$")


def put_bucket_website(ctx, params):
    record = buckets.for_request(ctx, params)
    put_config(ctx.store, KIND, record["Name"], rules.check(params.get("WebsiteConfiguration") or {}))
    return {}


def get_bucket_website(ctx, params):
    record = buckets.for_request(ctx, params)
    config = get_config(ctx.store, KIND, record["Name"])
    if config is None:
        raise AwsError("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration",
                       status=404, BucketName=record["Name"])
    return config


def delete_bucket_website(ctx, params):
    record = buckets.for_request(ctx, params)
    delete_config(ctx.store, KIND, record["Name"])
    return {}


def website_bucket(host: str) -> str | None:
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    m = _HOST.match(name.lower())
    return m.group("bucket") if m else None


def _page(status: int, code: str, message: str, head: bool, extra: dict | None = None) -> web.Response:
    rid = new_request_id()
    body = rules.error_page(status, code, message, rid).encode()
    headers = {"Content-Type": "text/html; charset=utf-8", "x-amz-request-id": rid, **(extra or {})}
    return web.Response(status=status, body=b"" if head else body, headers=headers)


def _redirect(status: int, location: str) -> web.Response:
    return web.Response(status=status, headers={"Location": location, "Content-Length": "0",
                                                "x-amz-request-id": new_request_id()})


def _find(kumo, bucket: str, key: str):
    try:
        return objects.find(kumo, bucket, key)
    except AwsError:
        return None


def _serve(kumo, v, status: int = 200) -> web.StreamResponse:
    headers = {"Content-Type": v.meta.get("ContentType") or "binary/octet-stream", "ETag": v.etag,
               "Last-Modified": email.utils.formatdate(v.modified, usegmt=True), "x-amz-request-id": new_request_id()}
    for name, header in (("CacheControl", "Cache-Control"), ("ContentEncoding", "Content-Encoding"),
                         ("ContentDisposition", "Content-Disposition"), ("ContentLanguage", "Content-Language")):
        if v.meta.get(name):
            headers[header] = v.meta[name]
    for name, value in (v.meta.get("Metadata") or {}).items():
        headers[f"x-amz-meta-{name}"] = value
    answer = web.FileResponse(objects.service(kumo).blobs.path(v.file), headers=headers)
    answer.set_status(status)
    return answer


def intercept(kumo):
    async def serve(request: web.Request) -> web.StreamResponse | None:
        host = request.headers.get("Host", "")
        if "s3-website" not in host:  # every request passes here: the cheap test first
            return None
        bucket = website_bucket(host)
        if bucket is None:
            return None
        return _answer(kumo, request, bucket)

    return serve


def _answer(kumo, request: web.Request, bucket: str) -> web.StreamResponse:
    head = request.method == "HEAD"
    if request.method not in ("GET", "HEAD"):
        return _page(405, "MethodNotAllowed", "The specified method is not allowed against this resource.", head,
                     {"Allow": "GET, HEAD"})
    store = kumo.store
    if buckets.get(store, bucket) is None:
        return _page(404, "NoSuchBucket", "The specified bucket does not exist", head)
    config = get_config(store, KIND, bucket)
    if config is None:
        return _page(404, "NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration",
                     head)
    host = request.headers.get("Host", "")
    raw = request.raw_path
    location = rules.redirect_all(config, request.scheme, raw)
    if location is not None:
        return _redirect(301, location)
    key = urllib.parse.unquote(raw.partition("?")[0][1:])
    rule = rules.routing_rule(config, key)
    if rule is not None:
        status, location = rules.rule_location(rule, key, request.scheme, host)
        return _redirect(status, location)
    target = rules.index_key(config, key)
    v = _find(kumo, bucket, target)
    if v is not None:
        if not public_read(store, bucket, target):
            return _error(kumo, request, bucket, config, key, 403, "AccessDenied", "Access Denied")
        if v.meta.get("WebsiteRedirectLocation"):
            return _redirect(301, v.meta["WebsiteRedirectLocation"])
        return _serve(kumo, v)
    if not key.endswith("/") and key:
        folder = rules.index_key(config, key + "/")
        if _find(kumo, bucket, folder) is not None and public_read(store, bucket, folder):
            return _redirect(302, f"/{urllib.parse.quote(key)}/")
    return _error(kumo, request, bucket, config, key, 404, "NoSuchKey", "The specified key does not exist.")


def _error(kumo, request, bucket: str, config: dict, key: str, status: int, code: str, message: str):
    head = request.method == "HEAD"
    rule = rules.routing_rule(config, key, status)
    if rule is not None:
        redirect_status, location = rules.rule_location(rule, key, request.scheme, request.headers.get("Host", ""))
        return _redirect(redirect_status, location)
    error_key = (config.get("ErrorDocument") or {}).get("Key")
    if error_key:
        doc = _find(kumo, bucket, error_key)
        if doc is not None and public_read(kumo.store, bucket, error_key):
            return _serve(kumo, doc, status)
    if status == 404:
        rid = new_request_id()
        body = rules.not_found_page(bucket, key, rid).encode()
        return web.Response(status=404, body=b"" if head else body,
                            headers={"Content-Type": "text/html; charset=utf-8", "x-amz-request-id": rid})
    return _page(status, code, message, head)


def browser_allowed(request: web.Request) -> bool:
    return request.method in ("GET", "HEAD") and website_bucket(request.headers.get("Host", "")) is not None


__all__ = ["put_bucket_website", "get_bucket_website", "delete_bucket_website"]
