"""Parameter policies (advanced tier): Expiration deletes the parameter, the notifications put events.

Policies are checked at PutParameter and enforced by one controller on kumo's clock: each parameter with a
pending policy is reconciled when its earliest policy falls due.  Every policy that acts puts a
"Parameter Store Policy Action" event on the account's default bus (through kumo's event hub, as AWS's own
events reach EventBridge), and its PolicyStatus turns Finished.  A NoChangeNotification counts from the
parameter's last modification, so a new version makes it pending again; the Expiration timestamp stays
where the policy put it, whatever the parameter's later versions.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json

from ...aws.errors import AwsError
from ...core.controllers import Controller
from . import model

CONTROLLER = "ssm.policies"
MAX_POLICIES = 10
TYPES = ("Expiration", "ExpirationNotification", "NoChangeNotification")
_UNITS = {"Days": 86400, "Hours": 3600}


def _invalid_attribute(message: str = "A policy attribute or its value is invalid.") -> AwsError:
    return AwsError("InvalidPolicyAttributeException", message)


def _timestamp(text) -> float:
    """ISO_INSTANT or ISO_OFFSET_DATE_TIME (2019-11-01T22:13:48.87+10:30), as the policy documents allow."""
    if not isinstance(text, str):
        raise _invalid_attribute()
    value = text.strip().replace("Z", "+00:00")
    try:
        stamp = _dt.datetime.fromisoformat(value)
    except ValueError:
        raise _invalid_attribute(f"Invalid Timestamp attribute: {text}")
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=_dt.timezone.utc)
    return stamp.timestamp()


def _amount(attributes: dict, name: str) -> int:
    raw = attributes.get(name)
    unit = attributes.get("Unit")
    if unit not in _UNITS:
        raise _invalid_attribute(f"Invalid Unit attribute: {unit}. Valid units are Days and Hours.")
    try:
        number = int(str(raw))
    except (TypeError, ValueError):
        raise _invalid_attribute(f"Invalid {name} attribute: {raw}")
    if number < 1:
        raise _invalid_attribute(f"Invalid {name} attribute: {raw}")
    return number * _UNITS[unit]


def parse(text: str, now: float) -> list[dict]:
    """The Policies text as records (PolicyText, PolicyType, PolicyStatus and what the controller needs).

    ``[{}]`` clears every policy, as AWS documents.
    """
    try:
        doc = json.loads(text)
    except ValueError:
        raise AwsError("InvalidPolicyTypeException", "The policy type is not supported. Parameter Store supports the "
                                                     "following policy types: Expiration, ExpirationNotification, "
                                                     "and NoChangeNotification.")
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        raise _invalid_attribute()
    doc = [p for p in doc if p != {}]
    if len(doc) > MAX_POLICIES:
        raise AwsError("PoliciesLimitExceededException", "You specified more than the maximum number of allowed "
                                                         "policies for the parameter. The maximum is 10.")
    out = []
    for policy in doc:
        if not isinstance(policy, dict) or policy.get("Type") not in TYPES:
            raise AwsError("InvalidPolicyTypeException", "The policy type is not supported. Parameter Store supports "
                                                         "the following policy types: Expiration, "
                                                         "ExpirationNotification, and NoChangeNotification.")
        attributes = policy.get("Attributes")
        if not isinstance(attributes, dict) or str(policy.get("Version", "1.0")) != "1.0":
            raise _invalid_attribute()
        entry = {"PolicyType": policy["Type"], "PolicyStatus": "Pending",
                 "PolicyText": json.dumps(policy, separators=(",", ":"))}
        if policy["Type"] == "Expiration":
            entry["_at"] = _timestamp(attributes.get("Timestamp"))
            if entry["_at"] <= now:
                raise _invalid_attribute("The Expiration Timestamp attribute must be a date and time in the future.")
        elif policy["Type"] == "ExpirationNotification":
            entry["_before"] = _amount(attributes, "Before")
        else:
            entry["_after"] = _amount(attributes, "After")
        out.append(entry)
    kinds = [p["PolicyType"] for p in out]
    if kinds.count("Expiration") > 1 or kinds.count("NoChangeNotification") > 1:
        raise AwsError("IncompatiblePolicyException", "There is a conflict in the policies specified for this "
                                                      "parameter. You can't, for example, specify two Expiration "
                                                      "policies for a parameter. Review your policies, and try again.")
    if "ExpirationNotification" in kinds and "Expiration" not in kinds:
        raise AwsError("IncompatiblePolicyException", "An ExpirationNotification policy needs an Expiration policy "
                                                      "on the same parameter.")
    return out


def renewed(policies: list[dict]) -> list[dict]:
    """A parameter's policies after a new version: NoChangeNotification counts again from now."""
    for p in policies:
        if p["PolicyType"] == "NoChangeNotification":
            p["PolicyStatus"] = "Pending"
    return policies


