"""Listing, tags, deletion and ARNs, through boto3; and the aws CLI end to end."""

import json

import pytest
from botocore.exceptions import ClientError

from .pems import cert_pem, certificate, key_pem, rsa_key

LB = "arn:aws:elasticloadbalancing:us-east-1:{}:loadbalancer/app/web/50dc6c495c0c9188"


def error(exc_info) -> tuple[str, int]:
    r = exc_info.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def test_list_filters_and_paginates(acm, kumo_now):
    arns = [acm.request_certificate(DomainName=f"site{i}.example.com")["CertificateArn"] for i in range(5)]
    ec = acm.request_certificate(DomainName="ec.example.com", KeyAlgorithm="EC_prime256v1")["CertificateArn"]
    key = rsa_key()
    imported = acm.import_certificate(Certificate=cert_pem(certificate(key, "imp.example.com", kumo_now())),
                                      PrivateKey=key_pem(key))["CertificateArn"]
    # ACM lists RSA_1024 and RSA_2048 certificates unless asked for other key types.
    listed = [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]]
    assert listed == arns + [imported]
    with_ec = acm.list_certificates(Includes={"keyTypes": ["EC_prime256v1"]})["CertificateSummaryList"]
    assert [c["CertificateArn"] for c in with_ec] == [ec]
    assert with_ec[0]["DomainName"] == "ec.example.com" and with_ec[0]["Type"] == "AMAZON_ISSUED"
    assert with_ec[0]["SubjectAlternativeNameSummaries"] == ["ec.example.com"]
    assert with_ec[0]["InUse"] is False and with_ec[0]["KeyUsages"] == ["DIGITAL_SIGNATURE"]

    assert acm.list_certificates(CertificateStatuses=["PENDING_VALIDATION"])["CertificateSummaryList"] == []
    issued = acm.list_certificates(CertificateStatuses=["ISSUED"])["CertificateSummaryList"]
    assert len(issued) == 6

    page = acm.list_certificates(MaxItems=4)
    assert len(page["CertificateSummaryList"]) == 4 and page["NextToken"]
    rest = acm.list_certificates(MaxItems=4, NextToken=page["NextToken"])
    assert "NextToken" not in rest
    assert [c["CertificateArn"] for c in page["CertificateSummaryList"] + rest["CertificateSummaryList"]] == listed
    paged = [c["CertificateArn"] for p in acm.get_paginator("list_certificates").paginate(
        PaginationConfig={"PageSize": 2}) for c in p["CertificateSummaryList"]]
    assert paged == listed
    newest_first = acm.list_certificates(SortBy="CREATED_AT", SortOrder="DESCENDING")["CertificateSummaryList"]
    assert [c["CertificateArn"] for c in newest_first] == listed[::-1]
    with pytest.raises(ClientError) as e:
        acm.list_certificates(NextToken="garbage")
    assert error(e) == ("InvalidArgsException", 400)


def test_tags(acm):
    arn = acm.request_certificate(DomainName="tags.example.com", Tags=[{"Key": "a", "Value": "1"}])["CertificateArn"]
    acm.add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "9"},
                                                          {"Key": "c"}])
    tags = acm.list_tags_for_certificate(CertificateArn=arn)["Tags"]
    assert sorted(tags, key=lambda t: t["Key"]) == [{"Key": "a", "Value": "9"}, {"Key": "b", "Value": "2"},
                                                     {"Key": "c", "Value": ""}]
    # A value given with the key removes the tag only while it still has that value.
    acm.remove_tags_from_certificate(CertificateArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b"}])
    assert sorted(t["Key"] for t in acm.list_tags_for_certificate(CertificateArn=arn)["Tags"]) == ["a", "c"]
    with pytest.raises(ClientError) as e:
        acm.add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(49)])
    assert error(e) == ("TooManyTagsException", 400)
    with pytest.raises(ClientError) as e:
        acm.add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": "aws:reserved", "Value": "v"}])
    assert error(e) == ("InvalidTagException", 400)


def test_delete_then_not_found(acm):
    arn = acm.request_certificate(DomainName="gone.example.com")["CertificateArn"]
    acm.delete_certificate(CertificateArn=arn)
    for call in (acm.describe_certificate, acm.get_certificate, acm.delete_certificate,
                 acm.list_tags_for_certificate):
        with pytest.raises(ClientError) as e:
            call(CertificateArn=arn)
        assert error(e) == ("ResourceNotFoundException", 400)
    assert acm.list_certificates()["CertificateSummaryList"] == []


def test_certificate_in_use_cannot_be_deleted(acm, account, seam):
    arn = acm.request_certificate(DomainName="busy.example.com")["CertificateArn"]
    user = LB.format(account)
    seam("mark_in_use", arn, user, True)
    seam("mark_in_use", arn, user, True)  # idempotent
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["InUseBy"] == [user]
    assert acm.list_certificates()["CertificateSummaryList"][0]["InUse"] is True
    with pytest.raises(ClientError) as e:
        acm.delete_certificate(CertificateArn=arn)
    assert error(e) == ("ResourceInUseException", 400)
    seam("mark_in_use", arn, user, False)
    acm.delete_certificate(CertificateArn=arn)
    # The seam tolerates certificates that are gone and ARNs that are not certificates.
    assert seam("mark_in_use", arn, user, False) is None
    assert seam("certificate_material", arn) is None
    assert seam("certificate_material", "not-an-arn") is None


def test_arns_are_checked(acm, account, aws):
    arn = acm.request_certificate(DomainName="where.example.com")["CertificateArn"]
    with pytest.raises(ClientError) as e:
        acm.describe_certificate(CertificateArn="arn:aws:s3:::my-bucket-name-here")
    assert error(e) == ("ValidationException", 400)
    with pytest.raises(ClientError) as e:
        acm.describe_certificate(CertificateArn=f"arn:aws:acm:us-east-1:{account}:bucket/xyz")
    assert error(e) == ("InvalidArnException", 400)
    # Another region's client does not see this region's certificate.
    with pytest.raises(ClientError) as e:
        aws("acm", region="eu-west-1").describe_certificate(CertificateArn=arn)
    assert error(e) == ("ResourceNotFoundException", 400)


def test_aws_cli_import_and_request(aws_cli, kumo_now, tmp_path):
    key = rsa_key()
    (tmp_path / "cert.pem").write_bytes(cert_pem(certificate(key, "cli.example.com", kumo_now())))
    (tmp_path / "key.pem").write_bytes(key_pem(key))
    imported = json.loads(aws_cli("acm", "import-certificate", "--certificate", f"fileb://{tmp_path}/cert.pem",
                                  "--private-key", f"fileb://{tmp_path}/key.pem").stdout)["CertificateArn"]
    requested = json.loads(aws_cli("acm", "request-certificate", "--domain-name", "cli.example.org",
                                   "--validation-method", "DNS", "--subject-alternative-names",
                                   "www.cli.example.org").stdout)["CertificateArn"]
    described = json.loads(aws_cli("acm", "describe-certificate", "--certificate-arn", requested).stdout)
    assert described["Certificate"]["SubjectAlternativeNames"] == ["cli.example.org", "www.cli.example.org"]
    listed = json.loads(aws_cli("acm", "list-certificates", "--certificate-statuses", "ISSUED").stdout)
    assert {c["CertificateArn"] for c in listed["CertificateSummaryList"]} == {imported, requested}
    failed = aws_cli("acm", "delete-certificate", "--certificate-arn", imported + "0", check=False)
    assert failed.returncode != 0 and "ResourceNotFoundException" in failed.stderr
