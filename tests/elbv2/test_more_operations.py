"""ELBv2 operations no other test reaches: listener certificate lists, SSL policies, target group lookups, and
changing a load balancer's subnets, security groups and IP address type."""

import pytest
from botocore.exceptions import ClientError

from .conftest import default_setup


def _code(e) -> str:
    return e.value.response["Error"]["Code"]


def _vpc(ec2, cidr: str) -> tuple[str, list[str]]:
    """A VPC of its own with a subnet in each of two zones."""
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    zones = sorted(z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"])[:2]
    base = cidr.split(".")
    subnets = []
    for i, zone in enumerate(zones):
        subnets.append(ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"{base[0]}.{base[1]}.{i}.0/24",
                                         AvailabilityZone=zone)["Subnet"]["SubnetId"])
    return vpc_id, subnets


def _https_listener(aws, name: str):
    _ec2, elb, vpc, subnets = default_setup(aws)
    acm = aws("acm")
    cert_a = acm.request_certificate(DomainName="a.example.com")["CertificateArn"]
    cert_b = acm.request_certificate(DomainName="b.example.com")["CertificateArn"]
    lb = elb.create_load_balancer(Name=name, Subnets=subnets)["LoadBalancers"][0]
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443,
                                   Certificates=[{"CertificateArn": cert_a}], DefaultActions=[
            {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}])["Listeners"][0]
    return elb, acm, lb, listener["ListenerArn"], cert_a, cert_b


def test_listener_certificates_are_listed_with_the_default_and_extras_removed(aws):
    elb, acm, lb, listener, cert_a, cert_b = _https_listener(aws, "certs")
    certs = elb.describe_listener_certificates(ListenerArn=listener)["Certificates"]
    assert certs == [{"CertificateArn": cert_a, "IsDefault": True}]

    elb.add_listener_certificates(ListenerArn=listener, Certificates=[{"CertificateArn": cert_b}])
    certs = elb.describe_listener_certificates(ListenerArn=listener)["Certificates"]
    assert sorted(certs, key=lambda c: not c["IsDefault"]) == [{"CertificateArn": cert_a, "IsDefault": True},
                                                               {"CertificateArn": cert_b, "IsDefault": False}]
    assert acm.describe_certificate(CertificateArn=cert_b)["Certificate"]["InUseBy"] == [lb["LoadBalancerArn"]]

    elb.remove_listener_certificates(ListenerArn=listener, Certificates=[{"CertificateArn": cert_b}])
    certs = elb.describe_listener_certificates(ListenerArn=listener)["Certificates"]
    assert certs == [{"CertificateArn": cert_a, "IsDefault": True}]
    assert acm.describe_certificate(CertificateArn=cert_b)["Certificate"].get("InUseBy", []) == []
    acm.delete_certificate(CertificateArn=cert_b)  # no longer in use: ACM lets it go

    # The default certificate is changed with ModifyListener, never removed from the list.
    with pytest.raises(ClientError) as e:
        elb.remove_listener_certificates(ListenerArn=listener, Certificates=[{"CertificateArn": cert_a}])
    assert _code(e) == "OperationNotPermitted"
    assert elb.describe_listener_certificates(ListenerArn=listener)["Certificates"] == [
        {"CertificateArn": cert_a, "IsDefault": True}]
    assert acm.describe_certificate(CertificateArn=cert_a)["Certificate"]["InUseBy"] == [lb["LoadBalancerArn"]]

    for call in (lambda arn: elb.describe_listener_certificates(ListenerArn=arn),
                 lambda arn: elb.remove_listener_certificates(ListenerArn=arn,
                                                              Certificates=[{"CertificateArn": cert_a}])):
        with pytest.raises(ClientError) as e:
            call(listener + "0")
        assert _code(e) == "ListenerNotFound"


def test_describe_ssl_policies_lists_named_policies_and_refuses_unknown_names(aws):
    elb = aws("elbv2")
    policies = elb.describe_ssl_policies()["SslPolicies"]
    by_name = {p["Name"]: p for p in policies}
    default = by_name["ELBSecurityPolicy-2016-08"]  # the default of a listener created without SslPolicy
    assert "TLSv1.2" in default["SslProtocols"] and default["Ciphers"]
    assert all(c["Name"] and c["Priority"] >= 1 for p in policies for c in p["Ciphers"])

    one = elb.describe_ssl_policies(Names=["ELBSecurityPolicy-2016-08"])["SslPolicies"]
    assert [p["Name"] for p in one] == ["ELBSecurityPolicy-2016-08"]
    with pytest.raises(ClientError) as e:
        elb.describe_ssl_policies(Names=["ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-Nope"])
    assert _code(e) == "SSLPolicyNotFound"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    # A listener takes a listed policy, and the listener's policy is one DescribeSSLPolicies names.
    elb, _acm, _lb, listener, _a, _b = _https_listener(aws, "sslpol")
    used = elb.describe_listeners(ListenerArns=[listener])["Listeners"][0]["SslPolicy"]
    assert used in by_name


