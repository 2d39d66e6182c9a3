"""RequestCertificate through boto3: real self-signed certificates, validation records, idempotency, export."""

import socket
import ssl
import tempfile
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization

from .pems import DAY, dns_names, load, same_public_key

PCA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/12345678-1234-1234-1234-123456789012"


def error(exc_info) -> tuple[str, int, str]:
    r = exc_info.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


def test_requested_certificate_is_real_and_names_every_domain(acm, account, kumo_now, seam):
    now = kumo_now()
    arn = acm.request_certificate(DomainName="example.com", ValidationMethod="DNS",
                                  SubjectAlternativeNames=["*.example.com", "api.example.org"])["CertificateArn"]
    assert arn.startswith(f"arn:aws:acm:us-east-1:{account}:certificate/")
    pem = acm.get_certificate(CertificateArn=arn)["Certificate"]
    cert = load(pem)
    assert dns_names(cert) == ["example.com", "*.example.com", "api.example.org"]
    assert cert.issuer == cert.subject  # self-signed: kumo has no public CA
    material = seam("certificate_material", arn)
    assert material["certificate_pem"] == pem and material["chain_pem"] is None
    assert material["names"] == ["example.com", "*.example.com", "api.example.org"]
    assert same_public_key(cert, material["private_key_pem"])
    assert material["not_after"] == pytest.approx(now + 395 * DAY, abs=2)

    d = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert d["Type"] == "AMAZON_ISSUED" and d["Status"] == "ISSUED" and d["KeyAlgorithm"] == "RSA_2048"
    assert d["SubjectAlternativeNames"] == ["example.com", "*.example.com", "api.example.org"]
    assert d["SignatureAlgorithm"] == "SHA256WITHRSA" and d["Subject"] == "CN=example.com"
    assert d["RenewalEligibility"] == "INELIGIBLE" and d["InUseBy"] == []
    assert d["Options"] == {"CertificateTransparencyLoggingPreference": "ENABLED", "Export": "DISABLED"}
    assert d["NotAfter"].timestamp() == pytest.approx(now + 395 * DAY, abs=2)
    # Valid from now on kumo's clock and on the host's, which real TLS clients use.
    assert d["NotBefore"] <= d["CreatedAt"] and d["NotBefore"].timestamp() <= time.time()
    options = {o["DomainName"]: o for o in d["DomainValidationOptions"]}
    assert set(options) == {"example.com", "*.example.com", "api.example.org"}
    for name, option in options.items():
        assert option["ValidationStatus"] == "SUCCESS" and option["ValidationMethod"] == "DNS"
        record = option["ResourceRecord"]
        assert record["Type"] == "CNAME" and record["Name"].endswith("." + name.removeprefix("*.") + ".")
        assert record["Value"].endswith(".acm-validations.aws.")
    # ACM asks for one record per base domain: the apex and its wildcard share it.
    assert options["example.com"]["ResourceRecord"] == options["*.example.com"]["ResourceRecord"]
    # In use by a load balancer, an ACM-issued certificate becomes eligible for managed renewal.
    seam("mark_in_use", arn, "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/web/1", True)
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["RenewalEligibility"] == "ELIGIBLE"


def test_material_serves_tls_for_the_wildcard(acm, seam):
    arn = acm.request_certificate(DomainName="*.svc.example.com", KeyAlgorithm="EC_secp384r1",
                                  ValidationMethod="DNS")["CertificateArn"]
    material = seam("certificate_material", arn)
    workdir = Path(tempfile.mkdtemp(prefix="acm-tls-"))
    (workdir / "cert.pem").write_text(material["certificate_pem"])
    (workdir / "key.pem").write_text(material["private_key_pem"])
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(workdir / "cert.pem", workdir / "key.pem")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def serve():
            conn, _ = listener.accept()
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"hello")

        thread = threading.Thread(target=serve)
        thread.start()
        client_ctx = ssl.create_default_context(cafile=str(workdir / "cert.pem"))
        with socket.create_connection(listener.getsockname(), timeout=10) as raw:
            with client_ctx.wrap_socket(raw, server_hostname="api.svc.example.com") as tls:
                assert tls.recv(5) == b"hello"
        thread.join(10)
    d = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert d["KeyAlgorithm"] == "EC_secp384r1" and d["SignatureAlgorithm"] == "SHA384WITHECDSA"


