"""S3's handlers, by operation name (``PutObject`` -> ``put_object``), in botocore's rest-xml shapes.

This module holds the bucket and object core.  Other parts live in modules named for what they hold,
and their handlers are registered here by importing them into this module's namespace (the gateway
looks handlers up by name on ``kumo.services.s3.api``):

* objects.py / storage.py: object versions, blobs on disk;  upload.py, chunked.py, checksums.py: bodies
* reads.py: GetObject / HeadObject (ranges, conditions);  listing.py: ListObjects(V2), ListObjectVersions
* multipart.py: multipart uploads;  tagging.py: bucket and object tags
* bucket configuration subresources (lifecycle, CORS, website, policy, object lock, encryption,
  notification configuration): one module per feature (e.g. ``lifecycle.py``) with its handlers,
  storing its configuration in its own kind ``s3.<feature>`` keyed by bucket name (see buckets.py,
  which deletes those with the bucket once listed in ``buckets.SUBRESOURCE_KINDS``), added below as
  ``from .lifecycle import *`` (each feature module sets ``__all__`` to its handler names).

Handlers that read or write bodies are async and open their own transactions; the others run inside
the gateway's.  Operations without a handler answer 501 NotImplemented.
"""

from __future__ import annotations

from ...aws.errors import AwsError
from . import buckets, objects, storage, upload
from .buckets import owner
from .reads import get_object, head_object  # noqa: F401  (handlers)

# Regions whose LocationConstraint is written differently (the EU alias is legacy).
_DEFAULT_REGION = "us-east-1"


def _bucket(ctx, params) -> dict:
    return buckets.for_request(ctx, params)


# -- buckets -------------------------------------------------------------------------------------------


def create_bucket(ctx, params):
    name = params["Bucket"]
    buckets.validate_name(name)
    constraint = (params.get("CreateBucketConfiguration") or {}).get("LocationConstraint")
    if ctx.region == _DEFAULT_REGION:
        if constraint == _DEFAULT_REGION:
            raise AwsError("InvalidLocationConstraint", "The specified location-constraint is not valid",
                           status=400, LocationConstraint=constraint)
        region = constraint or _DEFAULT_REGION
        if region != _DEFAULT_REGION:
            raise AwsError("IllegalLocationConstraintException", f"The {region} location constraint is "
                           "incompatible for the region specific endpoint this request was sent to.", status=400)
    else:
        if not constraint:
            raise AwsError("IllegalLocationConstraintException", "The unspecified location constraint is "
                           "incompatible for the region specific endpoint this request was sent to.", status=400)
        if constraint != ctx.region:
            raise AwsError("IllegalLocationConstraintException", f"The {constraint} location constraint is "
                           "incompatible for the region specific endpoint this request was sent to.", status=400)
        region = constraint
    table = buckets.table(ctx.store)
    existing = table.get(name)
    if existing is not None:
        if existing["_owner"] != ctx.account:
            raise AwsError("BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace "
                           "is shared by all users of the system. Please select a different name and try again.",
                           status=409, BucketName=name)
        if ctx.region == _DEFAULT_REGION and existing["BucketRegion"] == _DEFAULT_REGION:
            return {"Location": f"/{name}"}  # us-east-1 answers a re-create by its owner with success
        raise AwsError("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and "
                       "you already own it.", status=409, BucketName=name)
    table.put(name, {"Name": name, "CreationDate": ctx.now(), "BucketRegion": region, "_owner": ctx.account,
                     "_versioning": None, "_mfa_delete": None, "_tags": None,
                     "_object_lock": bool(params.get("ObjectLockEnabledForBucket"))})
    if params.get("ObjectLockEnabledForBucket"):
        table.get(name)["_versioning"] = "Enabled"  # object lock turns versioning on
        table.put(name, table.get(name))
    return {"Location": f"/{name}", "BucketArn": f"arn:aws:s3:::{name}"}


def head_bucket(ctx, params):
    record = _bucket(ctx, params)
    return {"BucketRegion": record["BucketRegion"], "BucketLocationType": None, "AccessPointAlias": False}


def delete_bucket(ctx, params):
    name = params["Bucket"]
    _bucket(ctx, params)
    if storage.count(ctx.store, name) or ctx.store.select("SELECT 1 FROM s3_uploads WHERE bucket=? LIMIT 1", (name,)):
        raise AwsError("BucketNotEmpty", "The bucket you tried to delete is not empty", status=409, BucketName=name)
    buckets.table(ctx.store).delete(name)
    for kind in buckets.SUBRESOURCE_KINDS:
        ctx.store.table(buckets.SCOPE, kind).delete(name)
    return {}


def list_buckets(ctx, params):
    prefix = params.get("Prefix") or ""
    region = params.get("BucketRegion")
    mine = sorted((b for b in buckets.table(ctx.store).values() if b["_owner"] == ctx.account
                   and b["Name"].startswith(prefix) and (region is None or b["BucketRegion"] == region)),
                  key=lambda b: b["Name"])
    after = params.get("ContinuationToken")
    if after:
        mine = [b for b in mine if b["Name"] > after]
    limit = params.get("MaxBuckets") or 10000
    page = mine[:limit]
    out = {"Buckets": [{"Name": b["Name"], "CreationDate": b["CreationDate"], "BucketRegion": b["BucketRegion"],
                        "BucketArn": f"arn:aws:s3:::{b['Name']}"} for b in page],
           "Owner": owner(ctx.account)}
    if prefix:
        out["Prefix"] = prefix
    if len(mine) > limit:
        out["ContinuationToken"] = page[-1]["Name"]
    return out


def get_bucket_location(ctx, params):
    region = _bucket(ctx, params)["BucketRegion"]
    return {"LocationConstraint": None if region == _DEFAULT_REGION else region}


