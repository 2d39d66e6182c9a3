"""Bucket configuration kept as stored documents: policy, default encryption, ownership controls, public access
block, ACLs, object lock (and objects' retention and legal hold).

Each lives in a kind ``s3.<feature>`` of scope "" keyed by bucket name, removed with the bucket.  A new
bucket has AWS's defaults since 2023: SSE-S3 default encryption, ``BucketOwnerEnforced`` ownership (ACLs
disabled, so only the owner's full control), and every public access block setting on, which refuses public
bucket policies and public bucket ACLs.  Stored, not enforced beyond that: kumo evaluates bucket policies only
where it says so (the website endpoint's public read).
"""

from __future__ import annotations

import fnmatch
import json

from ...aws.errors import AwsError
from . import buckets, storage

POLICY, ENCRYPTION, OWNERSHIP, PAB, ACL, LOCK = ("s3.policy", "s3.encryption", "s3.ownership", "s3.public-access",
                                                 "s3.acl", "s3.object-lock")
KINDS = [POLICY, ENCRYPTION, OWNERSHIP, PAB, ACL, LOCK]
DEFAULT_ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                                 "BucketKeyEnabled": False}]}
DEFAULT_PAB = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
               "RestrictPublicBuckets": True}
DEFAULT_OWNERSHIP = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
_ABSENT = {"absent": True}  # a deleted default: stored so the default does not come back


def get_config(store, kind: str, bucket: str, default=None):
    value = store.table(buckets.SCOPE, kind).get(bucket)
    if value is None:
        return default
    return None if value == _ABSENT else value


def put_config(store, kind: str, bucket: str, value) -> None:
    store.table(buckets.SCOPE, kind).put(bucket, value)


def delete_config(store, kind: str, bucket: str, keep_absent: bool = False) -> None:
    if keep_absent:
        store.table(buckets.SCOPE, kind).put(bucket, _ABSENT)
    else:
        store.table(buckets.SCOPE, kind).delete(bucket)


def _malformed_policy(message: str) -> AwsError:
    return AwsError("MalformedPolicy", message, status=400)


# -- policy ----------------------------------------------------------------------------------------------


def _listify(value) -> list:
    return value if isinstance(value, list) else [value]


def check_policy(text: str, bucket: str) -> dict:
    if not text or not text.lstrip().startswith("{"):
        raise _malformed_policy("Policies must be valid JSON and the first byte must be '{'")
    try:
        doc = json.loads(text)
    except ValueError:
        raise _malformed_policy("This policy contains invalid Json")
    statements = doc.get("Statement")
    if statements is None:
        raise _malformed_policy("Missing required field Statement")
    for st in _listify(statements):
        if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny"):
            raise _malformed_policy("Invalid effect: " + str(st.get("Effect") if isinstance(st, dict) else st))
        if "Principal" not in st and "NotPrincipal" not in st:
            raise _malformed_policy("Missing required field Principal")
        actions = st.get("Action", st.get("NotAction"))
        if actions is None:
            raise _malformed_policy("Missing required field Action")
        for action in _listify(actions):
            if not isinstance(action, str) or not (action == "*" or action.lower().startswith("s3:")):
                raise _malformed_policy("Policy has invalid action")
        resources = st.get("Resource", st.get("NotResource"))
        if resources is None:
            raise _malformed_policy("Missing required field Resource")
        for resource in _listify(resources):
            if not isinstance(resource, str) or not (resource == "*" or fnmatch.fnmatchcase(
                    f"arn:aws:s3:::{bucket}", resource.split("/", 1)[0])):
                raise _malformed_policy("Policy has invalid resource")
    return doc


def _public_statement(st: dict) -> bool:
    principal = st.get("Principal")
    everyone = principal == "*" or (isinstance(principal, dict) and "*" in _listify(principal.get("AWS", [])))
    return st.get("Effect") == "Allow" and everyone and not st.get("Condition")


