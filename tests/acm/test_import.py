"""ImportCertificate through boto3: ACM's checks, the record it keeps, reimport, and expiry on kumo's clock."""

import pytest
from botocore.exceptions import ClientError

from .pems import DAY, cert_pem, certificate, ec_key, key_pem, load, rsa_key
from tests.own_kumo import endpoint, kumo_server  # noqa: F401  (days pass on this module's own kumo)


def error(exc_info) -> tuple[str, int, str]:
    r = exc_info.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


def test_import_records_what_the_certificate_says(acm, account, kumo_now):
    now = kumo_now()
    key = rsa_key()
    cert = certificate(key, "www.example.com", now, sans=["www.example.com", "api.example.com"], org="Example Co")
    arn = acm.import_certificate(Certificate=cert_pem(cert), PrivateKey=key_pem(key),
                                 Tags=[{"Key": "env", "Value": "dev"}])["CertificateArn"]
    assert arn.startswith(f"arn:aws:acm:us-east-1:{account}:certificate/") and len(arn.rsplit("/", 1)[1]) == 36
    d = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert d["Type"] == "IMPORTED" and d["Status"] == "ISSUED"
    assert d["DomainName"] == "www.example.com"
    assert d["SubjectAlternativeNames"] == ["www.example.com", "api.example.com"]
    assert d["KeyAlgorithm"] == "RSA_2048" and d["SignatureAlgorithm"] == "SHA256WITHRSA"
    assert d["Subject"] == "O=Example Co,CN=www.example.com" and d["Issuer"] == "Example Co"
    assert d["Serial"].replace(":", "") == f"{cert.serial_number:x}".rjust(len(d["Serial"].replace(":", "")), "0")
    assert d["NotAfter"].timestamp() == pytest.approx(now + 90 * DAY, abs=1)
    assert d["NotBefore"].timestamp() == pytest.approx(now - DAY, abs=1)
    assert d["InUseBy"] == [] and d["RenewalEligibility"] == "INELIGIBLE"
    assert d["ExtendedKeyUsages"] == [{"Name": "TLS_WEB_SERVER_AUTHENTICATION", "OID": "1.3.6.1.5.5.7.3.1"}]
    assert d["ImportedAt"] == d["CreatedAt"]
    got = acm.get_certificate(CertificateArn=arn)
    assert load(got["Certificate"]) == cert and "CertificateChain" not in got
    assert acm.list_tags_for_certificate(CertificateArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]


def test_import_with_a_chain_and_an_ec_key(acm, kumo_now, seam):
    now = kumo_now()
    ca_key = rsa_key()
    ca = certificate(ca_key, "Example Root CA", now, days=3650, ca=True)
    key = ec_key()
    leaf = certificate(key, "shop.example.com", now, issuer=ca, issuer_key=ca_key)
    arn = acm.import_certificate(Certificate=cert_pem(leaf), PrivateKey=key_pem(key),
                                 CertificateChain=cert_pem(ca))["CertificateArn"]
    d = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert d["KeyAlgorithm"] == "EC_prime256v1" and d["SignatureAlgorithm"] == "SHA256WITHRSA"
    assert d["Issuer"] == "Example Root CA" and d["SubjectAlternativeNames"] == ["shop.example.com"]
    assert load(acm.get_certificate(CertificateArn=arn)["CertificateChain"]) == ca
    material = seam("certificate_material", arn)
    assert load(material["chain_pem"]) == ca and material["names"] == ["shop.example.com"]
    # A chain that did not sign the certificate is refused.
    other_key = rsa_key()
    other = certificate(other_key, "Example Root CA", now, days=3650, ca=True)
    with pytest.raises(ClientError) as e:
        acm.import_certificate(Certificate=cert_pem(leaf), PrivateKey=key_pem(key), CertificateChain=cert_pem(other))
    assert error(e)[:2] == ("ValidationException", 400)
    assert "certificate chain" in error(e)[2]


def test_mismatched_key_is_refused(acm, kumo_now):
    cert = certificate(rsa_key(), "a.example.com", kumo_now())
    with pytest.raises(ClientError) as e:
        acm.import_certificate(Certificate=cert_pem(cert), PrivateKey=key_pem(rsa_key()))
    code, status, message = error(e)
    assert (code, status) == ("ValidationException", 400)
    assert "private key does not match" in message
    assert acm.list_certificates()["CertificateSummaryList"] == []


