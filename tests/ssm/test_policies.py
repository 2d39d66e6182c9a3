"""Parameter policies on kumo's clock: Expiration deletes, the notifications reach EventBridge (no sleeping)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from botocore.exceptions import ClientError

from .test_parameters import code
from tests.own_kumo import endpoint, kumo_server  # noqa: F401  (days pass on this module's own kumo)

HOUR, DAY = 3600, 86400


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _policy_events(events: list[dict]) -> list[tuple[str, str]]:
    return [(e["detail"]["policy-type"], e["detail"]["parameter-name"]) for e in events
            if e["detail-type"] == "Parameter Store Policy Action"]


def test_expiration_and_notifications_on_the_clock(ssm, advance, kumo_now, ssm_events):
    expires = kumo_now() + 2 * DAY
    policies = [{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": _iso(expires)}},
                {"Type": "ExpirationNotification", "Version": "1.0", "Attributes": {"Before": "1", "Unit": "Days"}},
                {"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "12", "Unit": "Hours"}}]
    ssm.put_parameter(Name="/p/temp", Value="v", Type="String", Tier="Advanced", Policies=json.dumps(policies))
    changes = ssm_events()
    assert [(e["detail-type"], e["detail"]["operation"]) for e in changes] == [("Parameter Store Change", "Create")]
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": ["/p/temp"]}])["Parameters"][0]
    assert sorted(p["PolicyType"] for p in meta["Policies"]) == sorted(p["Type"] for p in policies)
    assert {p["PolicyStatus"] for p in meta["Policies"]} == {"Pending"}

    advance(11 * HOUR)
    assert ssm_events() == []
    advance(2 * HOUR)
    noticed = ssm_events()
    assert _policy_events(noticed) == [("NoChangeNotification", "/p/temp")]
    assert noticed[0]["source"] == "aws.ssm" and noticed[0]["detail"]["action-status"] == "Finished"

    advance(12 * HOUR)  # 25 h: one day before the expiration has passed
    assert _policy_events(ssm_events()) == [("ExpirationNotification", "/p/temp")]
    assert ssm.get_parameter(Name="/p/temp")["Parameter"]["Value"] == "v"
    statuses = {p["PolicyType"]: p["PolicyStatus"] for p in ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Values": ["/p/temp"]}])["Parameters"][0]["Policies"]}
    assert statuses == {"Expiration": "Pending", "ExpirationNotification": "Finished",
                        "NoChangeNotification": "Finished"}

    advance(DAY)  # 49 h: past the expiration
    final = ssm_events()
    assert _policy_events(final) == [("Expiration", "/p/temp")]
    assert ("Parameter Store Change", "Delete") in [(e["detail-type"], e["detail"].get("operation")) for e in final]
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name="/p/temp")
    assert code(exc) == "ParameterNotFound"


def test_a_new_version_restarts_no_change_but_keeps_the_expiration(ssm, advance, kumo_now, ssm_events):
    expires = kumo_now() + 10 * HOUR
    policies = [{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": _iso(expires)}},
                {"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "4", "Unit": "Hours"}}]
    ssm.put_parameter(Name="/p/touched", Value="v1", Type="String", Tier="Advanced", Policies=json.dumps(policies))
    advance(3 * HOUR)
    ssm.put_parameter(Name="/p/touched", Value="v2", Overwrite=True)  # policies carried over, clock restarted
    ssm_events()
    advance(3 * HOUR)  # 6 h after creation, 3 h after the change: nothing due yet
    assert _policy_events(ssm_events()) == []
    advance(2 * HOUR)
    assert _policy_events(ssm_events()) == [("NoChangeNotification", "/p/touched")]
    advance(3 * HOUR)  # 11 h: the expiration set at creation still holds
    assert ("Expiration", "/p/touched") in _policy_events(ssm_events())
    assert ssm.get_parameters(Names=["/p/touched"])["InvalidParameters"] == ["/p/touched"]


def test_policy_refusals(ssm, kumo_now):
    later = _iso(kumo_now() + DAY)

    def put(policies, tier="Advanced", name="/p/bad"):
        return ssm.put_parameter(Name=name, Value="v", Type="String", Tier=tier, Policies=json.dumps(policies),
                                 Overwrite=True)

    expiration = {"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": later}}
    cases = [
        ([{"Type": "Rotate", "Version": "1.0", "Attributes": {}}], "InvalidPolicyTypeException"),
        ([{"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "x", "Unit": "Days"}}],
         "InvalidPolicyAttributeException"),
        ([{"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "1", "Unit": "Weeks"}}],
         "InvalidPolicyAttributeException"),
        ([{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": _iso(kumo_now() - 60)}}],
         "InvalidPolicyAttributeException"),
        ([expiration, expiration], "IncompatiblePolicyException"),
        ([expiration] + [{"Type": "ExpirationNotification", "Version": "1.0",
                          "Attributes": {"Before": str(i + 1), "Unit": "Hours"}} for i in range(10)],
         "PoliciesLimitExceededException"),
    ]
    for policies, error in cases:
        with pytest.raises(ClientError) as exc:
            put(policies)
        assert code(exc) == error, policies
    with pytest.raises(ClientError) as exc:
        put([expiration], tier="Standard", name="/p/standard")
    assert code(exc) == "ValidationException"
    # Intelligent-Tiering moves a parameter with policies to the advanced tier; "[{}]" removes them all.
    assert put([expiration], tier="Intelligent-Tiering", name="/p/it")["Tier"] == "Advanced"
    put([{}], tier="Advanced", name="/p/it")
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": ["/p/it"]}])["Parameters"][0]
    assert meta["Policies"] == []


def _clock(endpoint: str, advance: float | None = None) -> float:
    import urllib.request

    body = json.dumps({"advance": advance}).encode() if advance is not None else None
    request = urllib.request.Request(f"{endpoint}/_kumo/clock", data=body, method="POST" if body else "GET",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())["now"]


def test_an_expiration_set_before_kill9_still_deletes_after_restart(kumo_process):
    kumo = kumo_process().start()
    ssm = kumo.client("ssm", account="345678901234")
    expires = _clock(kumo.endpoint) + 2 * HOUR
    ssm.put_parameter(Name="/p/survivor", Value="v", Type="String", Tier="Advanced", Policies=json.dumps(
        [{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": _iso(expires)}}]))
    kumo.kill9()
    again = kumo_process(like=kumo).start()
    ssm = again.client("ssm", account="345678901234")
    assert ssm.get_parameter(Name="/p/survivor")["Parameter"]["Value"] == "v"
    _clock(again.endpoint, advance=2 * HOUR + 60)
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name="/p/survivor")
    assert code(exc) == "ParameterNotFound"
