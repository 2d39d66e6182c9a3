"""ListObjects (v1), ListObjectsV2 and ListObjectVersions: prefixes, delimiters, pages, url encoding."""

from __future__ import annotations

import base64
from urllib.parse import quote

from ...aws.errors import AwsError
from . import buckets, storage

_TOP = "\U0010ffff"  # sorts after every character: key > prefix + _TOP skips every key under prefix
_BATCH = 1000


def _encoder(params):
    encoding = params.get("EncodingType")
    if encoding is None:
        return lambda s: s
    if encoding != "url":
        raise AwsError("InvalidArgument", "Invalid Encoding Method specified in Request", status=400,
                       ArgumentName="encoding-type", ArgumentValue=encoding)
    return lambda s: quote(s, safe="/~").replace("%20", "+") if s is not None else None


def _max_keys(params) -> int:
    value = params.get("MaxKeys")
    if value is None:
        return 1000
    if value < 0:
        raise AwsError("InvalidArgument", "Argument maxKeys must be an integer between 0 and 2147483647", status=400,
                       ArgumentName="maxKeys", ArgumentValue=str(value))
    return min(value, 1000)


def _past_prefix(after: str, prefix: str, delimiter: str | None) -> str:
    """A marker inside a common prefix (the prefix itself, as NextMarker names it) resumes after all of it."""
    if delimiter and after.startswith(prefix):
        cut = after.find(delimiter, len(prefix))
        if cut >= 0:
            return after[:cut + len(delimiter)] + _TOP
    return after


def _walk(store, bucket: str, prefix: str, delimiter: str | None, after: str, limit: int):
    """(entries, common prefixes, truncated, last position) of up to ``limit`` keys and prefixes after ``after``."""
    entries, prefixes, count = [], [], 0
    after = _past_prefix(after, prefix, delimiter)
    last = None
    while True:
        rows = storage.listing(store, bucket, prefix, after, _BATCH)
        if not rows:
            return entries, prefixes, False, last
        for v in rows:
            if delimiter:
                cut = v.key.find(delimiter, len(prefix))
                if cut >= 0:
                    common = v.key[:cut + len(delimiter)]
                    if count == limit:
                        return entries, prefixes, True, last
                    prefixes.append(common)
                    count += 1
                    last = after = common + _TOP
                    break  # skip the rest of that prefix with a new query
            if count == limit:
                return entries, prefixes, True, last
            entries.append(v)
            count += 1
            last = after = v.key
        else:
            if len(rows) < _BATCH:
                return entries, prefixes, False, last


def _entry(v, enc, with_owner: bool) -> dict:
    out = {"Key": enc(v.key), "LastModified": v.modified, "ETag": v.etag, "Size": v.size,
           "StorageClass": v.meta.get("StorageClass", "STANDARD")}
    if v.meta.get("Checksum"):
        out["ChecksumAlgorithm"] = list(v.meta["Checksum"])
        out["ChecksumType"] = v.meta.get("ChecksumType", "FULL_OBJECT")
    if with_owner:
        out["Owner"] = buckets.owner(v.meta.get("Owner", ""))
    return out


def _token(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode("utf-8", "surrogatepass")).decode()


