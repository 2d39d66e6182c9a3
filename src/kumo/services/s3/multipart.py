"""Multipart uploads: parts received as blobs of their own, joined into one object on Complete.

Up to 10,000 parts of 5 GiB each; every part but the last at least 5 MiB (checked on Complete, as S3
does). The object's ETag is the MD5 of the parts' MD5s, "-N"; its checksum (when the upload asked for
one) is S3's COMPOSITE form, the checksum of the parts' checksums, "-N", or, asked with
ChecksumType=FULL_OBJECT (CRC32 and CRC32C only, as on S3), the checksum of the whole object.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets

from ...aws.errors import AwsError
from . import buckets, checksums, copying, objects, storage, upload

MIN_PART = 5 * 1024 * 1024
MAX_PARTS = 10000


def _no_such_upload(upload_id: str) -> AwsError:
    return AwsError("NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload "
                    "may have been aborted or completed.", status=404, UploadId=upload_id)


def _upload(store, bucket: str, key: str, upload_id: str) -> dict:
    rows = store.select("SELECT id, bucket, key, initiated, meta FROM s3_uploads WHERE id=?", (upload_id,))
    if not rows or rows[0][1] != bucket or rows[0][2] != key:
        raise _no_such_upload(upload_id)
    row = rows[0]
    return {"id": row[0], "bucket": row[1], "key": row[2], "initiated": row[3], "meta": json.loads(row[4])}


def _part_number(params) -> int:
    number = params.get("PartNumber")
    if number is None or not 1 <= number <= MAX_PARTS:
        raise AwsError("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive", status=400,
                       ArgumentName="partNumber", ArgumentValue=str(number))
    return number


def create_multipart_upload(ctx, params):
    from .api import object_meta

    record = buckets.for_request(ctx, params)
    meta = object_meta(ctx, params, record)
    algorithm = params.get("ChecksumAlgorithm")
    kind = params.get("ChecksumType") or "COMPOSITE"
    if kind not in ("COMPOSITE", "FULL_OBJECT"):
        raise AwsError("InvalidRequest", f"Value for x-amz-checksum-type header is invalid: {kind}", status=400)
    if kind == "FULL_OBJECT" and algorithm not in ("CRC32", "CRC32C"):
        raise AwsError("InvalidRequest", f"The {algorithm or 'requested'} algorithm is not supported for the "
                       "FULL_OBJECT checksum type (only CRC32, CRC32C and CRC64NVME, and kumo has no CRC64NVME).",
                       status=400)
    if algorithm:
        if algorithm not in checksums.ALGORITHMS:
            raise AwsError("InvalidRequest", f"Checksum algorithm {algorithm} is not supported by kumo.", status=400)
        meta["ChecksumAlgorithm"] = algorithm
        meta["UploadChecksumType"] = kind
    upload_id = secrets.token_urlsafe(48)
    ctx.store.sql("INSERT INTO s3_uploads (id, bucket, key, initiated, meta) VALUES (?, ?, ?, ?, ?)",
                  (upload_id, params["Bucket"], params["Key"], ctx.now(), storage.meta_json(meta)))
    out = {"Bucket": params["Bucket"], "Key": params["Key"], "UploadId": upload_id}
    if algorithm:
        out["ChecksumAlgorithm"] = algorithm
        out["ChecksumType"] = kind
    return out


def _commit_part(ctx, params, upload_id: str, number: int, temp: str, size: int, md5: str,
                 checksum: dict) -> str:
    store = ctx.store
    blobs = objects.service(ctx.kumo).blobs
    name = blobs.adopt(temp)
    try:
        with store.transaction():
            _upload(store, params["Bucket"], params["Key"], upload_id)  # aborted while the body came in?
            old = store.select("SELECT file FROM s3_parts WHERE upload=? AND number=?", (upload_id, number))
            store.sql("INSERT OR REPLACE INTO s3_parts (upload, number, size, etag, modified, file, meta) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?)", (upload_id, number, size, f'"{md5}"', ctx.now(), name,
                                                       storage.meta_json({"Checksum": checksum})))
            if old:
                store.after_commit(lambda: blobs.remove(old[0][0]))
    except BaseException:
        blobs.remove(name)
        raise
    return f'"{md5}"'


async def upload_part(ctx, params):
    number = _part_number(params)
    upload_id = params["UploadId"]
    buckets.for_request(ctx, params)
    _upload(ctx.store, params["Bucket"], params["Key"], upload_id)
    try:
        received = await upload.receive(objects.service(ctx.kumo).blobs, ctx.extra["body"], ctx.headers)
    except AwsError as err:
        err.close = True
        raise
    etag = _commit_part(ctx, params, upload_id, number, received.path, received.size, received.md5, received.checksum)
    out = {"ETag": etag, "ServerSideEncryption": "AES256"}
    for algorithm, value in received.checksum.items():
        out[f"Checksum{algorithm}"] = value
    return out


async def upload_part_copy(ctx, params):
    number = _part_number(params)
    upload_id = params["UploadId"]
    buckets.for_request(ctx, params)
    up = _upload(ctx.store, params["Bucket"], params["Key"], upload_id)
    v = copying.source(ctx, params)
    start, end = 0, v.size - 1
    text = params.get("CopySourceRange")
    if text:
        chosen = _copy_range(text, v.size)
        start, end = chosen
    length = end - start + 1
    if length > upload.MAX_PUT:
        raise AwsError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", status=400)
    algorithm = up["meta"].get("ChecksumAlgorithm")
    temp, md5, checksum = await copying.copy_range(ctx.kumo, v, start, max(length, 0), algorithm)
    etag = _commit_part(ctx, params, upload_id, number, temp, max(length, 0), md5,
                        {algorithm: checksum} if checksum else {})
    out = {"CopyPartResult": {"ETag": etag, "LastModified": ctx.now()}}
    if checksum:
        out["CopyPartResult"][f"Checksum{algorithm}"] = checksum
    if v.version != "null":
        out["CopySourceVersionId"] = v.version
    return out


def _copy_range(text: str, size: int) -> tuple[int, int]:
    value = text.strip()
    bad = AwsError("InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last where "
                   "first and last are the zero-based offsets of the first and last bytes to copy", status=400,
                   ArgumentName="x-amz-copy-source-range", ArgumentValue=text)
    if not value.startswith("bytes="):
        raise bad
    first, _, last = value[6:].partition("-")
    if not first.isdigit() or not last.isdigit() or int(last) < int(first):
        raise bad
    if int(last) >= size:
        raise AwsError("InvalidRange", "The requested range is not satisfiable", status=416, RangeRequested=text,
                       ActualObjectSize=size)
    return int(first), int(last)


def _join(paths: list[str], dst: str, algorithm: str | None = None) -> str | None:
    """Concatenate the parts into dst (in the kernel), fsynced; the whole's checksum when asked for one."""
    with open(dst, "wb") as out:
        for path in paths:
            with open(path, "rb") as part:
                size = os.fstat(part.fileno()).st_size
                offset = 0
                while offset < size:
                    sent = os.copy_file_range(part.fileno(), out.fileno(), size - offset, offset_src=offset)
                    if sent == 0:
                        break
                    offset += sent
        out.flush()
        os.fdatasync(out.fileno())
    if algorithm is None:
        return None
    h = checksums.hasher(algorithm)
    with open(dst, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return checksums.encode(h.digest())


async def complete_multipart_upload(ctx, params):
    store = ctx.store
    record = buckets.for_request(ctx, params)
    upload_id = params["UploadId"]
    up = _upload(store, params["Bucket"], params["Key"], upload_id)
    conditions = (params.get("IfMatch"), params.get("IfNoneMatch"))
    objects.check_write(ctx.kumo, params["Bucket"], params["Key"], *conditions)
    wanted = (params.get("MultipartUpload") or {}).get("Parts") or []
    if not wanted:
        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                       "published schema", status=400)
    rows = {r[0]: r for r in store.select("SELECT number, size, etag, file, meta FROM s3_parts WHERE upload=?",
                                          (upload_id,))}
    chosen = []
    previous = 0
    for i, part in enumerate(wanted):
        number = part.get("PartNumber") or 0
        if number <= previous:
            raise AwsError("InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered "
                           "by part number.", status=400, UploadId=upload_id)
        previous = number
        row = rows.get(number)
        stored = json.loads(row[4]).get("Checksum", {}) if row is not None else {}
        given = {a: part[f"Checksum{a}"] for a in checksums.ALGORITHMS if part.get(f"Checksum{a}")}
        if row is None or (part.get("ETag") or "").strip('"') != row[2].strip('"') or any(
                stored.get(a) != value for a, value in given.items()):
            raise AwsError("InvalidPart", "One or more of the specified parts could not be found. The part may not "
                           "have been uploaded, or the specified entity tag may not match the part's entity tag.",
                           status=400, UploadId=upload_id, PartNumber=number, ETag=part.get("ETag"))
        chosen.append(row)
    for row in chosen[:-1]:
        if row[1] < MIN_PART:
            raise AwsError("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.",
                           status=400, ProposedSize=row[1], MinSizeAllowed=MIN_PART, PartNumber=row[0],
                           ETag=row[2])
    blobs = objects.service(ctx.kumo).blobs
    temp = blobs.temp()
    meta = dict(up["meta"])
    algorithm = meta.pop("ChecksumAlgorithm", None)
    kind = meta.pop("UploadChecksumType", "COMPOSITE")
    try:
        whole = await asyncio.to_thread(_join, [blobs.path(r[3]) for r in chosen], temp,
                                        algorithm if kind == "FULL_OBJECT" else None)
    except BaseException:
        blobs.remove_temp(temp)
        raise
    etag = checksums.multipart_etag([r[2] for r in chosen])
    meta["Parts"] = [r[1] for r in chosen]
    if whole is not None:
        expected = params.get(f"Checksum{algorithm}")
        if expected is not None and expected != whole:
            blobs.remove_temp(temp)
            raise AwsError("BadDigest", f"The {algorithm} you specified did not match the calculated checksum.",
                           status=400)
        meta["Checksum"] = {algorithm: whole}
        meta["ChecksumType"] = "FULL_OBJECT"
    elif algorithm:
        digests = [json.loads(r[4]).get("Checksum", {}).get(algorithm) for r in chosen]
        if all(digests):
            h = checksums.hasher(algorithm)
            for d in digests:
                h.update(base64.b64decode(d))
            meta["Checksum"] = {algorithm: f"{checksums.encode(h.digest())}-{len(chosen)}"}
            meta["ChecksumType"] = "COMPOSITE"
    size = sum(r[1] for r in chosen)
    # The upload's state could have changed while the parts were joined (aborted, completed twice): check again
    # inside the transaction that commits the object.
    with store.transaction():
        try:
            _upload(store, params["Bucket"], params["Key"], upload_id)
        except AwsError:
            blobs.remove_temp(temp)
            raise
        v = objects.commit(ctx.kumo, record, params["Key"], temp, size, etag, meta,
                           event="ObjectCreated:CompleteMultipartUpload", conditions=conditions)
        _forget_upload(ctx, upload_id)
    out = {"Location": f"{ctx.endpoint}/{params['Bucket']}/{params['Key']}", "Bucket": params["Bucket"],
           "Key": params["Key"], "ETag": etag, "ServerSideEncryption": "AES256"}
    if v.version != "null":
        out["VersionId"] = v.version
    for name, value in (meta.get("Checksum") or {}).items():
        out[f"Checksum{name}"] = value
        out["ChecksumType"] = meta["ChecksumType"]
    return out