def test_garbage_is_refused(acm, kumo_now):
    key = rsa_key()
    good = cert_pem(certificate(key, "a.example.com", kumo_now()))
    for cert, pkey, words in [
        (b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", key_pem(key),
         "Unable to parse certificate"),
        (b"hello", key_pem(key), "Unable to parse certificate"),
        (good + good, key_pem(key), "more than one certificate"),
        (good, b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "Unable to parse the private key"),
    ]:
        with pytest.raises(ClientError) as e:
            acm.import_certificate(Certificate=cert, PrivateKey=pkey)
        code, status, message = error(e)
        assert (code, status) == ("ValidationException", 400) and words in message


def test_certificate_outside_its_validity_is_refused(acm, kumo_now):
    key = rsa_key()
    expired = certificate(key, "old.example.com", kumo_now() - 10 * DAY, days=5)
    with pytest.raises(ClientError) as e:
        acm.import_certificate(Certificate=cert_pem(expired), PrivateKey=key_pem(key))
    assert error(e)[0] == "ValidationException" and "expired" in error(e)[2]


def test_kumo_clock_decides_expired(acm, kumo_now, kumo_server, seam):
    key = rsa_key()
    cert = certificate(key, "short.example.com", kumo_now(), days=2)
    arn = acm.import_certificate(Certificate=cert_pem(cert), PrivateKey=key_pem(key))["CertificateArn"]
    assert seam("certificate_material", arn) is not None
    kumo_server.advance(3 * DAY)
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "EXPIRED"
    listed = acm.list_certificates(CertificateStatuses=["EXPIRED"])["CertificateSummaryList"]
    assert [c["CertificateArn"] for c in listed] == [arn]
    assert acm.list_certificates(CertificateStatuses=["ISSUED"])["CertificateSummaryList"] == []
    # Load balancers get nothing to serve with an expired certificate.
    assert seam("certificate_material", arn) is None


def test_reimport_keeps_arn_users_and_tags(acm, kumo_now, seam):
    now = kumo_now()
    key = rsa_key()
    first = certificate(key, "app.example.com", now)
    arn = acm.import_certificate(Certificate=cert_pem(first), PrivateKey=key_pem(key),
                                 Tags=[{"Key": "team", "Value": "web"}])["CertificateArn"]
    seam("mark_in_use", arn, "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/web/1", True)
    new_key = rsa_key()
    second = certificate(new_key, "app.example.com", now, sans=["app.example.com", "www.example.com"], days=200)
    assert acm.import_certificate(CertificateArn=arn, Certificate=cert_pem(second),
                                  PrivateKey=key_pem(new_key))["CertificateArn"] == arn
    d = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert d["SubjectAlternativeNames"] == ["app.example.com", "www.example.com"] and len(d["InUseBy"]) == 1
    assert load(acm.get_certificate(CertificateArn=arn)["Certificate"]) == second
    assert acm.list_tags_for_certificate(CertificateArn=arn)["Tags"] == [{"Key": "team", "Value": "web"}]
    with pytest.raises(ClientError) as e:
        acm.import_certificate(CertificateArn=arn, Certificate=cert_pem(second), PrivateKey=key_pem(new_key),
                               Tags=[{"Key": "a", "Value": "b"}])
    assert error(e)[0] == "ValidationException" and "Tagging is not permitted on re-import" in error(e)[2]
    ec = ec_key()
    with pytest.raises(ClientError) as e:
        acm.import_certificate(CertificateArn=arn, Certificate=cert_pem(certificate(ec, "app.example.com", now)),
                               PrivateKey=key_pem(ec))
    assert error(e)[0] == "ValidationException" and "RSA_2048" in error(e)[2]
    missing = arn[:-4] + "0000"
    with pytest.raises(ClientError) as e:
        acm.import_certificate(CertificateArn=missing, Certificate=cert_pem(second), PrivateKey=key_pem(new_key))
    assert error(e)[:2] == ("ResourceNotFoundException", 400)