def _untoken(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode("utf-8", "surrogatepass")
    except Exception:
        raise AwsError("InvalidArgument", "The continuation token provided is incorrect", status=400,
                       ArgumentName="continuation-token") from None


def list_objects_v2(ctx, params):
    name = params["Bucket"]
    buckets.for_request(ctx, params)
    enc = _encoder(params)
    prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or None
    limit = _max_keys(params)
    token = params.get("ContinuationToken")
    after = _untoken(token) if token else (params.get("StartAfter") or "")
    entries, prefixes, truncated, last = _walk(ctx.store, name, prefix, delimiter, after, limit)
    out = {"Name": name, "Prefix": enc(prefix), "MaxKeys": params.get("MaxKeys", 1000), "KeyCount":
           len(entries) + len(prefixes), "IsTruncated": truncated,
           "Contents": [_entry(v, enc, bool(params.get("FetchOwner"))) for v in entries] or None,
           "CommonPrefixes": [{"Prefix": enc(p)} for p in prefixes] or None}
    if delimiter:
        out["Delimiter"] = enc(delimiter)
    if params.get("EncodingType"):
        out["EncodingType"] = params["EncodingType"]
    if token:
        out["ContinuationToken"] = token
    if params.get("StartAfter"):
        out["StartAfter"] = enc(params["StartAfter"])
    if truncated:
        out["NextContinuationToken"] = _token(last)
    return out


def list_objects(ctx, params):
    name = params["Bucket"]
    buckets.for_request(ctx, params)
    enc = _encoder(params)
    prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or None
    limit = _max_keys(params)
    marker = params.get("Marker") or ""
    entries, prefixes, truncated, last = _walk(ctx.store, name, prefix, delimiter, marker, limit)
    out = {"Name": name, "Prefix": enc(prefix), "Marker": enc(marker), "MaxKeys": params.get("MaxKeys", 1000),
           "IsTruncated": truncated, "Contents": [_entry(v, enc, True) for v in entries] or None,
           "CommonPrefixes": [{"Prefix": enc(p)} for p in prefixes] or None}
    if delimiter:
        out["Delimiter"] = enc(delimiter)
        if truncated:
            out["NextMarker"] = enc(last.removesuffix(_TOP))
    if params.get("EncodingType"):
        out["EncodingType"] = params["EncodingType"]
    return out


def list_object_versions(ctx, params):
    name = params["Bucket"]
    buckets.for_request(ctx, params)
    enc = _encoder(params)
    prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or None
    limit = _max_keys(params)
    key_marker = params.get("KeyMarker") or ""
    version_marker = params.get("VersionIdMarker")
    after_seq = None
    if version_marker and key_marker:
        found = storage.version(ctx.store, name, key_marker, version_marker)
        if found is None:
            raise AwsError("InvalidArgument", "Invalid version id specified", status=400,
                           ArgumentName="version-id-marker", ArgumentValue=version_marker)
        after_seq = found.seq
    elif version_marker:
        raise AwsError("InvalidArgument", "A version-id marker cannot be specified without a key marker.", status=400,
                       ArgumentName="version-id-marker", ArgumentValue=version_marker)
    if after_seq is None:
        key_marker_pos = _past_prefix(key_marker, prefix, delimiter)
    else:
        key_marker_pos = key_marker
    versions, markers, prefixes = [], [], []
    count, truncated = 0, False
    next_key = next_version = None
    after_key = key_marker_pos
    while not truncated:
        rows = storage.versions(ctx.store, name, prefix, after_key, after_seq, _BATCH)
        if not rows:
            break
        restart = False
        for v in rows:
            if not v.key.startswith(prefix):
                rows = []
                break
            if delimiter:
                cut = v.key.find(delimiter, len(prefix))
                if cut >= 0:
                    common = v.key[:cut + len(delimiter)]
                    if count == limit:
                        truncated = True
                        break
                    prefixes.append(common)
                    count += 1
                    next_key, next_version = common, None
                    after_key, after_seq = common + _TOP, None
                    restart = True
                    break
            if count == limit:
                truncated = True
                break
            item = {"Key": enc(v.key), "VersionId": v.version, "IsLatest": v.latest, "LastModified": v.modified,
                    "Owner": buckets.owner(v.meta.get("Owner", ""))}
            if v.marker:
                markers.append(item)
            else:
                item.update({"ETag": v.etag, "Size": v.size, "StorageClass": v.meta.get("StorageClass", "STANDARD")})
                versions.append(item)
            count += 1
            next_key, next_version = v.key, v.version
            after_key, after_seq = v.key, v.seq
        if not restart and (truncated or len(rows) < _BATCH):
            break
    out = {"Name": name, "Prefix": enc(prefix), "KeyMarker": enc(key_marker), "MaxKeys": params.get("MaxKeys", 1000),
           "IsTruncated": truncated, "Versions": versions or None, "DeleteMarkers": markers or None,
           "CommonPrefixes": [{"Prefix": enc(p)} for p in prefixes] or None}
    if version_marker:
        out["VersionIdMarker"] = version_marker
    if delimiter:
        out["Delimiter"] = enc(delimiter)
    if params.get("EncodingType"):
        out["EncodingType"] = params["EncodingType"]
    if truncated:
        out["NextKeyMarker"] = enc(next_key)
        if next_version is not None:
            out["NextVersionIdMarker"] = next_version
    return out
