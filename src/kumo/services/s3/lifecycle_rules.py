"""Lifecycle configuration: S3's checks on PutBucketLifecycleConfiguration, and what a rule does to an object.

Pure logic, no store: ``check`` refuses what S3 refuses (with its codes and messages), and the ``*_due``
functions say when an action falls due.  S3 computes every due time as the object's (or upload's, or
version's noncurrent) time plus the rule's days, rounded up to the next midnight UTC: an object created
2014-01-15 10:30 with ``Days: 3`` expires 2014-01-19 00:00 UTC.
"""

from __future__ import annotations

import math

from ...aws.errors import AwsError

DAY = 86400.0
MAX_RULES = 1000


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidArgument", message, status=400)


def _malformed() -> AwsError:
    return AwsError("MalformedXML",
                    "The XML you provided was not well-formed or did not validate against our published schema",
                    status=400)


def next_midnight(when: float) -> float:
    """``when`` rounded up to a midnight UTC (a time already at midnight stays)."""
    return math.ceil(when / DAY) * DAY


def after_days(start: float, days: int) -> float:
    return next_midnight(start + days * DAY)


# -- checks ------------------------------------------------------------------------------------------------


def _filter_tags(rule: dict) -> list[dict]:
    flt = rule.get("Filter") or {}
    if flt.get("Tag"):
        return [flt["Tag"]]
    return list((flt.get("And") or {}).get("Tags") or [])


def _check_filter(rule: dict) -> None:
    flt = rule.get("Filter")
    if "Prefix" in rule and flt is not None:
        raise _malformed()
    if flt is None:
        if "Prefix" not in rule:
            raise _malformed()
        return
    given = [k for k in ("Prefix", "Tag", "And", "ObjectSizeGreaterThan", "ObjectSizeLessThan") if k in flt]
    if len(given) > 1:
        raise _malformed()
    both = flt.get("And")
    if both is not None:
        keys = [t.get("Key") for t in both.get("Tags") or []]
        if len(keys) != len(set(keys)):
            raise _invalid("Duplicate Tag Keys are not allowed.")
        low, high = both.get("ObjectSizeGreaterThan"), both.get("ObjectSizeLessThan")
        if low is not None and high is not None and low >= high:
            raise _invalid("ObjectSizeGreaterThan must be less than ObjectSizeLessThan")
    for size in (flt.get("ObjectSizeGreaterThan"), flt.get("ObjectSizeLessThan"),
                 (both or {}).get("ObjectSizeGreaterThan"), (both or {}).get("ObjectSizeLessThan")):
        if size is not None and size < 0:
            raise _invalid("ObjectSize must be a non-negative number")


def _check_rule(rule: dict) -> None:
    if len(rule.get("ID") or "") > 255:
        raise _invalid("ID length should not exceed allowed limit of 255")
    if rule.get("Status") not in ("Enabled", "Disabled"):
        raise _malformed()
    _check_filter(rule)
    expiration = rule.get("Expiration")
    actions = [k for k in ("Expiration", "Transitions", "NoncurrentVersionExpiration", "NoncurrentVersionTransitions",
                           "AbortIncompleteMultipartUpload") if rule.get(k)]
    if not actions:
        raise _invalid("At least one action needs to be specified in a rule")
    tags = _filter_tags(rule)
    if expiration is not None:
        given = [k for k in ("Days", "Date", "ExpiredObjectDeleteMarker") if expiration.get(k) is not None]
        if len(given) != 1:
            raise _malformed()
        if expiration.get("Days") is not None and expiration["Days"] <= 0:
            raise _invalid("'Days' for Expiration action must be a positive integer")
        if expiration.get("Date") is not None and float(expiration["Date"]) % DAY:
            raise _invalid("'Date' must be at midnight GMT")
        if expiration.get("ExpiredObjectDeleteMarker") is not None and tags:
            raise _invalid("ExpiredObjectDeleteMarker cannot be specified with object tags")
    noncurrent = rule.get("NoncurrentVersionExpiration")
    if noncurrent is not None:
        days = noncurrent.get("NoncurrentDays")
        if days is None or days <= 0:
            raise _invalid("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer")
        newer = noncurrent.get("NewerNoncurrentVersions")
        if newer is not None and not 1 <= newer <= 100:
            raise _invalid("'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive "
                           "integer up to 100")
    abort = rule.get("AbortIncompleteMultipartUpload")
    if abort is not None:
        if tags:
            raise _invalid("AbortIncompleteMultipartUpload cannot be specified with Tags.")
        if (abort.get("DaysAfterInitiation") or 0) <= 0:
            raise _invalid("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive "
                           "integer")
    for transition in rule.get("Transitions") or []:
        if transition.get("Days") is not None and transition["Days"] < 0:
            raise _invalid("'Days' in Transition action must be nonnegative")
        if not transition.get("StorageClass"):
            raise _malformed()