def test_describe_target_groups_by_arn_name_and_load_balancer(aws):
    _ec2, elb, vpc, subnets = default_setup(aws)
    a = elb.create_target_group(Name="dtg-a", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    b = elb.create_target_group(Name="dtg-b", Protocol="HTTP", Port=8080, VpcId=vpc,
                                HealthCheckPath="/health")["TargetGroups"][0]
    all_groups = elb.describe_target_groups()["TargetGroups"]
    assert {g["TargetGroupArn"] for g in all_groups} == {a["TargetGroupArn"], b["TargetGroupArn"]}

    got = elb.describe_target_groups(Names=["dtg-b"])["TargetGroups"]
    assert [g["TargetGroupArn"] for g in got] == [b["TargetGroupArn"]]
    assert got[0]["Port"] == 8080 and got[0]["HealthCheckPath"] == "/health" and got[0]["VpcId"] == vpc
    assert got[0]["LoadBalancerArns"] == []
    got = elb.describe_target_groups(TargetGroupArns=[a["TargetGroupArn"]])["TargetGroups"]
    assert [g["TargetGroupName"] for g in got] == ["dtg-a"]

    lb = elb.create_load_balancer(Name="dtg-lb", Subnets=subnets)["LoadBalancers"][0]
    assert elb.describe_target_groups(LoadBalancerArn=lb["LoadBalancerArn"])["TargetGroups"] == []
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": a["TargetGroupArn"]}])
    got = elb.describe_target_groups(LoadBalancerArn=lb["LoadBalancerArn"])["TargetGroups"]
    assert [g["TargetGroupArn"] for g in got] == [a["TargetGroupArn"]]
    assert got[0]["LoadBalancerArns"] == [lb["LoadBalancerArn"]]

    first = elb.describe_target_groups(PageSize=1)
    assert len(first["TargetGroups"]) == 1 and first["NextMarker"]
    second = elb.describe_target_groups(PageSize=1, Marker=first["NextMarker"])
    assert {first["TargetGroups"][0]["TargetGroupName"], second["TargetGroups"][0]["TargetGroupName"]} == {
        "dtg-a", "dtg-b"}
    assert "NextMarker" not in second

    with pytest.raises(ClientError) as e:
        elb.describe_target_groups(Names=["dtg-a", "dtg-missing"])
    assert _code(e) == "TargetGroupNotFound"
    with pytest.raises(ClientError) as e:
        elb.describe_target_groups(TargetGroupArns=[a["TargetGroupArn"] + "0"])
    assert _code(e) == "TargetGroupNotFound"
    with pytest.raises(ClientError) as e:
        elb.describe_target_groups(LoadBalancerArn=lb["LoadBalancerArn"] + "0")
    assert _code(e) == "LoadBalancerNotFound"


def test_set_subnets_moves_zones_within_the_load_balancers_vpc(aws):
    ec2, elb, vpc, _ = default_setup(aws)
    defaults = sorted(ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"],
                      key=lambda s: s["AvailabilityZone"])
    assert len(defaults) >= 3
    lb = elb.create_load_balancer(Name="subnets", Subnets=[s["SubnetId"] for s in defaults[:2]])["LoadBalancers"][0]
    arn = lb["LoadBalancerArn"]

    out = elb.set_subnets(LoadBalancerArn=arn, Subnets=[s["SubnetId"] for s in defaults[:3]])
    assert {z["SubnetId"] for z in out["AvailabilityZones"]} == {s["SubnetId"] for s in defaults[:3]}
    assert out["IpAddressType"] == "ipv4"
    described = elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
    assert {z["ZoneName"] for z in described["AvailabilityZones"]} == {s["AvailabilityZone"] for s in defaults[:3]}
    assert all(z["LoadBalancerAddresses"][0]["IpAddress"] for z in described["AvailabilityZones"])

    out = elb.set_subnets(LoadBalancerArn=arn, Subnets=[s["SubnetId"] for s in defaults[1:3]])
    assert {z["SubnetId"] for z in out["AvailabilityZones"]} == {s["SubnetId"] for s in defaults[1:3]}

    # A load balancer stays in its VPC: subnets of another VPC are refused, and nothing changes.
    other_vpc, other_subnets = _vpc(ec2, "10.77.0.0/16")
    assert other_vpc != vpc
    with pytest.raises(ClientError) as e:
        elb.set_subnets(LoadBalancerArn=arn, Subnets=other_subnets)
    assert _code(e) == "InvalidConfigurationRequest"
    described = elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
    assert described["VpcId"] == vpc
    assert {z["SubnetId"] for z in described["AvailabilityZones"]} == {s["SubnetId"] for s in defaults[1:3]}

    with pytest.raises(ClientError) as e:  # an ALB needs two zones
        elb.set_subnets(LoadBalancerArn=arn, Subnets=[defaults[0]["SubnetId"]])
    assert _code(e) == "ValidationError"
    with pytest.raises(ClientError) as e:
        elb.set_subnets(LoadBalancerArn=arn, Subnets=[defaults[0]["SubnetId"], "subnet-0123456789abcdef0"])
    assert _code(e) == "SubnetNotFound"
    with pytest.raises(ClientError) as e:
        elb.set_subnets(LoadBalancerArn=arn + "0", Subnets=[s["SubnetId"] for s in defaults[:2]])
    assert _code(e) == "LoadBalancerNotFound"


def test_set_security_groups_replaces_the_groups_of_the_same_vpc(aws):
    ec2, elb, vpc, subnets = default_setup(aws)
    sg1 = ec2.create_security_group(GroupName="lb-sg1", Description="one", VpcId=vpc)["GroupId"]
    sg2 = ec2.create_security_group(GroupName="lb-sg2", Description="two", VpcId=vpc)["GroupId"]
    lb = elb.create_load_balancer(Name="sgs", Subnets=subnets)["LoadBalancers"][0]
    arn = lb["LoadBalancerArn"]
    assert len(lb["SecurityGroups"]) == 1  # the VPC's default group

    out = elb.set_security_groups(LoadBalancerArn=arn, SecurityGroups=[sg1, sg2])
    assert sorted(out["SecurityGroupIds"]) == sorted([sg1, sg2])
    assert sorted(elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]["SecurityGroups"]) == \
        sorted([sg1, sg2])
    out = elb.set_security_groups(LoadBalancerArn=arn, SecurityGroups=[sg2])
    assert out["SecurityGroupIds"] == [sg2]

    with pytest.raises(ClientError) as e:
        elb.set_security_groups(LoadBalancerArn=arn, SecurityGroups=["sg-0123456789abcdef0"])
    assert _code(e) == "InvalidSecurityGroup"
    other_vpc, _ = _vpc(ec2, "10.78.0.0/16")
    foreign = ec2.create_security_group(GroupName="elsewhere", Description="x", VpcId=other_vpc)["GroupId"]
    with pytest.raises(ClientError) as e:
        elb.set_security_groups(LoadBalancerArn=arn, SecurityGroups=[foreign])
    assert _code(e) == "InvalidSecurityGroup"
    assert elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]["SecurityGroups"] == [sg2]

    # An NLB created without security groups never gets any (AWS: only one created with some can change them).
    nlb = elb.create_load_balancer(Name="sgs-nlb", Type="network", Subnets=subnets[:1])["LoadBalancers"][0]
    with pytest.raises(ClientError) as e:
        elb.set_security_groups(LoadBalancerArn=nlb["LoadBalancerArn"], SecurityGroups=[sg1])
    assert _code(e) == "InvalidConfigurationRequest"
    with_groups = elb.create_load_balancer(Name="sgs-nlb2", Type="network", Subnets=subnets[:1],
                                           SecurityGroups=[sg1])["LoadBalancers"][0]
    out = elb.set_security_groups(LoadBalancerArn=with_groups["LoadBalancerArn"], SecurityGroups=[sg2])
    assert out["SecurityGroupIds"] == [sg2]


