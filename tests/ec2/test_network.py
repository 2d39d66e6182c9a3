"""VPC basics as Terraform's aws_vpc / aws_subnet / aws_security_group need them."""

import pytest
from botocore.exceptions import ClientError


def code(e) -> str:
    return e.value.response["Error"]["Code"]


def test_default_vpc_and_a_subnet_per_zone(aws):
    ec2 = aws("ec2")
    vpcs = ec2.describe_vpcs()["Vpcs"]
    assert len(vpcs) == 1 and vpcs[0]["IsDefault"] and vpcs[0]["CidrBlock"] == "172.31.0.0/16"
    for name in ("is-default", "isDefault"):  # Terraform's data "aws_vpc" { default = true } sends isDefault
        assert ec2.describe_vpcs(Filters=[{"Name": name, "Values": ["true"]}])["Vpcs"] == vpcs
        assert ec2.describe_vpcs(Filters=[{"Name": name, "Values": ["false"]}])["Vpcs"] == []
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    assert zones == [f"us-east-1{c}" for c in "abcdef"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    assert sorted(s["AvailabilityZone"] for s in subnets) == zones
    assert all(s["MapPublicIpOnLaunch"] and s["CidrBlock"].endswith("/20") for s in subnets)
    assert all(s["AvailableIpAddressCount"] == 4091 for s in subnets)
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    assert len(groups) == 1 and groups[0]["VpcId"] == vpcs[0]["VpcId"]
    west = aws("ec2", region="eu-west-1")
    assert [z["ZoneName"] for z in west.describe_availability_zones()["AvailabilityZones"]] == \
        ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert west.describe_vpcs()["Vpcs"][0]["VpcId"] != vpcs[0]["VpcId"]  # regions keep state apart
    attrs = {a["AttributeName"]: a for a in ec2.describe_account_attributes()["AccountAttributes"]}
    assert attrs["default-vpc"]["AttributeValues"][0]["AttributeValue"] == vpcs[0]["VpcId"]


def test_regions(aws):
    regions = [r["RegionName"] for r in aws("ec2").describe_regions()["Regions"]]
    assert "us-east-1" in regions and "eu-central-1" in regions


def test_vpc_subnet_lifecycle_and_errors(aws):
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "main"}]}])["Vpc"]
    assert vpc["State"] == "available" and vpc["Tags"] == [{"Key": "Name", "Value": "main"}]
    sub = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1b")["Subnet"]
    assert sub["AvailableIpAddressCount"] == 251 and not sub["MapPublicIpOnLaunch"]
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.128/25")
    assert code(e) == "InvalidSubnet.Conflict"
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="192.168.0.0/24")
    assert code(e) == "InvalidSubnet.Range"
    with pytest.raises(ClientError) as e:
        ec2.create_vpc(CidrBlock="10.0.0.0/8")
    assert code(e) == "InvalidVpc.Range"
    with pytest.raises(ClientError) as e:
        ec2.describe_subnets(SubnetIds=["subnet-0123456789abcdef0"])
    assert code(e) == "InvalidSubnetID.NotFound"
    with pytest.raises(ClientError) as e:
        ec2.describe_vpcs(VpcIds=["vpc-nothex"])
    assert code(e) == "InvalidVpcID.Malformed"
    with pytest.raises(ClientError) as e:
        ec2.delete_vpc(VpcId=vpc["VpcId"])
    assert code(e) == "DependencyViolation"
    ec2.modify_subnet_attribute(SubnetId=sub["SubnetId"], MapPublicIpOnLaunch={"Value": True})
    assert ec2.describe_subnets(SubnetIds=[sub["SubnetId"]])["Subnets"][0]["MapPublicIpOnLaunch"]
    ec2.modify_vpc_attribute(VpcId=vpc["VpcId"], EnableDnsHostnames={"Value": True})
    assert ec2.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"]
    ec2.delete_subnet(SubnetId=sub["SubnetId"])
    ec2.delete_vpc(VpcId=vpc["VpcId"])
    assert [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]] == []


def test_security_groups_and_rules(aws):
    ec2 = aws("ec2")
    vpc_id = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    gid = ec2.create_security_group(GroupName="web", Description="web tier", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "http"}]},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
    ])
    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_ingress(GroupId=gid, IpProtocol="tcp", FromPort=80, ToPort=80, CidrIp="0.0.0.0/0")
    assert code(e) == "InvalidPermission.Duplicate"
    sg = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
    ports = sorted(p["FromPort"] for p in sg["IpPermissions"])
    assert ports == [80, 443]
    assert sg["IpPermissionsEgress"] == [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [],
                                          "PrefixListIds": [], "UserIdGroupPairs": []}]
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [gid]}])["SecurityGroupRules"]
    assert len(rules) == 3 and all(r["SecurityGroupRuleId"].startswith("sgr-") for r in rules)
    ec2.revoke_security_group_ingress(GroupId=gid, IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp="10.0.0.0/8")
    with pytest.raises(ClientError) as e:
        ec2.revoke_security_group_ingress(GroupId=gid, IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp="10.0.0.0/8")
    assert code(e) == "InvalidPermission.NotFound"
    with pytest.raises(ClientError) as e:
        ec2.create_security_group(GroupName="web", Description="again", VpcId=vpc_id)
    assert code(e) == "InvalidGroup.Duplicate"
    default = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]
    with pytest.raises(ClientError) as e:
        ec2.delete_security_group(GroupId=default["GroupId"])
    assert code(e) == "CannotDelete"
    ec2.delete_security_group(GroupId=gid)
    with pytest.raises(ClientError) as e:
        ec2.describe_security_groups(GroupIds=[gid])
    assert code(e) == "InvalidGroup.NotFound"


