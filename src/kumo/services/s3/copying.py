"""CopyObject, and reading a copy source (shared with UploadPartCopy): bytes copied file to file off the loop."""

from __future__ import annotations

import asyncio
import hashlib
import os
from urllib.parse import unquote

from ...aws.errors import AwsError
from . import buckets, checksums, objects, reads
from .upload import MAX_PUT

_SELF_COPY = ("This copy request is illegal because it is trying to copy an object to itself without changing the "
              "object's metadata, storage class, website redirect location or encryption attributes.")


def source(ctx, params, prefix: str = "CopySource"):
    """The version x-amz-copy-source names (``bucket/key[?versionId=...]``), its conditions checked."""
    text = params.get("CopySource") or ""
    path, _, query = text.partition("?")
    path = unquote(path).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise AwsError("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                       status=400, ArgumentName="x-amz-copy-source", ArgumentValue=text)
    version_id = None
    for item in query.split("&") if query else ():
        name, _, value = item.partition("=")
        if name == "versionId":
            version_id = unquote(value)
    buckets.require(ctx.store, bucket)
    v = objects.find(ctx.kumo, bucket, key, version_id)
    reads.check_conditions(params, v, prefix=prefix)
    return v


def _copy(src: str, dst: str, offset: int, length: int, algorithm: str | None) -> tuple[str, str | None]:
    """Copy ``length`` bytes of src from ``offset`` into a new file dst, fsynced: (MD5 hex, checksum or None)."""
    md5 = hashlib.md5()
    crc = checksums.hasher(algorithm) if algorithm else None
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        fin.seek(offset)
        left = length
        while left > 0:
            chunk = fin.read(min(left, 1 << 20))
            if not chunk:
                break
            md5.update(chunk)
            if crc is not None:
                crc.update(chunk)
            fout.write(chunk)
            left -= len(chunk)
        fout.flush()
        os.fdatasync(fout.fileno())
    return md5.hexdigest(), checksums.encode(crc.digest()) if crc is not None else None


async def copy_range(kumo, v, offset: int, length: int, algorithm: str | None = None) -> tuple[str, str, str | None]:
    """A temp file with the bytes of version ``v`` in [offset, offset+length): (path, md5 hex, checksum)."""
    blobs = objects.service(kumo).blobs
    temp = blobs.temp()
    try:
        md5, checksum = await asyncio.to_thread(_copy, blobs.path(v.file), temp, offset, length, algorithm)
    except BaseException:
        blobs.remove_temp(temp)
        raise
    return temp, md5, checksum


async def copy_object(ctx, params):
    from .api import object_meta

    record = buckets.for_request(ctx, params)
    v = source(ctx, params)
    if v.size > MAX_PUT:
        raise AwsError("InvalidRequest", "The specified copy source is larger than the maximum allowable size for a "
                       "copy source: 5368709120", status=400)
    directive = params.get("MetadataDirective") or "COPY"
    if directive not in ("COPY", "REPLACE"):
        raise AwsError("InvalidArgument", "Unknown metadata directive.", status=400)
    same = v.bucket == params["Bucket"] and v.key == params["Key"]
    if same and directive == "COPY" and not params.get("StorageClass") and not params.get(
            "WebsiteRedirectLocation") and not params.get("ServerSideEncryption") and buckets.versioning(record) != \
            "Enabled":
        raise AwsError("InvalidRequest", _SELF_COPY, status=400)
    if directive == "REPLACE":
        meta = object_meta(ctx, params, record)
        meta.pop("Tags", None)
    else:
        object_meta(ctx, {"Key": params["Key"]}, record)  # the key's length
        meta = {k: val for k, val in v.meta.items() if k not in ("Tags", "Parts", "Checksum", "ChecksumType")}
        meta["Owner"] = ctx.account
        if params.get("StorageClass"):
            meta["StorageClass"] = params["StorageClass"]
    tagging = params.get("TaggingDirective") or "COPY"
    if tagging == "REPLACE":
        if params.get("Tagging"):
            from .tagging import parse_tagging_header

            meta["Tags"] = parse_tagging_header(params["Tagging"])
    elif v.meta.get("Tags"):
        meta["Tags"] = v.meta["Tags"]
    algorithm = params.get("ChecksumAlgorithm") or next(iter(v.meta.get("Checksum") or {}), None)
    temp, md5, checksum = await copy_range(ctx.kumo, v, 0, v.size, algorithm)
    if checksum is not None:
        meta["Checksum"] = {algorithm: checksum}
    etag = f'"{md5}"'
    new = objects.commit(ctx.kumo, record, params["Key"], temp, v.size, etag, meta, event="ObjectCreated:Copy")
    result = {"ETag": etag, "LastModified": new.modified}
    for name, value in (meta.get("Checksum") or {}).items():
        result[f"Checksum{name}"] = value
    out = {"CopyObjectResult": result, "ServerSideEncryption": "AES256"}
    if v.version != "null":
        out["CopySourceVersionId"] = v.version
    if new.version != "null":
        out["VersionId"] = new.version
    return out