def check(config: dict) -> list[dict]:
    """The rules of a LifecycleConfiguration, or AwsError as S3 answers PutBucketLifecycleConfiguration."""
    rules = list((config or {}).get("Rules") or [])
    if not rules:
        raise _malformed()
    if len(rules) > MAX_RULES:
        raise _invalid(f"The number of lifecycle rules must not exceed the allowed limit of {MAX_RULES} rules")
    ids = [r.get("ID") for r in rules if r.get("ID")]
    if len(ids) != len(set(ids)):
        raise _invalid("Rule ID must be unique. Found same ID for more than one rule")
    for rule in rules:
        _check_rule(rule)
    return rules


# -- evaluation --------------------------------------------------------------------------------------------


def matches(rule: dict, key: str, size: int | None = None, tags: dict | None = None) -> bool:
    """Whether an enabled rule's filter selects the object (key, size in bytes, tags as a dict)."""
    if rule.get("Status") != "Enabled":
        return False
    flt = rule.get("Filter")
    if flt is None:
        return key.startswith(rule.get("Prefix") or "")
    tags = tags or {}
    both = flt.get("And") or {}
    prefix = flt.get("Prefix", both.get("Prefix")) or ""
    if not key.startswith(prefix):
        return False
    for tag in _filter_tags(rule):
        if tags.get(tag.get("Key")) != tag.get("Value"):
            return False
    size = size or 0
    low = flt.get("ObjectSizeGreaterThan", both.get("ObjectSizeGreaterThan"))
    high = flt.get("ObjectSizeLessThan", both.get("ObjectSizeLessThan"))
    if low is not None and not size > low:
        return False
    if high is not None and not size < high:
        return False
    return True


def expiration_due(rule: dict, created: float) -> float | None:
    """When a current version created at ``created`` expires under the rule (None: the rule has no such action)."""
    expiration = rule.get("Expiration") or {}
    if expiration.get("Days") is not None:
        return after_days(created, int(expiration["Days"]))
    if expiration.get("Date") is not None:
        return float(expiration["Date"])
    return None


def removes_expired_delete_markers(rule: dict) -> bool:
    return bool((rule.get("Expiration") or {}).get("ExpiredObjectDeleteMarker"))


def noncurrent_due(rule: dict, noncurrent_since: float, newer_noncurrent: int) -> float | None:
    """When a noncurrent version expires: ``newer_noncurrent`` counts the noncurrent versions newer than it,
    and the rule's NewerNoncurrentVersions of those are kept whatever their age."""
    action = rule.get("NoncurrentVersionExpiration") or {}
    if action.get("NoncurrentDays") is None:
        return None
    keep = action.get("NewerNoncurrentVersions")
    if keep is not None and newer_noncurrent < int(keep):
        return None
    return after_days(noncurrent_since, int(action["NoncurrentDays"]))


def abort_due(rule: dict, initiated: float) -> float | None:
    action = rule.get("AbortIncompleteMultipartUpload") or {}
    if action.get("DaysAfterInitiation") is None:
        return None
    return after_days(initiated, int(action["DaysAfterInitiation"]))


def expiry_header(rules: list[dict], key: str, created: float, size: int | None = None,
                  tags: dict | None = None) -> str | None:
    """The x-amz-expiration value for an object: the earliest expiration among the rules that select it."""
    best: tuple[float, str] | None = None
    for rule in rules:
        if not matches(rule, key, size, tags):
            continue
        due = expiration_due(rule, created)
        if due is not None and (best is None or due < best[0]):
            best = (due, rule.get("ID") or "")
    if best is None:
        return None
    from email.utils import formatdate

    return f'expiry-date="{formatdate(best[0], usegmt=True)}", rule-id="{best[1]}"'
