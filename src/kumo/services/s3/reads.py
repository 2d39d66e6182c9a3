"""GetObject and HeadObject: the version asked for, its headers, conditions (304/412) and byte ranges (206/416)."""

from __future__ import annotations

import re

from ...aws.errors import AwsError
from ...aws.streaming import FileBody
from . import buckets, objects
from .storage import Version

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_OVERRIDES = {"ResponseCacheControl": "CacheControl", "ResponseContentDisposition": "ContentDisposition",
              "ResponseContentEncoding": "ContentEncoding", "ResponseContentLanguage": "ContentLanguage",
              "ResponseContentType": "ContentType", "ResponseExpires": "Expires"}


def _etags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/").strip('"') for t in header.split(",") if t.strip()]


def _seconds(ts: float) -> int:
    return int(ts)  # HTTP dates have whole seconds


def check_conditions(params, v: Version, prefix: str = "") -> None:
    """RFC 7232 as S3 applies it: If-Match beats If-Unmodified-Since, If-None-Match beats If-Modified-Since."""
    etag = v.etag.strip('"')
    modified = _seconds(v.modified)
    if_match = params.get(f"{prefix}IfMatch")
    if_none = params.get(f"{prefix}IfNoneMatch")
    since = params.get(f"{prefix}IfModifiedSince")
    unmodified = params.get(f"{prefix}IfUnmodifiedSince")
    failed = AwsError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                      status=412, Condition="If-Match" if if_match is not None else "If-Unmodified-Since")
    if if_match is not None:
        if "*" not in _etags(if_match) and etag not in _etags(if_match):
            raise failed
    elif unmodified is not None and modified > unmodified:
        raise failed
    not_modified = AwsError("NotModified", "Not Modified", status=304)
    not_modified.headers.update({"ETag": v.etag})
    if if_none is not None:
        if "*" in _etags(if_none) or etag in _etags(if_none):
            if prefix:  # copy conditions answer 412, not 304
                raise failed
            raise not_modified
    elif since is not None and modified <= since:
        if prefix:
            raise failed
        raise not_modified


def parse_range(text: str | None, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of a single ``bytes=`` range, None to send it all; 416 when unsatisfiable."""
    if not text:
        return None
    m = _RANGE.match(text.strip())
    if m is None or (not m.group(1) and not m.group(2)):
        return None  # S3 ignores a range it cannot read (and multiple ranges)
    first, last = m.group(1), m.group(2)
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
        if last and int(last) < start:
            return None
    else:
        length = int(last)
        if length == 0:
            start, end = size, size - 1  # unsatisfiable
        else:
            start, end = max(size - length, 0), size - 1
    if start >= size:
        raise AwsError("InvalidRange", "The requested range is not satisfiable", status=416,
                       RangeRequested=text, ActualObjectSize=size)
    return start, end


def headers_of(v: Version, params, checksum: bool) -> dict:
    meta = v.meta
    out = {"LastModified": v.modified, "ContentLength": v.size, "ETag": v.etag, "AcceptRanges": "bytes",
           "ContentType": meta.get("ContentType"), "Metadata": meta.get("Metadata") or None,
           "ServerSideEncryption": "AES256"}
    for name in ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "Expires",
                 "WebsiteRedirectLocation", "StorageClass"):
        if meta.get(name) is not None:
            out[name] = meta[name]
    if v.version != "null":
        out["VersionId"] = v.version
    if meta.get("Tags"):
        out["TagCount"] = len(meta["Tags"])
    if meta.get("Parts"):
        out["PartsCount"] = len(meta["Parts"])
    if checksum and meta.get("Checksum"):
        for algorithm, value in meta["Checksum"].items():
            out[f"Checksum{algorithm}"] = value
        out["ChecksumType"] = meta.get("ChecksumType", "FULL_OBJECT")
    for param, header in _OVERRIDES.items():
        if params.get(param) is not None:
            out[header] = params[param]
    return out


def _read(ctx, params, head: bool):
    buckets.for_request(ctx, params)
    v = objects.find(ctx.kumo, params["Bucket"], params["Key"], params.get("VersionId"), head=head)
    check_conditions(params, v)
    out = headers_of(v, params, params.get("ChecksumMode") == "ENABLED")
    from .lifecycle import expiration_of  # x-amz-expiration, from the bucket's lifecycle rules

    out["Expiration"] = expiration_of(ctx.kumo, v)
    start, end, status = 0, v.size - 1, None
    part = params.get("PartNumber")
    if part is not None:
        parts = v.meta.get("Parts") or [v.size]
        if part < 1 or part > len(parts):
            raise AwsError("InvalidPartNumber", "The requested partnumber is not satisfiable", status=416,
                           PartNumberRequested=part, ActualPartCount=len(parts))
        start = sum(parts[:part - 1])
        end = start + parts[part - 1] - 1
        status = 206
        out["PartsCount"] = len(parts)
    else:
        chosen = parse_range(params.get("Range"), v.size)
        if chosen is not None:
            (start, end), status = chosen, 206
    if status == 206:
        for name in [n for n in out if n.startswith("Checksum")]:  # they describe the whole object
            del out[name]
        out["ContentRange"] = f"bytes {start}-{end}/{v.size}"
        out["ContentLength"] = end - start + 1
    length = max(end - start + 1, 0)
    if not head:
        path = objects.service(ctx.kumo).blobs.path(v.file)
        # Opened now: a DELETE committed before the answer is sent unlinks the name, not this open file.
        out["Body"] = FileBody(path, start, length, status=status, file=open(path, "rb"))
    return out


def get_object(ctx, params):
    return _read(ctx, params, head=False)


def head_object(ctx, params):
    return _read(ctx, params, head=True)