def test_internet_gateways_and_route_tables(aws):
    ec2 = aws("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.1.0.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    with pytest.raises(ClientError) as e:
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    assert code(e) == "Resource.AlreadyAssociated"
    rtb = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    assoc = ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet_id)["AssociationId"]
    table = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])["RouteTables"]
    assert [t["RouteTableId"] for t in table] == [rtb]
    assert {r["DestinationCidrBlock"]: r["GatewayId"] for r in table[0]["Routes"]} == \
        {"10.1.0.0/16": "local", "0.0.0.0/0": igw}
    mains = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                               {"Name": "association.main", "Values": ["true"]}])["RouteTables"]
    assert len(mains) == 1
    with pytest.raises(ClientError) as e:
        ec2.delete_internet_gateway(InternetGatewayId=igw)
    assert code(e) == "DependencyViolation"
    ec2.disassociate_route_table(AssociationId=assoc)
    ec2.delete_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0")
    ec2.delete_route_table(RouteTableId=rtb)
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    ec2.delete_internet_gateway(InternetGatewayId=igw)


def test_network_interfaces(aws):
    ec2 = aws("ec2")
    subnet = ec2.describe_subnets()["Subnets"][0]
    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"], Description="extra",
                                       PrivateIpAddress=subnet["CidrBlock"].replace("0/20", "100"))["NetworkInterface"]
    assert eni["PrivateIpAddress"].endswith(".100") and eni["Status"] == "available"
    assert eni["MacAddress"].startswith("0e:")
    found = ec2.describe_network_interfaces(Filters=[{"Name": "description", "Values": ["extra"]}])["NetworkInterfaces"]
    assert [f["NetworkInterfaceId"] for f in found] == [eni["NetworkInterfaceId"]]
    with pytest.raises(ClientError) as e:
        ec2.create_network_interface(SubnetId=subnet["SubnetId"], PrivateIpAddress=eni["PrivateIpAddress"])
    assert code(e) == "InvalidIPAddress.InUse"
    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])