def is_public(doc: dict | None) -> bool:
    return any(_public_statement(st) for st in _listify((doc or {}).get("Statement") or []))


def public_read(store, bucket: str, key: str) -> bool:
    """Whether the bucket's policy lets anyone GetObject ``key`` (and the public access block lets it)."""
    pab = get_config(store, PAB, bucket, DEFAULT_PAB) or {}
    text = get_config(store, POLICY, bucket)
    if text is None or pab.get("RestrictPublicBuckets"):
        return False
    doc = json.loads(text)
    arn = f"arn:aws:s3:::{bucket}/{key}"
    allowed = False
    for st in _listify(doc.get("Statement") or []):
        actions = [a.lower() for a in _listify(st.get("Action") or [])]
        if not any(fnmatch.fnmatchcase("s3:getobject", a) for a in actions):
            continue
        if not any(fnmatch.fnmatchcase(arn, r) for r in _listify(st.get("Resource") or [])):
            continue
        if st.get("Effect") == "Deny":
            return False
        allowed = allowed or _public_statement(st)
    return allowed


def put_bucket_policy(ctx, params):
    record = buckets.for_request(ctx, params)
    doc = check_policy(params.get("Policy") or "", record["Name"])
    pab = get_config(ctx.store, PAB, record["Name"], DEFAULT_PAB) or {}
    if pab.get("BlockPublicPolicy") and is_public(doc):
        raise AwsError("AccessDenied", f"User: {ctx.identity.arn} is not authorized to perform: s3:PutBucketPolicy "
                       f"on resource: \"arn:aws:s3:::{record['Name']}\" because public policies are blocked by the "
                       "BlockPublicPolicy block public access setting.", status=403)
    put_config(ctx.store, POLICY, record["Name"], params["Policy"])
    return {}


def get_bucket_policy(ctx, params):
    record = buckets.for_request(ctx, params)
    text = get_config(ctx.store, POLICY, record["Name"])
    if text is None:
        raise AwsError("NoSuchBucketPolicy", "The bucket policy does not exist", status=404, BucketName=record["Name"])
    return {"Policy": text}


def delete_bucket_policy(ctx, params):
    record = buckets.for_request(ctx, params)
    delete_config(ctx.store, POLICY, record["Name"])
    return {}


def get_bucket_policy_status(ctx, params):
    record = buckets.for_request(ctx, params)
    text = get_config(ctx.store, POLICY, record["Name"])
    if text is None:
        raise AwsError("NoSuchBucketPolicy", "The bucket policy does not exist", status=404, BucketName=record["Name"])
    return {"PolicyStatus": {"IsPublic": is_public(json.loads(text))}}


# -- default encryption ----------------------------------------------------------------------------------


def put_bucket_encryption(ctx, params):
    record = buckets.for_request(ctx, params)
    config = params.get("ServerSideEncryptionConfiguration") or {}
    rules = config.get("Rules") or []
    if not rules:
        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                       "published schema", status=400)
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        algorithm = default.get("SSEAlgorithm")
        if algorithm not in ("AES256", "aws:kms", "aws:kms:dsse"):
            raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                           "our published schema", status=400)
        if default.get("KMSMasterKeyID") and algorithm == "AES256":
            raise AwsError("InvalidArgument", "a KMSMasterKeyID is not applicable if the default sse algorithm is "
                           "not aws:kms or aws:kms:dsse", status=400, ArgumentName="ApplyServerSideEncryptionByDefault")
    put_config(ctx.store, ENCRYPTION, record["Name"], {"Rules": rules})
    return {}


def get_bucket_encryption(ctx, params):
    record = buckets.for_request(ctx, params)
    config = get_config(ctx.store, ENCRYPTION, record["Name"], DEFAULT_ENCRYPTION)
    return {"ServerSideEncryptionConfiguration": config}


