"""AWS's public parameters (/aws/service/...) name kumo's own images, in every region, and cannot be written."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from .test_parameters import code

AL = "/aws/service/ami-amazon-linux-latest/"


def _images(aws, region="us-east-1") -> dict[str, dict]:
    return {i["ImageId"]: i for i in aws("ec2", region=region).describe_images(Owners=["amazon", "099720109477"])[
        "Images"]}


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_amazon_linux_names_resolve_to_kumo_images_of_that_os(aws, region):
    ssm = aws("ssm", region=region)
    images = _images(aws, region)
    for name, prefix in (("al2023-ami-kernel-default-x86_64", "al2023-ami"), ("al2023-ami-kernel-6.1-x86_64", "al2023"),
                         ("al2023-ami-kernel-default-arm64", "al2023-ami"), ("amzn2-ami-hvm-x86_64-gp2", "amzn2-ami"),
                         ("amzn2-ami-hvm-arm64-gp2", "amzn2-ami")):
        got = ssm.get_parameter(Name=AL + name)["Parameter"]
        assert got["Value"] in images, name
        assert images[got["Value"]]["Name"].startswith(prefix), name
        assert got["ARN"] == f"arn:aws:ssm:{region}::parameter{AL}{name}"
        assert (got["Type"], got["DataType"]) == ("String", "text")


def test_ubuntu_and_ecs_optimized_names(aws):
    ssm = aws("ssm")
    images = _images(aws)
    ubuntu = ssm.get_parameter(Name="/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp2/"
                                    "ami-id")["Parameter"]["Value"]
    assert images[ubuntu]["Name"].startswith("ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04")
    ecs = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended"
    image_id = ssm.get_parameter(Name=ecs + "/image_id")["Parameter"]["Value"]
    assert images[image_id]["Name"].startswith("al2023-ami")
    doc = json.loads(ssm.get_parameter(Name=ecs)["Parameter"]["Value"])
    assert doc["image_id"] == image_id and doc["os"] == "Amazon Linux 2023"
    # An operating system kumo has no image of has no public parameter either.
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name="/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id")
    assert code(exc) == "ParameterNotFound"


def test_public_names_list_by_path(ssm):
    listed = [p["Name"] for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=AL.rstrip("/"))
              for p in page["Parameters"]]
    assert AL + "al2023-ami-kernel-default-x86_64" in listed and AL + "amzn2-ami-hvm-x86_64-gp2" in listed
    assert listed == sorted(listed) and all(n.startswith(AL) for n in listed)
    ecs = [p["Name"] for page in ssm.get_paginator("get_parameters_by_path").paginate(
        Path="/aws/service/ecs", Recursive=True) for p in page["Parameters"]]
    assert "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id" in ecs
    got = ssm.get_parameters(Names=[AL + "al2023-ami-kernel-default-x86_64", AL + "no-such-image"])
    assert [p["Name"] for p in got["Parameters"]] == [AL + "al2023-ami-kernel-default-x86_64"]
    assert got["InvalidParameters"] == [AL + "no-such-image"]
    # Public parameters are AWS's, not the account's: DescribeParameters does not list them.
    assert ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Option": "BeginsWith",
                                                      "Values": ["/aws"]}])["Parameters"] == []


def test_public_names_are_read_only(ssm):
    name = AL + "al2023-ami-kernel-default-x86_64"
    before = ssm.get_parameter(Name=name)["Parameter"]
    calls = [lambda: ssm.put_parameter(Name=name, Value="ami-0123456789abcdef0", Type="String", Overwrite=True),
             lambda: ssm.delete_parameter(Name=name),
             lambda: ssm.label_parameter_version(Name=name, Labels=["mine"]),
             lambda: ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name,
                                              Tags=[{"Key": "a", "Value": "b"}])]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert code(exc) == "AccessDeniedException"
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert ssm.get_parameter(Name=name)["Parameter"] == before
    assert ssm.delete_parameters(Names=[name])["InvalidParameters"] == [name]


def test_aws_cli_reads_public_and_own_parameters(aws_cli):
    listed = json.loads(aws_cli("ssm", "get-parameters-by-path", "--path", AL.rstrip("/")).stdout)
    assert AL + "al2023-ami-kernel-default-x86_64" in [p["Name"] for p in listed["Parameters"]]
    assert len(listed["Parameters"]) > 10  # the CLI followed NextToken past the first page of ten
    aws_cli("ssm", "put-parameter", "--name", "/cli/secret", "--value", "hush", "--type", "SecureString")
    got = json.loads(aws_cli("ssm", "get-parameter", "--name", "/cli/secret", "--with-decryption").stdout)
    assert got["Parameter"]["Value"] == "hush"
    refused = aws_cli("ssm", "put-parameter", "--name", AL + "mine", "--value", "x", "--type", "String", check=False)
    assert refused.returncode != 0 and "AccessDeniedException" in refused.stderr