def test_tags_and_filters_and_pages(aws):
    ec2 = aws("ec2")
    ids = [ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")["Vpc"]["VpcId"] for i in range(7)]
    ec2.create_tags(Resources=ids[:3], Tags=[{"Key": "env", "Value": "prod"}])
    ec2.create_tags(Resources=ids[3:], Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "x"}])
    prod = ec2.describe_vpcs(Filters=[{"Name": "tag:env", "Values": ["prod"]}])["Vpcs"]
    assert sorted(v["VpcId"] for v in prod) == sorted(ids[:3])
    assert len(ec2.describe_vpcs(Filters=[{"Name": "tag-key", "Values": ["team"]}])["Vpcs"]) == 4
    assert len(ec2.describe_vpcs(Filters=[{"Name": "tag:env", "Values": ["p*"]}])["Vpcs"]) == 3
    ec2.delete_tags(Resources=[ids[0]], Tags=[{"Key": "env"}])
    assert len(ec2.describe_vpcs(Filters=[{"Name": "tag:env", "Values": ["prod"]}])["Vpcs"]) == 2
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [ids[4]]}])["Tags"]
    assert {(t["Key"], t["Value"], t["ResourceType"]) for t in tags} == {("env", "dev", "vpc"), ("team", "x", "vpc")}
    seen, token = [], None
    while True:
        kw = {"MaxResults": 5, **({"NextToken": token} if token else {})}
        page = ec2.describe_vpcs(**kw)
        seen += [v["VpcId"] for v in page["Vpcs"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == 8 and len(set(seen)) == 8
    with pytest.raises(ClientError) as e:
        ec2.describe_vpcs(Filters=[{"Name": "no-such-filter", "Values": ["x"]}])
    assert code(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        ec2.create_tags(Resources=["vpc-0123456789abcdef0"], Tags=[{"Key": "a", "Value": "b"}])
    assert code(e) == "InvalidVpcID.NotFound"


def test_dry_run(aws):
    with pytest.raises(ClientError) as e:
        aws("ec2").create_vpc(CidrBlock="10.9.0.0/16", DryRun=True)
    assert code(e) == "DryRunOperation"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412


def test_modify_rules_and_move_route_table_associations(aws):
    ec2 = aws("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    gid = ec2.create_security_group(GroupName="svc", Description="d", VpcId=vpc_id)["GroupId"]
    rule = ec2.authorize_security_group_ingress(GroupId=gid, IpProtocol="tcp", FromPort=22, ToPort=22,
                                                CidrIp="10.0.0.0/8")["SecurityGroupRules"][0]
    ec2.modify_security_group_rules(GroupId=gid, SecurityGroupRules=[{
        "SecurityGroupRuleId": rule["SecurityGroupRuleId"],
        "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 2222, "ToPort": 2222, "CidrIpv4": "10.1.0.0/16",
                              "Description": "moved"}}])
    changed = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule["SecurityGroupRuleId"]])["SecurityGroupRules"][0]
    assert (changed["FromPort"], changed["CidrIpv4"], changed["Description"]) == (2222, "10.1.0.0/16", "moved")
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.3.1.0/24")["Subnet"]["SubnetId"]
    a = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    b = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    assoc = ec2.associate_route_table(RouteTableId=a, SubnetId=subnet)["AssociationId"]
    ec2.replace_route_table_association(AssociationId=assoc, RouteTableId=b)
    found = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["RouteTables"]
    assert [t["RouteTableId"] for t in found] == [b]


def test_members_the_model_leaves_optional_are_refused_not_failed(aws):
    """Found by the fuzz suite: these answered 500 (KeyError, ValueError) instead of EC2's errors."""
    ec2 = aws("ec2", validate=False)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]

    def error(call):
        with pytest.raises(ClientError) as e:
            call()
        err = e.value.response["Error"]
        return err["Code"], err["Message"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]

    assert error(lambda: ec2.create_subnet(VpcId=vpc)) == (
        "MissingParameter", "Either 'cidrBlock' or 'ipv6CidrBlock' should be provided.", 400)
    assert error(lambda: ec2.create_subnet(VpcId=vpc, Ipv6Native=True)) == (
        "InvalidParameterValue", f"An IPv6-only subnet needs a VPC with an IPv6 CIDR block; {vpc} has none.", 400)
    no_key = [{"ResourceType": "subnet", "Tags": [{"Key": "ok", "Value": "1"}, {"Value": "x"}]}]
    assert error(lambda: ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", TagSpecifications=no_key)) == (
        "MissingParameter", "The request must contain the parameter TagSpecification.1.Tag.2.Key", 400)
    assert error(lambda: ec2.create_tags(Resources=[vpc], Tags=[{"Value": "x"}])) == (
        "MissingParameter", "The request must contain the parameter Tag.1.Key", 400)
    assert error(lambda: ec2.delete_tags(Resources=[vpc], Tags=[{"Value": "x"}])) == (
        "MissingParameter", "The request must contain the parameter Tag.1.Key", 400)
    assert ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"] == []
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    assert error(lambda: ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress="fz78156")) == (
        "InvalidParameterValue", "Value (fz78156) for parameter privateIpAddress is invalid. fz78156 is not a valid "
                                 "IPv4 address.", 400)
    assert ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [subnet]}])[
        "NetworkInterfaces"] == []


def test_security_group_rules_refuse_malformed_cidrs_and_take_a_rule_named_twice(aws):
    """Found by the fuzz suite: a rule named twice in ModifySecurityGroupRules answered 500 (ValueError), and
    CIDR blocks were stored unchecked."""
    ec2 = aws("ec2", validate=False)
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    for perm in ({"IpRanges": [{"CidrIp": "10.0.0.0/33"}]}, {"Ipv6Ranges": [{"CidrIpv6": "ZZZZ"}]},
                 {"IpRanges": [{"CidrIp": "2001:db8::/32"}]}):
        with pytest.raises(ClientError) as e:
            ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, **perm}])
        err = e.value.response["Error"]
        assert err["Code"] == "InvalidParameterValue" and "is malformed" in err["Message"]
    rule = ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}],
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    with pytest.raises(ClientError) as e:
        ec2.modify_security_group_rules(GroupId=sg, SecurityGroupRules=[
            {"SecurityGroupRuleId": rule, "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 81, "ToPort": 81,
                                                                "CidrIpv6": "ZZZZ"}}])
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    ec2.modify_security_group_rules(GroupId=sg, SecurityGroupRules=[
        {"SecurityGroupRuleId": rule, "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 81, "ToPort": 81,
                                                            "CidrIpv4": "10.1.0.0/16"}},
        {"SecurityGroupRuleId": rule, "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 82, "ToPort": 82,
                                                            "CidrIpv4": "10.2.0.0/16"}}])
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [sg]}])["SecurityGroupRules"]
    ingress = [r for r in rules if not r["IsEgress"]]
    assert [(r["SecurityGroupRuleId"], r["FromPort"], r["CidrIpv4"]) for r in ingress] == [(rule, 82, "10.2.0.0/16")]