def delete_bucket_encryption(ctx, params):
    record = buckets.for_request(ctx, params)
    delete_config(ctx.store, ENCRYPTION, record["Name"])  # back to the default SSE-S3, as on AWS
    return {}


# -- ownership, public access block, ACLs ----------------------------------------------------------------


def put_bucket_ownership_controls(ctx, params):
    record = buckets.for_request(ctx, params)
    rules = (params.get("OwnershipControls") or {}).get("Rules") or []
    if len(rules) != 1 or rules[0].get("ObjectOwnership") not in ("BucketOwnerPreferred", "ObjectWriter",
                                                                 "BucketOwnerEnforced"):
        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                       "published schema", status=400)
    put_config(ctx.store, OWNERSHIP, record["Name"], {"Rules": rules})
    return {}


def get_bucket_ownership_controls(ctx, params):
    record = buckets.for_request(ctx, params)
    config = get_config(ctx.store, OWNERSHIP, record["Name"], DEFAULT_OWNERSHIP)
    if config is None:
        raise AwsError("OwnershipControlsNotFoundError", "The bucket ownership controls were not found", status=404,
                       BucketName=record["Name"])
    return {"OwnershipControls": config}


def delete_bucket_ownership_controls(ctx, params):
    record = buckets.for_request(ctx, params)
    delete_config(ctx.store, OWNERSHIP, record["Name"], keep_absent=True)
    return {}


def put_public_access_block(ctx, params):
    record = buckets.for_request(ctx, params)
    config = {k: bool(v) for k, v in (params.get("PublicAccessBlockConfiguration") or {}).items()}
    put_config(ctx.store, PAB, record["Name"], {k: config.get(k, False) for k in DEFAULT_PAB})
    return {}


def get_public_access_block(ctx, params):
    record = buckets.for_request(ctx, params)
    config = get_config(ctx.store, PAB, record["Name"], DEFAULT_PAB)
    if config is None:
        raise AwsError("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found",
                       status=404, BucketName=record["Name"])
    return {"PublicAccessBlockConfiguration": config}


def delete_public_access_block(ctx, params):
    record = buckets.for_request(ctx, params)
    delete_config(ctx.store, PAB, record["Name"], keep_absent=True)
    return {}