def test_email_validation_and_its_domains(acm):
    arn = acm.request_certificate(DomainName="www.example.net",
                                  DomainValidationOptions=[{"DomainName": "www.example.net",
                                                            "ValidationDomain": "example.net"}])["CertificateArn"]
    (option,) = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"]
    assert option["ValidationMethod"] == "EMAIL" and option["ValidationDomain"] == "example.net"
    assert "admin@example.net" in option["ValidationEmails"] and "ResourceRecord" not in option
    with pytest.raises(ClientError) as e:
        acm.request_certificate(DomainName="www.example.net", ValidationMethod="EMAIL",
                                DomainValidationOptions=[{"DomainName": "www.example.net",
                                                          "ValidationDomain": "example.org"}])
    assert error(e)[0] == "InvalidDomainValidationOptionsException"


def test_bad_requests_get_acm_errors(acm):
    for kwargs, code in [
        ({"DomainName": "not a domain"}, "ValidationException"),
        ({"DomainName": "example.com", "SubjectAlternativeNames": ["ok.example.com", "bad..example.com"]},
         "ValidationException"),
        ({"DomainName": "a" * 60 + ".example.com"}, "ValidationException"),
        ({"DomainName": "example.com", "KeyAlgorithm": "RSA_4096"}, "ValidationException"),
        ({"DomainName": "example.com", "ValidationMethod": "HTTP"}, "InvalidParameterException"),
        ({"DomainName": "example.com", "Tags": [{"Key": "aws:owner", "Value": "x"}]}, "InvalidTagException"),
    ]:
        with pytest.raises(ClientError) as e:
            acm.request_certificate(**kwargs)
        assert error(e)[:2] == (code, 400), kwargs
    with pytest.raises(ClientError) as e:
        acm.request_certificate(DomainName="example.com", CertificateAuthorityArn=PCA)
    assert error(e)[:2] == ("NotImplemented", 501)
    assert acm.list_certificates()["CertificateSummaryList"] == []


def test_idempotency_token_holds_for_an_hour(acm, kumo_server):
    first = acm.request_certificate(DomainName="idem.example.com", IdempotencyToken="deploy42")["CertificateArn"]
    kumo_server.advance(3000)
    assert acm.request_certificate(DomainName="idem.example.com",
                                   IdempotencyToken="deploy42")["CertificateArn"] == first
    assert acm.request_certificate(DomainName="idem.example.com",
                                   IdempotencyToken="other")["CertificateArn"] != first
    kumo_server.advance(700)
    third = acm.request_certificate(DomainName="idem.example.com", IdempotencyToken="deploy42")["CertificateArn"]
    assert third != first
    assert len(acm.list_certificates()["CertificateSummaryList"]) == 3


def test_export_needs_an_exportable_certificate(acm):
    plain = acm.request_certificate(DomainName="plain.example.com")["CertificateArn"]
    with pytest.raises(ClientError) as e:
        acm.export_certificate(CertificateArn=plain, Passphrase=b"secret-pass")
    assert error(e)[0] == "ValidationException"
    arn = acm.request_certificate(DomainName="export.example.com", ValidationMethod="DNS",
                                  Options={"Export": "ENABLED"})["CertificateArn"]
    with pytest.raises(ClientError) as e:
        acm.export_certificate(CertificateArn=arn, Passphrase=b"100%")
    assert error(e)[0] == "ValidationException"
    out = acm.export_certificate(CertificateArn=arn, Passphrase=b"secret-pass")
    assert out["PrivateKey"].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises((TypeError, ValueError)):
        serialization.load_pem_private_key(out["PrivateKey"].encode(), password=b"wrong-pass")
    key = serialization.load_pem_private_key(out["PrivateKey"].encode(), password=b"secret-pass")
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    assert same_public_key(load(out["Certificate"]), pem)
    (summary,) = [s for s in acm.list_certificates()["CertificateSummaryList"] if s["CertificateArn"] == arn]
    assert summary["Exported"] is True and summary["ExportOption"] == "ENABLED"
