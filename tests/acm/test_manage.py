"""Account configuration, certificate options, renewal and revocation through boto3."""

import pytest
from botocore.exceptions import ClientError

from .pems import DAY, load
from tests.own_kumo import endpoint, kumo_server  # noqa: F401  (days pass on this module's own kumo)


def _code(e) -> str:
    return e.value.response["Error"]["Code"]


def test_account_configuration(acm):
    assert acm.get_account_configuration()["ExpiryEvents"] == {"DaysBeforeExpiry": 45}
    acm.put_account_configuration(ExpiryEvents={"DaysBeforeExpiry": 10}, IdempotencyToken="t1")
    assert acm.get_account_configuration()["ExpiryEvents"] == {"DaysBeforeExpiry": 10}
    acm.put_account_configuration(ExpiryEvents={"DaysBeforeExpiry": 10}, IdempotencyToken="t1")  # a retry
    with pytest.raises(ClientError) as e:
        acm.put_account_configuration(ExpiryEvents={"DaysBeforeExpiry": 20}, IdempotencyToken="t1")
    assert _code(e) == "ConflictException"
    with pytest.raises(ClientError) as e:
        acm.put_account_configuration(ExpiryEvents={"DaysBeforeExpiry": 46}, IdempotencyToken="t2")
    assert _code(e) == "ValidationException"


def test_update_certificate_options(acm):
    arn = acm.request_certificate(DomainName="opts.example.com", ValidationMethod="DNS")["CertificateArn"]
    acm.update_certificate_options(CertificateArn=arn, Options={"CertificateTransparencyLoggingPreference":
                                                                "DISABLED"})
    options = acm.describe_certificate(CertificateArn=arn)["Certificate"]["Options"]
    assert options["CertificateTransparencyLoggingPreference"] == "DISABLED"
    with pytest.raises(ClientError) as e:
        acm.update_certificate_options(CertificateArn=arn[:-1] + ("0" if arn[-1] != "0" else "1"),
                                       Options={"CertificateTransparencyLoggingPreference": "ENABLED"})
    assert _code(e) == "ResourceNotFoundException"


def test_renew_reissues_an_exportable_certificate_on_kumo_clock(acm, kumo_server, kumo_now):
    plain = acm.request_certificate(DomainName="plain.example.com", ValidationMethod="DNS")["CertificateArn"]
    with pytest.raises(ClientError) as e:
        acm.renew_certificate(CertificateArn=plain)
    assert _code(e) == "ValidationException"
    arn = acm.request_certificate(DomainName="renew.example.com", ValidationMethod="DNS",
                                  Options={"Export": "ENABLED"})["CertificateArn"]
    before = acm.get_certificate(CertificateArn=arn)["Certificate"]
    kumo_server.advance(2 * DAY)
    acm.renew_certificate(CertificateArn=arn)
    after = acm.get_certificate(CertificateArn=arn)["Certificate"]
    assert after != before and load(after).serial_number != load(before).serial_number
    detail = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert detail["RenewalSummary"]["RenewalStatus"] == "SUCCESS"
    assert detail["NotAfter"].timestamp() == pytest.approx(kumo_now() + 395 * DAY, abs=5)


def test_revoke_an_exportable_certificate(acm):
    plain = acm.request_certificate(DomainName="keep.example.com", ValidationMethod="DNS")["CertificateArn"]
    with pytest.raises(ClientError) as e:
        acm.revoke_certificate(CertificateArn=plain, RevocationReason="KEY_COMPROMISE")
    assert _code(e) == "ValidationException"
    arn = acm.request_certificate(DomainName="revoke.example.com", ValidationMethod="DNS",
                                  Options={"Export": "ENABLED"})["CertificateArn"]
    assert acm.revoke_certificate(CertificateArn=arn, RevocationReason="KEY_COMPROMISE")["CertificateArn"] == arn
    detail = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert detail["Status"] == "REVOKED" and detail["RevocationReason"] == "KEY_COMPROMISE" and "RevokedAt" in detail
    with pytest.raises(ClientError) as e:
        acm.revoke_certificate(CertificateArn=arn, RevocationReason="KEY_COMPROMISE")
    assert _code(e) == "ConflictException"


def test_approaching_expiration_events_reach_eventbridge(acm, aws, kumo_now, kumo_server):
    import json

    from tests.sqs.util import drain, queue_with_arn

    from .pems import cert_pem, certificate, key_pem, rsa_key

    url, queue = queue_with_arn(aws("sqs"), "acm-expiry")
    events = aws("events")
    events.put_rule(Name="expiring", EventPattern=json.dumps({"source": ["aws.acm"]}))
    events.put_targets(Rule="expiring", Targets=[{"Id": "q", "Arn": queue}])
    acm.put_account_configuration(ExpiryEvents={"DaysBeforeExpiry": 10}, IdempotencyToken="expiry")
    key = rsa_key()
    far = certificate(key, "far.example.com", kumo_now(), days=60)
    acm.import_certificate(Certificate=cert_pem(far), PrivateKey=key_pem(key))
    near = certificate(key, "near.example.com", kumo_now(), days=5)
    arn = acm.import_certificate(Certificate=cert_pem(near), PrivateKey=key_pem(key))["CertificateArn"]
    kumo_server.advance(0)
    [msg] = drain(aws("sqs"), url)  # the 60-day certificate is outside the 10-day window
    event = json.loads(msg["Body"])
    assert event["detail-type"] == "ACM Certificate Approaching Expiration" and event["resources"] == [arn]
    assert event["detail"] == {"DaysToExpiry": 4, "CommonName": "near.example.com"}
    kumo_server.advance(DAY / 2)
    assert drain(aws("sqs"), url) == []  # once a day, not more
    kumo_server.advance(DAY / 2)
    [msg] = drain(aws("sqs"), url)
    # The daily look may come a little before a whole day after the first event: 4 days and a bit, or 3.
    assert json.loads(msg["Body"])["detail"]["DaysToExpiry"] in (3, 4)
    kumo_server.advance(DAY)
    [msg] = drain(aws("sqs"), url)
    assert json.loads(msg["Body"])["detail"]["DaysToExpiry"] in (2, 3)