def _owner_grants(account: str) -> dict:
    owner = buckets.owner(account)
    return {"Owner": owner, "Grants": [{"Grantee": {**owner, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]}


def _acls_disabled(store, bucket: str) -> bool:
    config = get_config(store, OWNERSHIP, bucket, DEFAULT_OWNERSHIP)
    return bool(config) and config["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"


_PUBLIC_GROUPS = ("http://acs.amazonaws.com/groups/global/AllUsers",
                  "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")


def _public_acl(params) -> bool:
    """Whether an ACL request grants anything to everyone or to every AWS user (what BlockPublicAcls refuses)."""
    if params.get("ACL") in ("public-read", "public-read-write", "authenticated-read"):
        return True
    headers = " ".join(str(params.get(k) or "") for k in ("GrantFullControl", "GrantRead", "GrantReadACP",
                                                           "GrantWrite", "GrantWriteACP"))
    grants = ((params.get("AccessControlPolicy") or {}).get("Grants")) or []
    return any(g in headers for g in _PUBLIC_GROUPS) or \
        any((g.get("Grantee") or {}).get("URI") in _PUBLIC_GROUPS for g in grants)


def get_bucket_acl(ctx, params):
    record = buckets.for_request(ctx, params)
    return get_config(ctx.store, ACL, record["Name"]) or _owner_grants(record["_owner"])


def put_bucket_acl(ctx, params):
    record = buckets.for_request(ctx, params)
    canned = params.get("ACL")
    policy = params.get("AccessControlPolicy")
    grants_given = any(params.get(k) for k in ("GrantFullControl", "GrantRead", "GrantReadACP", "GrantWrite",
                                               "GrantWriteACP"))
    owner_only = (canned in (None, "private", "bucket-owner-full-control") and not grants_given and
                  (policy is None or all(g.get("Permission") == "FULL_CONTROL" and
                                         (g.get("Grantee") or {}).get("ID") == buckets.canonical_id(record["_owner"])
                                         for g in policy.get("Grants") or [])))
    if _acls_disabled(ctx.store, record["Name"]):
        if not owner_only:
            raise AwsError("AccessControlListNotSupported", "The bucket does not allow ACLs", status=400)
        return {}
    pab = get_config(ctx.store, PAB, record["Name"], DEFAULT_PAB) or {}
    if pab.get("BlockPublicAcls") and _public_acl(params):
        raise AwsError("AccessDenied", f"User: {ctx.identity.arn} is not authorized to perform: s3:PutBucketAcl on "
                       f"resource: \"arn:aws:s3:::{record['Name']}\" because public ACLs are blocked by the "
                       "BlockPublicAcls block public access setting.", status=403)
    if policy is not None:
        put_config(ctx.store, ACL, record["Name"], {"Owner": buckets.owner(record["_owner"]),
                                                    "Grants": policy.get("Grants") or []})
    elif canned in (None, "private"):
        delete_config(ctx.store, ACL, record["Name"])
    else:
        grants = _owner_grants(record["_owner"])
        extra = {"public-read": [("AllUsers", "READ")], "public-read-write": [("AllUsers", "READ"),
                                                                              ("AllUsers", "WRITE")],
                 "authenticated-read": [("AuthenticatedUsers", "READ")],
                 "log-delivery-write": [("LogDelivery", "WRITE"), ("LogDelivery", "READ_ACP")]}.get(canned, [])
        for group, permission in extra:
            grants["Grants"].append({"Grantee": {"Type": "Group", "URI": f"http://acs.amazonaws.com/groups/"
                                                 f"{'s3/' if group == 'LogDelivery' else 'global/'}{group}"},
                                     "Permission": permission})
        put_config(ctx.store, ACL, record["Name"], grants)
    return {}


def get_object_acl(ctx, params):
    record = buckets.for_request(ctx, params)
    from . import objects

    objects.find(ctx.kumo, record["Name"], params["Key"], params.get("VersionId"))
    return _owner_grants(record["_owner"])


# -- object lock -----------------------------------------------------------------------------------------


def put_object_lock_configuration(ctx, params):
    record = buckets.for_request(ctx, params)
    config = params.get("ObjectLockConfiguration") or {}
    if not record.get("_object_lock") and buckets.versioning(record) != "Enabled":
        raise AwsError("InvalidBucketState", "Versioning must be 'Enabled' on the bucket to apply a Object Lock "
                       "configuration", status=409)
    if config.get("ObjectLockEnabled") != "Enabled":
        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                       "published schema", status=400)
    default = ((config.get("Rule") or {}).get("DefaultRetention")) or {}
    if default:
        if default.get("Mode") not in ("GOVERNANCE", "COMPLIANCE"):
            raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                           "our published schema", status=400)
        if (default.get("Days") is None) == (default.get("Years") is None):
            raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                           "our published schema", status=400)
        if (default.get("Days") or default.get("Years") or 0) <= 0:
            raise AwsError("InvalidArgument", "Default retention period must be a positive integer value",
                           status=400)
    record["_object_lock"] = True
    buckets.table(ctx.store).put(record["Name"], record)
    put_config(ctx.store, LOCK, record["Name"], config)
    return {}


def get_object_lock_configuration(ctx, params):
    record = buckets.for_request(ctx, params)
    config = get_config(ctx.store, LOCK, record["Name"])
    if config is None and record.get("_object_lock"):
        config = {"ObjectLockEnabled": "Enabled"}
    if config is None:
        raise AwsError("ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this "
                       "bucket", status=404, BucketName=record["Name"])
    return {"ObjectLockConfiguration": config}