def _forget_upload(ctx, upload_id: str) -> None:
    store = ctx.store
    files = [r[0] for r in store.select("SELECT file FROM s3_parts WHERE upload=?", (upload_id,))]
    store.sql("DELETE FROM s3_parts WHERE upload=?", (upload_id,))
    store.sql("DELETE FROM s3_uploads WHERE id=?", (upload_id,))
    blobs = objects.service(ctx.kumo).blobs
    store.after_commit(lambda: [blobs.remove(f) for f in files])


def abort_multipart_upload(ctx, params):
    buckets.for_request(ctx, params)
    _upload(ctx.store, params["Bucket"], params["Key"], params["UploadId"])
    _forget_upload(ctx, params["UploadId"])
    return {}


def list_parts(ctx, params):
    buckets.for_request(ctx, params)
    up = _upload(ctx.store, params["Bucket"], params["Key"], params["UploadId"])
    marker = params.get("PartNumberMarker") or 0
    limit = min(params.get("MaxParts") or 1000, 1000)
    rows = ctx.store.select("SELECT number, size, etag, modified, meta FROM s3_parts WHERE upload=? AND number>? "
                            "ORDER BY number LIMIT ?", (params["UploadId"], marker, limit + 1))
    truncated = len(rows) > limit
    rows = rows[:limit]
    parts = []
    for number, size, etag, modified, meta in rows:
        part = {"PartNumber": number, "Size": size, "ETag": etag, "LastModified": modified}
        for name, value in (json.loads(meta).get("Checksum") or {}).items():
            part[f"Checksum{name}"] = value
        parts.append(part)
    who = buckets.owner(up["meta"].get("Owner", ctx.account))
    out = {"Bucket": params["Bucket"], "Key": params["Key"], "UploadId": params["UploadId"],
           "PartNumberMarker": marker, "MaxParts": limit, "IsTruncated": truncated, "Parts": parts or None,
           "Owner": who, "Initiator": who, "StorageClass": up["meta"].get("StorageClass", "STANDARD")}
    if truncated:
        out["NextPartNumberMarker"] = rows[-1][0]
    if up["meta"].get("ChecksumAlgorithm"):
        out["ChecksumAlgorithm"] = up["meta"]["ChecksumAlgorithm"]
        out["ChecksumType"] = up["meta"].get("UploadChecksumType", "COMPOSITE")
    return out


