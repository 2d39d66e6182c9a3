"""Buckets: one global namespace (as on AWS), records of kind ``s3.bucket`` in scope "" keyed by name.

A bucket record::

    {"Name": "my-bucket", "CreationDate": 1700000000.0, "BucketRegion": "us-east-1",
     "_owner": "123456789012",          # the account that created it
     "_versioning": None | "Enabled" | "Suspended",
     "_mfa_delete": None | "Enabled" | "Disabled",
     "_tags": None | [{"Key": ..., "Value": ...}]}

Bucket subresources that the features modules keep (lifecycle, CORS, website, policy, object lock,
encryption, notification configuration ...) live in kinds of their own, ``s3.<feature>``, in the same
scope "" keyed by bucket name; ``SUBRESOURCE_KINDS`` names them so a deleted bucket takes them along.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re

from ...aws.errors import AwsError

KIND = "s3.bucket"
SCOPE = ""
# Kinds keyed by bucket name that DeleteBucket removes with the bucket (features modules append theirs).
SUBRESOURCE_KINDS: list[str] = []

_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def table(store):
    return store.table(SCOPE, KIND)


def get(store, name: str) -> dict | None:
    return table(store).get(name)


def require(store, name: str) -> dict:
    record = table(store).get(name)
    if record is None:
        raise no_such_bucket(name)
    return record


def for_request(ctx, params) -> dict:
    """The request's bucket, which must exist and, when the request names one, have the expected owner."""
    record = require(ctx.store, params["Bucket"])
    expected = params.get("ExpectedBucketOwner")
    if expected is not None and expected != record["_owner"]:
        raise AwsError("AccessDenied", "Access Denied", status=403)
    return record


def no_such_bucket(name: str) -> AwsError:
    return AwsError("NoSuchBucket", "The specified bucket does not exist", status=404, BucketName=name)


def canonical_id(account: str) -> str:
    """The account's canonical user id (64 hex digits, as S3 shows owners)."""
    return hashlib.sha256(f"kumo-canonical-{account}".encode()).hexdigest()


def owner(account: str) -> dict:
    return {"ID": canonical_id(account), "DisplayName": f"account-{account}"}


def validate_name(name: str) -> None:
    bad = (not _NAME.match(name) or ".." in name or ".-" in name or "-." in name
           or name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or name.endswith(("-s3alias", "--ol-s3", "--x-s3")))
    if not bad:
        try:
            ipaddress.IPv4Address(name)
            bad = True
        except ValueError:
            pass
    if bad:
        raise AwsError("InvalidBucketName", "The specified bucket is not valid.", status=400, BucketName=name)


def versioning(record: dict) -> str | None:
    return record.get("_versioning")