def put_bucket_versioning(ctx, params):
    record = _bucket(ctx, params)
    config = params.get("VersioningConfiguration") or {}
    status = config.get("Status")
    if status not in ("Enabled", "Suspended"):
        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                       "published schema", status=400)
    if status == "Suspended" and record.get("_object_lock"):
        raise AwsError("InvalidBucketState", "An Object Lock configuration is present on this bucket, so the "
                       "versioning state cannot be changed.", status=409)
    record["_versioning"] = status
    if config.get("MFADelete"):
        record["_mfa_delete"] = config["MFADelete"]
    buckets.table(ctx.store).put(record["Name"], record)
    return {}


def get_bucket_versioning(ctx, params):
    record = _bucket(ctx, params)
    out = {}
    if record.get("_versioning"):
        out["Status"] = record["_versioning"]
    if record.get("_mfa_delete"):
        out["MFADelete"] = record["_mfa_delete"]
    return out


# -- objects -------------------------------------------------------------------------------------------

_CONTENT = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "Expires",
            "WebsiteRedirectLocation")


MAX_KEY = 1024  # bytes of UTF-8
MAX_METADATA = 2048  # bytes of user metadata, names and values


def object_meta(ctx, params, record: dict) -> dict:
    """What a PutObject / CopyObject / CreateMultipartUpload records beside the body (the key checked too)."""
    key = params["Key"]
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY:
        raise AwsError("KeyTooLongError", "Your key is too long", status=400, MaxSizeAllowed=MAX_KEY,
                       Size=len(key.encode("utf-8", "surrogatepass")))
    user = params.get("Metadata") or {}
    used = sum(len(k.encode()) + len(v.encode()) for k, v in user.items())
    if used > MAX_METADATA:
        raise AwsError("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size",
                       status=400, Size=used, MaxSizeAllowed=MAX_METADATA)
    meta = {"ContentType": params.get("ContentType") or "binary/octet-stream",
            "Metadata": {k.lower(): v for k, v in (params.get("Metadata") or {}).items()},
            "Owner": ctx.account}
    for name in _CONTENT:
        if params.get(name) is not None:
            meta[name] = params[name]
    if meta.get("ContentEncoding"):
        # aws-chunked is how the body travelled, not how it is stored.
        kept = [e.strip() for e in meta["ContentEncoding"].split(",") if e.strip() and e.strip() != "aws-chunked"]
        if kept:
            meta["ContentEncoding"] = ",".join(kept)
        else:
            del meta["ContentEncoding"]
    if params.get("StorageClass") and params["StorageClass"] != "STANDARD":
        meta["StorageClass"] = params["StorageClass"]
    if params.get("Tagging"):
        from .tagging import parse_tagging_header

        meta["Tags"] = parse_tagging_header(params["Tagging"])
    return meta


async def put_object(ctx, params):
    record = _bucket(ctx, params)
    body = ctx.extra["body"]
    meta = object_meta(ctx, params, record)  # refused before the body is read
    conditions = (params.get("IfMatch"), params.get("IfNoneMatch"))
    objects.check_write(ctx.kumo, record["Name"], params["Key"], *conditions)  # before the body, and again at commit
    try:
        received = await upload.receive(objects.service(ctx.kumo).blobs, body, ctx.headers)
    except AwsError as err:
        err.close = True  # the rest of the body may be unread
        raise
    if received.checksum:
        meta["Checksum"] = received.checksum
    etag = f'"{received.md5}"'
    v = objects.commit(ctx.kumo, record, params["Key"], received.path, received.size, etag, meta,
                       conditions=conditions)
    out = {"ETag": etag, "ServerSideEncryption": "AES256"}
    if v.version != "null":
        out["VersionId"] = v.version
    from .lifecycle import expiration_of  # x-amz-expiration, from the bucket's lifecycle rules

    out["Expiration"] = expiration_of(ctx.kumo, v)
    for algorithm, value in received.checksum.items():
        out[f"Checksum{algorithm}"] = value
    if received.checksum:
        out["ChecksumType"] = "FULL_OBJECT"
    return out


def delete_object(ctx, params):
    record = _bucket(ctx, params)
    return objects.delete(ctx.kumo, record, params["Key"], params.get("VersionId"))


def delete_objects(ctx, params):
    record = _bucket(ctx, params)
    spec = params.get("Delete") or {}
    items = spec.get("Objects") or []
    if not items or len(items) > 1000:
        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                       "published schema", status=400)
    quiet = bool(spec.get("Quiet"))
    deleted, errors = [], []
    for item in items:
        key, version_id = item.get("Key"), item.get("VersionId")
        try:
            answer = objects.delete(ctx.kumo, record, key, version_id)
        except AwsError as err:
            errors.append({"Key": key, "VersionId": version_id, "Code": err.code, "Message": err.message})
            continue
        if quiet:
            continue
        done = {"Key": key}
        if version_id is not None:
            done["VersionId"] = version_id
            if answer.get("DeleteMarker"):
                done["DeleteMarker"] = True
                done["DeleteMarkerVersionId"] = version_id
        elif answer.get("DeleteMarker"):
            done["DeleteMarker"] = True
            done["DeleteMarkerVersionId"] = answer["VersionId"]
        deleted.append(done)
    return {"Deleted": deleted or None, "Errors": errors or None}


from .copying import copy_object  # noqa: E402,F401
from .listing import list_object_versions, list_objects, list_objects_v2  # noqa: E402,F401
from .multipart import *  # noqa: E402,F401,F403
from .tagging import *  # noqa: E402,F401,F403
from .features import *  # noqa: E402,F401,F403  (bucket features: lifecycle, CORS, website, notifications ...)
