"""Deployment packages read from S3 (Code.S3Bucket/S3Key/S3ObjectVersion, layers' Content likewise).

Lambda reads the object as the caller, from a bucket in the function's own region, and answers S3's
refusal inside its own InvalidParameterValueException ("Error occurred while GetObject. S3 Error Code:
NoSuchKey. S3 Error Message: ...").  A package from S3 may be bigger than the 50 MB of a direct upload: only
its unzipped size (250 MB) bounds it.
"""

from __future__ import annotations

from ...aws.errors import AwsError
from ..s3 import internal as s3
from .model import invalid


def _refused(code: str, message: str) -> AwsError:
    return invalid(f"Error occurred while GetObject. S3 Error Code: {code}. S3 Error Message: {message}")


def fetch(ctx, source: dict) -> bytes:
    bucket, key = source.get("S3Bucket"), source.get("S3Key")
    if not bucket or not key:
        raise invalid("Please provide a source for function code." if not bucket and not key else
                      "Both S3Bucket and S3Key must be provided.")
    region = s3.bucket_region(ctx.kumo, bucket)
    if region is not None and region != ctx.region:
        raise _refused("PermanentRedirect", f"The bucket is in this region: {region}. Please use this region to "
                       "retry the request")
    try:
        obj = s3.open_object(ctx.kumo, bucket, key, source.get("S3ObjectVersion"))
    except AwsError as exc:
        raise _refused(exc.code, exc.message)
    with open(obj.path, "rb") as f:
        return f.read()
