"""``resolve:ssm:`` image ids in RunInstances and launch templates, resolved by EC2 through Parameter Store."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from ..ec2.conftest import wait_state
from .test_parameters import code

PUBLIC_AL2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"


def _image_named(ec2, prefix: str) -> str:
    return next(i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"] if i["Name"].startswith(prefix))


@pytest.fixture
def ec2(aws):
    client = aws("ec2")
    started: list[str] = []
    client.started = started
    yield client
    if started:
        client.terminate_instances(InstanceIds=started)
        wait_state(client, started, "terminated", timeout=60)


def _run(ec2, **kw) -> dict:
    inst = ec2.run_instances(MinCount=1, MaxCount=1, InstanceType="t3.micro", **kw)["Instances"][0]
    ec2.started.append(inst["InstanceId"])
    return inst


def test_aws_cli_runs_amazon_linux_2023_through_the_public_parameter(aws_cli, ec2):
    al2023 = _image_named(ec2, "al2023-ami")
    out = json.loads(aws_cli("ec2", "run-instances", "--image-id", f"resolve:ssm:{PUBLIC_AL2023}",
                             "--instance-type", "t3.micro", "--count", "1").stdout)
    instance_id = out["Instances"][0]["InstanceId"]
    ec2.started.append(instance_id)
    assert out["Instances"][0]["ImageId"] == al2023
    running = wait_state(ec2, [instance_id], "running", timeout=60)[0]
    assert running["ImageId"] == al2023
    image = ec2.describe_images(ImageIds=[running["ImageId"]])["Images"][0]
    assert image["Name"].startswith("al2023-ami") and image["OwnerId"] == "137112412989"


def test_own_parameters_with_versions_and_labels(aws, ec2):
    ssm = aws("ssm")
    al2023, al2 = _image_named(ec2, "al2023-ami"), _image_named(ec2, "amzn2-ami")
    ssm.put_parameter(Name="/golden", Value=al2023, Type="String", DataType="aws:ec2:image")
    ssm.put_parameter(Name="/golden", Value=al2, Overwrite=True)
    ssm.label_parameter_version(Name="/golden", ParameterVersion=1, Labels=["previous"])
    assert _run(ec2, ImageId="resolve:ssm:/golden")["ImageId"] == al2
    assert _run(ec2, ImageId="resolve:ssm:/golden:1")["ImageId"] == al2023
    assert _run(ec2, ImageId="resolve:ssm:/golden:previous")["ImageId"] == al2023


def test_unusable_references_are_refused(aws, ec2):
    ssm = aws("ssm")
    ssm.put_parameter(Name="/secret-ami", Value="ami-0a0000000000a2023", Type="SecureString")
    for image_id in ("resolve:ssm:/missing", "resolve:ssm:/secret-ami", f"resolve:ssm:{PUBLIC_AL2023}:7"):
        with pytest.raises(ClientError) as exc:
            _run(ec2, ImageId=image_id)
        assert code(exc) == "SsmInvalidParameter", image_id
    assert ec2.describe_instances()["Reservations"] == []


def test_launch_templates_keep_the_reference_and_resolve_at_launch(aws, ec2):
    ssm = aws("ssm")
    al2023, al2 = _image_named(ec2, "al2023-ami"), _image_named(ec2, "amzn2-ami")
    ssm.put_parameter(Name="/lt/ami", Value=al2023, Type="String", DataType="aws:ec2:image")
    lt = ec2.create_launch_template(LaunchTemplateName="by-alias", LaunchTemplateData={
        "ImageId": "resolve:ssm:/lt/ami", "InstanceType": "t3.micro"})["LaunchTemplate"]
    stored = ec2.describe_launch_template_versions(LaunchTemplateId=lt["LaunchTemplateId"])["LaunchTemplateVersions"]
    assert stored[0]["LaunchTemplateData"]["ImageId"] == "resolve:ssm:/lt/ami"
    resolved = ec2.describe_launch_template_versions(LaunchTemplateId=lt["LaunchTemplateId"],
                                                     ResolveAlias=True)["LaunchTemplateVersions"]
    assert resolved[0]["LaunchTemplateData"]["ImageId"] == al2023
    spec = {"LaunchTemplateId": lt["LaunchTemplateId"]}
    assert _run(ec2, LaunchTemplate=spec)["ImageId"] == al2023
    ssm.put_parameter(Name="/lt/ami", Value=al2, Overwrite=True)  # the template itself does not change
    assert _run(ec2, LaunchTemplate=spec)["ImageId"] == al2
    # A public parameter is accepted; a plain text parameter of the account's is not (AWS's rule for templates).
    ec2.create_launch_template_version(LaunchTemplateId=lt["LaunchTemplateId"], LaunchTemplateData={
        "ImageId": f"resolve:ssm:{PUBLIC_AL2023}"})
    ssm.put_parameter(Name="/lt/text", Value=al2023, Type="String")
    with pytest.raises(ClientError) as exc:
        ec2.create_launch_template(LaunchTemplateName="by-text", LaunchTemplateData={
            "ImageId": "resolve:ssm:/lt/text"})
    assert code(exc) == "SsmInvalidParameter" and "aws:ec2:image" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        ec2.create_launch_template(LaunchTemplateName="by-nothing", LaunchTemplateData={
            "ImageId": "resolve:ssm:/lt/none"})
    assert code(exc) == "SsmInvalidParameter"