def list_multipart_uploads(ctx, params):
    name = params["Bucket"]
    buckets.for_request(ctx, params)
    prefix = params.get("Prefix") or ""
    delimiter = params.get("Delimiter") or None
    key_marker = params.get("KeyMarker") or ""
    id_marker = params.get("UploadIdMarker") or ""
    limit = min(params.get("MaxUploads") or 1000, 1000)
    rows = ctx.store.select("SELECT id, key, initiated, meta FROM s3_uploads WHERE bucket=? AND key>=? "
                            "ORDER BY key, initiated, id", (name, prefix))
    uploads, prefixes, truncated = [], [], False
    last = None
    for upload_id, key, initiated, meta in rows:
        if not key.startswith(prefix):
            continue
        if key < key_marker or (key == key_marker and (not id_marker or upload_id <= id_marker)):
            continue
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut >= 0:
                common = key[:cut + len(delimiter)]
                if common in prefixes:
                    continue
                if len(uploads) + len(prefixes) == limit:
                    truncated = True
                    break
                prefixes.append(common)
                continue
        if len(uploads) + len(prefixes) == limit:
            truncated = True
            break
        who = buckets.owner(json.loads(meta).get("Owner", ctx.account))
        uploads.append({"UploadId": upload_id, "Key": key, "Initiated": initiated, "StorageClass": "STANDARD",
                        "Owner": who, "Initiator": who})
        last = (key, upload_id)
    out = {"Bucket": name, "KeyMarker": key_marker, "UploadIdMarker": id_marker, "MaxUploads": limit,
           "IsTruncated": truncated, "Uploads": uploads or None, "Prefix": prefix or None,
           "CommonPrefixes": [{"Prefix": p} for p in prefixes] or None}
    if delimiter:
        out["Delimiter"] = delimiter
    if truncated and last:
        out["NextKeyMarker"], out["NextUploadIdMarker"] = last
    return out


__all__ = ["create_multipart_upload", "upload_part", "upload_part_copy", "complete_multipart_upload",
           "abort_multipart_upload", "list_parts", "list_multipart_uploads"]