def test_set_ip_address_type_needs_ipv6_subnets_for_dualstack(aws):
    # kumo's VPCs have no IPv6 block (services/ec2/subnets.py), so every dual-stack request is refused here.
    _ec2, elb, _vpc_id, subnets = default_setup(aws)
    lb = elb.create_load_balancer(Name="ipv4only", Subnets=subnets)["LoadBalancers"][0]
    arn = lb["LoadBalancerArn"]
    assert lb["IpAddressType"] == "ipv4"
    with pytest.raises(ClientError) as e:  # the default subnets have no IPv6 CIDR block
        elb.set_ip_address_type(LoadBalancerArn=arn, IpAddressType="dualstack")
    assert _code(e) == "ValidationError"
    assert elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]["IpAddressType"] == "ipv4"
    with pytest.raises(ClientError) as e:
        elb.set_ip_address_type(LoadBalancerArn=arn, IpAddressType="ipv5")
    assert _code(e) == "ValidationError"
    with pytest.raises(ClientError) as e:
        elb.set_ip_address_type(LoadBalancerArn=arn + "0", IpAddressType="ipv4")
    assert _code(e) == "LoadBalancerNotFound"
    out = elb.set_ip_address_type(LoadBalancerArn=arn, IpAddressType="ipv4")
    assert out["IpAddressType"] == "ipv4"
    nlb = elb.create_load_balancer(Name="ipv4nlb", Type="network", Subnets=subnets[:1])["LoadBalancers"][0]
    with pytest.raises(ClientError) as e:  # an ALB-only address type
        elb.set_ip_address_type(LoadBalancerArn=nlb["LoadBalancerArn"], IpAddressType="dualstack-without-public-ipv4")
    assert _code(e) == "ValidationError"