def _locked_version(ctx, params):
    record = buckets.for_request(ctx, params)
    if not record.get("_object_lock"):
        raise AwsError("InvalidRequest", "Bucket is missing Object Lock Configuration", status=400)
    from . import objects

    return objects.find(ctx.kumo, record["Name"], params["Key"], params.get("VersionId"))


def put_object_retention(ctx, params):
    v = _locked_version(ctx, params)
    retention = params.get("Retention") or {}
    old = v.meta.get("Retention")
    if retention.get("Mode") not in (None, "GOVERNANCE", "COMPLIANCE"):
        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                       "published schema", status=400)
    if old and old.get("Mode") == "COMPLIANCE" and float(retention.get("RetainUntilDate") or 0) < float(
            old["RetainUntilDate"]):
        raise AwsError("AccessDenied", "Access Denied", status=403)
    if old and old.get("Mode") == "GOVERNANCE" and not params.get("BypassGovernanceRetention") and float(
            retention.get("RetainUntilDate") or 0) < float(old["RetainUntilDate"]):
        raise AwsError("AccessDenied", "Access Denied because object protected by object lock.", status=403)
    if retention.get("RetainUntilDate") is not None and float(retention["RetainUntilDate"]) <= ctx.now():
        raise AwsError("InvalidArgument", "The retain until date must be in the future!", status=400)
    v.meta["Retention"] = retention
    storage.update_meta(ctx.store, v)
    return {}


def get_object_retention(ctx, params):
    v = _locked_version(ctx, params)
    if not v.meta.get("Retention"):
        raise AwsError("NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock "
                       "configuration", status=404)
    return {"Retention": v.meta["Retention"]}


def put_object_legal_hold(ctx, params):
    v = _locked_version(ctx, params)
    status = (params.get("LegalHold") or {}).get("Status")
    if status not in ("ON", "OFF"):
        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                       "published schema", status=400)
    v.meta["LegalHold"] = {"Status": status}
    storage.update_meta(ctx.store, v)
    return {}


def get_object_legal_hold(ctx, params):
    v = _locked_version(ctx, params)
    if not v.meta.get("LegalHold"):
        raise AwsError("NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock "
                       "configuration", status=404)
    return {"LegalHold": v.meta["LegalHold"]}


__all__ = [
    "put_bucket_policy", "get_bucket_policy", "delete_bucket_policy", "get_bucket_policy_status",
    "put_bucket_encryption", "get_bucket_encryption", "delete_bucket_encryption", "put_bucket_ownership_controls",
    "get_bucket_ownership_controls", "delete_bucket_ownership_controls", "put_public_access_block",
    "get_public_access_block", "delete_public_access_block", "get_bucket_acl", "put_bucket_acl", "get_object_acl",
    "put_object_lock_configuration", "get_object_lock_configuration", "put_object_retention",
    "get_object_retention", "put_object_legal_hold", "get_object_legal_hold",
]


# -- for IAM enforcement (kumo.aws.authorize, under --enforce-iam) ---------------------------------------


def _bucket_of_arn(arn: str) -> str | None:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "s3" or not parts[5]:
        return None
    return parts[5].split("/", 1)[0]


def resource_policy(kumo, arn: str) -> str | None:
    """The bucket policy of the bucket an ARN names (``arn:aws:s3:::bucket`` or ``.../key``)."""
    bucket = _bucket_of_arn(arn)
    return get_config(kumo.store, POLICY, bucket) if bucket else None


def resource_tags(kumo, arn: str) -> dict | None:
    bucket = _bucket_of_arn(arn)
    record = buckets.get(kumo.store, bucket) if bucket else None
    if record is None:
        return None
    if "/" in arn.split(":", 5)[5]:
        return {}  # objects' tags are s3:ExistingObjectTag, not aws:ResourceTag
    return {t["Key"]: t["Value"] for t in record.get("_tags") or []}