def due(record: dict, policy: dict) -> float | None:
    if policy["PolicyType"] == "Expiration":
        return policy["_at"]
    if policy["PolicyType"] == "ExpirationNotification":
        expiry = next((p["_at"] for p in record["_policies"] if p["PolicyType"] == "Expiration"), None)
        return None if expiry is None else expiry - policy["_before"]
    return model.latest(record)["LastModifiedDate"] + policy["_after"]


def _event(kumo, account: str, region: str, record: dict, policy: dict, reason: str) -> None:
    detail = {"parameter-name": record["Name"], "parameter-type": record["Type"], "policy-type": policy["PolicyType"],
              "policy-content-sha1": hashlib.sha1(policy["PolicyText"].encode()).hexdigest(),
              "action-status": "Finished", "action-reason": reason}
    kumo.events.publish(account, region, "aws.ssm", "Parameter Store Policy Action", detail, [record["ARN"]])


def _when(stamp: float) -> str:
    return _dt.datetime.fromtimestamp(stamp, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class PolicyController(Controller):
    name = CONTROLLER
    resync_interval = 300.0

    def __init__(self, kumo):
        self.kumo = kumo

    def keys(self):
        return [(scope, name) for scope, name, record in self.kumo.store.all(model.KIND)
                if any(p["PolicyStatus"] == "Pending" for p in record.get("_policies") or [])]

    async def reconcile(self, key):
        scope, name = key
        kumo = self.kumo
        account, region = scope.split("/", 1)
        with kumo.store.transaction():
            records = kumo.store.table(scope, model.KIND)
            record = records.get(name)
            if record is None:
                return None
            now = kumo.clock.now()
            waits = []
            # Notifications first: one due with the expiration itself still goes out before the deletion.
            order = sorted(record["_policies"], key=lambda p: p["PolicyType"] == "Expiration")
            for policy in order:
                if policy["PolicyStatus"] != "Pending":
                    continue
                at = due(record, policy)
                if at is None:
                    continue
                if at > now:
                    waits.append(at - now)
                    continue
                if policy["PolicyType"] == "Expiration":
                    policy["PolicyStatus"] = "Finished"
                    _event(kumo, account, region, record, policy, f"Parameter {name} has been deleted.")
                    records.delete(name)
                    model.publish_change(kumo, account, region, record, "Delete")
                    return None
                policy["PolicyStatus"] = "Finished"
                if policy["PolicyType"] == "ExpirationNotification":
                    expiry = due(record, next(p for p in record["_policies"] if p["PolicyType"] == "Expiration"))
                    reason = f"Parameter {name} will expire at {_when(expiry)}."
                else:
                    reason = (f"Parameter {name} has not been modified since "
                              f"{_when(model.latest(record)['LastModifiedDate'])}.")
                _event(kumo, account, region, record, policy, reason)
            records.put(name, record)
        return min(waits) if waits else None
