"""Instance types, AMIs, key pairs and launch templates."""

import pytest
from botocore.exceptions import ClientError

from .conftest import AMI, console, wait_state


def code(e) -> str:
    return e.value.response["Error"]["Code"]


def test_instance_type_catalogue(aws):
    ec2 = aws("ec2")
    types = {t["InstanceType"]: t for p in ec2.get_paginator("describe_instance_types").paginate() for t in
             p["InstanceTypes"]}
    families = {name.split(".")[0] for name in types}
    assert {"r5", "r6i", "r7i", "c5", "c6i", "c7i", "m5", "m6i", "m7i", "i3", "i4i", "g4dn", "g5", "t2",
            "t3"} <= families
    micro = types["t3.micro"]
    assert micro["VCpuInfo"]["DefaultVCpus"] == 2 and micro["MemoryInfo"]["SizeInMiB"] == 1024
    assert micro["BurstablePerformanceSupported"] and micro["FreeTierEligible"]
    assert types["g5.xlarge"]["GpuInfo"]["Gpus"][0]["Name"] == "A10G"
    assert types["i3.large"]["InstanceStorageInfo"]["TotalSizeInGB"] == 475
    assert types["m5.24xlarge"]["NetworkInfo"]["NetworkPerformance"] == "25 Gigabit"
    assert types["r5.large"]["MemoryInfo"]["SizeInMiB"] == 16 * 1024
    burstable = ec2.describe_instance_types(Filters=[{"Name": "burstable-performance-supported", "Values": ["true"]}])
    assert all(t["InstanceType"].startswith("t") for t in burstable["InstanceTypes"])
    with pytest.raises(ClientError) as e:
        ec2.describe_instance_types(InstanceTypes=["t9.huge"])
    assert code(e) == "InvalidInstanceType"
    offers = ec2.describe_instance_type_offerings(LocationType="availability-zone",
                                                  Filters=[{"Name": "instance-type", "Values": ["c5.large"]}])
    assert sorted(o["Location"] for o in offers["InstanceTypeOfferings"]) == [f"us-east-1{c}" for c in "abcdef"]


def test_images_and_owners(aws):
    ec2 = aws("ec2")
    amazon = ec2.describe_images(Owners=["amazon"])["Images"]
    assert AMI in [i["ImageId"] for i in amazon]
    al2023 = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-*"]}])["Images"]
    assert [i["ImageId"] for i in al2023] == [AMI]
    assert al2023[0]["RootDeviceType"] == "ebs" and al2023[0]["PlatformDetails"] == "Linux/UNIX"
    assert ec2.describe_images(Owners=["self"])["Images"] == []
    with pytest.raises(ClientError) as e:
        ec2.describe_images(ImageIds=["ami-0123456789abcdef0"])
    assert code(e) == "InvalidAMIID.NotFound"
    with pytest.raises(ClientError) as e:
        ec2.describe_images(ImageIds=["ami-bogus"])
    assert code(e) == "InvalidAMIID.Malformed"


def test_key_pairs(aws):
    ec2 = aws("ec2")
    created = ec2.create_key_pair(KeyName="made")
    assert created["KeyMaterial"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert len(created["KeyFingerprint"].split(":")) == 20  # SHA-1, as AWS fingerprints keys it creates
    ed = ec2.create_key_pair(KeyName="ed", KeyType="ed25519")
    assert "OPENSSH PRIVATE KEY" in ed["KeyMaterial"]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    imported = ec2.import_key_pair(KeyName="mine", PublicKeyMaterial=public)
    assert len(imported["KeyFingerprint"].split(":")) == 16  # MD5, as AWS fingerprints imported RSA keys
    with pytest.raises(ClientError) as e:
        ec2.import_key_pair(KeyName="bad", PublicKeyMaterial=b"not a key")
    assert code(e) == "InvalidKey.Format"
    with pytest.raises(ClientError) as e:
        ec2.create_key_pair(KeyName="made")
    assert code(e) == "InvalidKeyPair.Duplicate"
    names = sorted(k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"])
    assert names == ["ed", "made", "mine"]
    with pytest.raises(ClientError) as e:
        ec2.describe_key_pairs(KeyNames=["nope"])
    assert code(e) == "InvalidKeyPair.NotFound"
    ec2.delete_key_pair(KeyName="made")
    ec2.delete_key_pair(KeyName="never-existed")
    assert len(ec2.describe_key_pairs()["KeyPairs"]) == 2


def test_launch_templates_and_versions(aws):
    ec2 = aws("ec2")
    lt = ec2.create_launch_template(LaunchTemplateName="web", VersionDescription="v1", LaunchTemplateData={
        "ImageId": AMI, "InstanceType": "t3.micro",
        "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "app", "Value": "web"}]}]})["LaunchTemplate"]
    assert lt["DefaultVersionNumber"] == 1 and lt["LatestVersionNumber"] == 1
    v2 = ec2.create_launch_template_version(LaunchTemplateId=lt["LaunchTemplateId"], SourceVersion="1",
                                            LaunchTemplateData={"InstanceType": "t3.small"})["LaunchTemplateVersion"]
    assert v2["VersionNumber"] == 2
    assert v2["LaunchTemplateData"]["ImageId"] == AMI and v2["LaunchTemplateData"]["InstanceType"] == "t3.small"
    with pytest.raises(ClientError) as e:
        ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"InstanceType": "t3.nano"})
    assert code(e) == "InvalidLaunchTemplateName.AlreadyExistsException"
    inst = ec2.run_instances(LaunchTemplate={"LaunchTemplateName": "web", "Version": "$Latest"},
                             MinCount=1, MaxCount=1)["Instances"][0]
    assert inst["InstanceType"] == "t3.small" and inst["ImageId"] == AMI
    tags = {t["Key"]: t["Value"] for t in inst["Tags"]}
    assert tags["app"] == "web" and tags["aws:ec2launchtemplate:version"] == "2"
    default = ec2.run_instances(LaunchTemplate={"LaunchTemplateId": lt["LaunchTemplateId"]}, MinCount=1,
                                MaxCount=1, InstanceType="t3.nano")["Instances"][0]
    assert default["InstanceType"] == "t3.nano"  # an explicit parameter wins over the template
    ec2.modify_launch_template(LaunchTemplateId=lt["LaunchTemplateId"], DefaultVersion="2")
    versions = ec2.describe_launch_template_versions(LaunchTemplateId=lt["LaunchTemplateId"],
                                                     Versions=["$Default"])["LaunchTemplateVersions"]
    assert [v["VersionNumber"] for v in versions] == [2]
    assert ec2.describe_launch_templates(LaunchTemplateNames=["web"])["LaunchTemplates"][0]["DefaultVersionNumber"] == 2
    with pytest.raises(ClientError) as e:
        ec2.describe_launch_templates(LaunchTemplateNames=["nope"])
    assert code(e) == "InvalidLaunchTemplateName.NotFoundException"
    ec2.delete_launch_template(LaunchTemplateName="web")
    assert ec2.describe_launch_templates()["LaunchTemplates"] == []


def test_a_template_takes_an_image_that_does_not_resolve_with_a_warning_and_the_launch_fails(aws):
    ec2 = aws("ec2")
    made = ec2.create_launch_template(LaunchTemplateName="odd", LaunchTemplateData={"ImageId": "ami-abc123"})
    assert made["Warning"]["Errors"] == [{"Code": "InvalidAMIID.Malformed",
                                          "Message": 'Invalid id: "ami-abc123" (expecting "ami-...")'}]
    v2 = ec2.create_launch_template_version(LaunchTemplateName="odd",
                                            LaunchTemplateData={"ImageId": "ami-0123456789abcdef0"})
    assert [e["Code"] for e in v2["Warning"]["Errors"]] == ["InvalidAMIID.NotFound"]
    ok = ec2.create_launch_template(LaunchTemplateName="fine", LaunchTemplateData={"ImageId": AMI})
    assert "Warning" not in ok
    with pytest.raises(ClientError) as e:
        ec2.run_instances(LaunchTemplate={"LaunchTemplateName": "odd", "Version": "1"}, MinCount=1, MaxCount=1)
    assert code(e) == "InvalidAMIID.Malformed"


def test_latest_and_default_versions_of_every_template(aws):
    ec2 = aws("ec2")
    a = ec2.create_launch_template(LaunchTemplateName="lt-a", LaunchTemplateData={"ImageId": AMI})["LaunchTemplate"]
    b = ec2.create_launch_template(LaunchTemplateName="lt-b", LaunchTemplateData={"ImageId": AMI})["LaunchTemplate"]
    ec2.create_launch_template_version(LaunchTemplateName="lt-b", LaunchTemplateData={"InstanceType": "t3.nano"})
    latest = ec2.describe_launch_template_versions(Versions=["$Latest"])["LaunchTemplateVersions"]
    assert sorted((v["LaunchTemplateId"], v["VersionNumber"]) for v in latest) == \
        sorted([(a["LaunchTemplateId"], 1), (b["LaunchTemplateId"], 2)])
    both = ec2.describe_launch_template_versions(Versions=["$Latest", "$Default"])["LaunchTemplateVersions"]
    assert sorted((v["LaunchTemplateId"], v["VersionNumber"]) for v in both) == \
        sorted([(a["LaunchTemplateId"], 1), (b["LaunchTemplateId"], 1), (b["LaunchTemplateId"], 2)])
    with pytest.raises(ClientError) as e:
        ec2.describe_launch_template_versions(Versions=["1"])
    assert code(e) == "MissingParameter"


def test_run_instances_errors(aws):
    ec2 = aws("ec2")
    cases = [
        ({"ImageId": "ami-0123456789abcdef0"}, "InvalidAMIID.NotFound"),
        ({"ImageId": "ami-xyz"}, "InvalidAMIID.Malformed"),
        ({"ImageId": AMI, "InstanceType": "t3.gigantic"}, "InvalidParameterValue"),
        ({"ImageId": AMI, "SubnetId": "subnet-0123456789abcdef0"}, "InvalidSubnetID.NotFound"),
        ({"ImageId": AMI, "KeyName": "missing"}, "InvalidKeyPair.NotFound"),
        ({"ImageId": AMI, "SecurityGroupIds": ["sg-0123456789abcdef0"]}, "InvalidGroup.NotFound"),
        ({"ImageId": AMI, "IamInstanceProfile": {"Name": "missing"}}, "InvalidParameterValue"),
        ({"ImageId": AMI, "MinCount": 3, "MaxCount": 2}, "InvalidParameterValue"),
    ]
    for extra, expected in cases:
        params = {"MinCount": 1, "MaxCount": 1, **extra}
        with pytest.raises(ClientError) as e:
            ec2.run_instances(**params)
        assert code(e) == expected, extra
    with pytest.raises(ClientError) as e:
        ec2.describe_instances(InstanceIds=["i-0123456789abcdef0"])
    assert code(e) == "InvalidInstanceID.NotFound"
    with pytest.raises(ClientError) as e:
        ec2.stop_instances(InstanceIds=["i-123"])
    assert code(e) == "InvalidInstanceID.Malformed"
    with pytest.raises(ClientError) as e:
        aws("ec2", validate=False).run_instances(MinCount=1, MaxCount=1)
    assert code(e) == "MissingParameter"
    assert ec2.describe_instances()["Reservations"] == []  # nothing was half-launched


def test_run_instances_options_and_filters(aws):
    ec2 = aws("ec2")
    subnet = ec2.describe_subnets(Filters=[{"Name": "availability-zone", "Values": ["us-east-1c"]}])["Subnets"][0]
    r = ec2.run_instances(ImageId=AMI, InstanceType="t2.micro", MinCount=2, MaxCount=2, SubnetId=subnet["SubnetId"],
                          Monitoring={"Enabled": True}, ClientToken="once-only",
                          TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "role", "Value": "db"}]},
                                             {"ResourceType": "volume", "Tags": [{"Key": "role", "Value": "db"}]}])
    again = ec2.run_instances(ImageId=AMI, InstanceType="t2.micro", MinCount=2, MaxCount=2, ClientToken="once-only")
    assert again["ReservationId"] == r["ReservationId"]  # ClientToken makes the launch idempotent
    ids = [i["InstanceId"] for i in r["Instances"]]
    assert [i["AmiLaunchIndex"] for i in r["Instances"]] == [0, 1]
    assert all(i["Placement"]["AvailabilityZone"] == "us-east-1c" for i in r["Instances"])
    assert all(i["Monitoring"]["State"] == "enabled" for i in r["Instances"])
    assert all(i["PrivateIpAddress"].startswith("172.31.32.") for i in r["Instances"])
    assert all(i["PrivateDnsName"].endswith(".ec2.internal") for i in r["Instances"])
    wait_state(ec2, ids, "running")
    by = lambda name, *values: [i["InstanceId"] for res in ec2.describe_instances(
        Filters=[{"Name": name, "Values": list(values)}])["Reservations"] for i in res["Instances"]]
    assert sorted(by("tag:role", "db")) == sorted(ids)
    assert sorted(by("instance-state-name", "running")) == sorted(ids)
    assert by("private-ip-address", r["Instances"][1]["PrivateIpAddress"]) == [ids[1]]
    assert sorted(by("availability-zone", "us-east-1c")) == sorted(ids)
    assert sorted(by("instance-type", "t2.micro")) == sorted(ids)
    assert sorted(by("subnet-id", subnet["SubnetId"])) == sorted(ids)
    assert by("image-id", "ami-0c0000000000c2404") == []
    vols = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [ids[0]]}])["Volumes"]
    assert len(vols) == 1 and vols[0]["Tags"] == [{"Key": "role", "Value": "db"}]
    credits = ec2.describe_instance_credit_specifications(InstanceIds=ids)["InstanceCreditSpecifications"]
    assert {c["CpuCredits"] for c in credits} == {"standard"}
    subnet_after = ec2.describe_subnets(SubnetIds=[subnet["SubnetId"]])["Subnets"][0]
    assert subnet_after["AvailableIpAddressCount"] == subnet["AvailableIpAddressCount"] - 2


def test_placement_in_a_custom_vpc_without_public_addresses(aws, kumo_server):
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    inst = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1, SubnetId=subnet,
                             UserData="#!/bin/sh\necho private-only\n")["Instances"][0]
    assert inst["PrivateIpAddress"] == "10.20.1.4" and "PublicIpAddress" not in inst
    console(ec2, inst["InstanceId"], "private-only")
