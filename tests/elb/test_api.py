"""The Classic ELB API without traffic: records, defaults, attributes, policies, tags, paging and errors."""

import json

import pytest
from botocore.exceptions import ClientError

from .conftest import nodes

LISTENER = {"Protocol": "HTTP", "LoadBalancerPort": 8080, "InstancePort": 8080}


def error(exc_info) -> tuple[str, int]:
    r = exc_info.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def test_create_describe_delete_with_aws_defaults(aws, account, endpoint):
    elb, ec2 = aws("elb"), aws("ec2")
    sg = ec2.create_security_group(GroupName="lb", Description="lb")["GroupId"]
    subnets = {s["AvailabilityZone"]: s["SubnetId"] for s in ec2.describe_subnets(
        Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]}
    dns = elb.create_load_balancer(LoadBalancerName="front", Listeners=[LISTENER],
                                   Subnets=[subnets["us-east-1a"], subnets["us-east-1c"]], SecurityGroups=[sg],
                                   Tags=[{"Key": "team", "Value": "web"}])["DNSName"]
    assert dns.startswith("front-") and dns.endswith(".us-east-1.elb.amazonaws.com")
    lb = elb.describe_load_balancers(LoadBalancerNames=["front"])["LoadBalancerDescriptions"][0]
    assert lb["DNSName"] == lb["CanonicalHostedZoneName"] == dns
    assert lb["CanonicalHostedZoneNameID"] == "Z35SXDOTRQ7X7K"
    assert lb["Scheme"] == "internet-facing" and lb["AvailabilityZones"] == ["us-east-1a", "us-east-1c"]
    assert lb["Subnets"] == [subnets["us-east-1a"], subnets["us-east-1c"]]
    assert lb["SecurityGroups"] == [sg] and lb["SourceSecurityGroup"] == {"OwnerAlias": account, "GroupName": "lb"}
    assert lb["HealthCheck"] == {"Target": "TCP:8080", "Interval": 30, "Timeout": 5, "UnhealthyThreshold": 2,
                                 "HealthyThreshold": 10}
    assert lb["ListenerDescriptions"] == [{"Listener": {**LISTENER, "InstanceProtocol": "HTTP"}, "PolicyNames": []}]
    assert lb["Instances"] == []
    assert elb.describe_tags(LoadBalancerNames=["front"])["TagDescriptions"] == [
        {"LoadBalancerName": "front", "Tags": [{"Key": "team", "Value": "web"}]}]
    # The same request again is answered with the same load balancer, as on AWS.
    assert elb.create_load_balancer(LoadBalancerName="front", Listeners=[LISTENER],
                                    Subnets=[subnets["us-east-1a"]])["DNSName"] == dns

    internal = elb.create_load_balancer(LoadBalancerName="back", Listeners=[LISTENER],
                                        AvailabilityZones=["us-east-1b"], Scheme="internal")["DNSName"]
    assert internal.startswith("internal-back-")
    back = elb.describe_load_balancers(LoadBalancerNames=["back"])["LoadBalancerDescriptions"][0]
    assert back["SourceSecurityGroup"]["GroupName"] == "default" and back["Subnets"] == [subnets["us-east-1b"]]

    # Node addresses: one per enabled zone, following zone and subnet changes.
    assert set(nodes(endpoint, "front", account)) == {"us-east-1a", "us-east-1c"}
    assert elb.enable_availability_zones_for_load_balancer(
        LoadBalancerName="front", AvailabilityZones=["us-east-1b"])["AvailabilityZones"] == \
        ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert elb.disable_availability_zones_for_load_balancer(
        LoadBalancerName="front", AvailabilityZones=["us-east-1a"])["AvailabilityZones"] == ["us-east-1b", "us-east-1c"]
    assert elb.detach_load_balancer_from_subnets(LoadBalancerName="front", Subnets=[subnets["us-east-1c"]])[
        "Subnets"] == [subnets["us-east-1b"]]
    assert elb.attach_load_balancer_to_subnets(LoadBalancerName="front", Subnets=[subnets["us-east-1d"]])[
        "Subnets"] == [subnets["us-east-1b"], subnets["us-east-1d"]]
    assert set(nodes(endpoint, "front", account)) == {"us-east-1b", "us-east-1d"}
    with pytest.raises(ClientError) as e:
        elb.disable_availability_zones_for_load_balancer(LoadBalancerName="front",
                                                         AvailabilityZones=["us-east-1b", "us-east-1d"])
    assert error(e) == ("InvalidConfigurationRequest", 409)
    assert elb.apply_security_groups_to_load_balancer(LoadBalancerName="front", SecurityGroups=[sg])[
        "SecurityGroups"] == [sg]

    page = elb.describe_load_balancers(PageSize=1)
    assert [d["LoadBalancerName"] for d in page["LoadBalancerDescriptions"]] == ["front"]
    rest = elb.describe_load_balancers(PageSize=1, Marker=page["NextMarker"])
    assert [d["LoadBalancerName"] for d in rest["LoadBalancerDescriptions"]] == ["back"] and "NextMarker" not in rest

    elb.delete_load_balancer(LoadBalancerName="front")
    elb.delete_load_balancer(LoadBalancerName="front")  # gone already: still a success
    assert [d["LoadBalancerName"] for d in elb.describe_load_balancers()["LoadBalancerDescriptions"]] == ["back"]


def test_listeners_attributes_policies_and_tags(aws, account):
    elb = aws("elb")
    elb.create_load_balancer(LoadBalancerName="lb", Listeners=[LISTENER], AvailabilityZones=["us-east-1a"])
    elb.create_load_balancer_listeners(LoadBalancerName="lb", Listeners=[
        {"Protocol": "tcp", "LoadBalancerPort": 2525, "InstancePort": 25}, LISTENER])  # repeating one is fine
    listeners = elb.describe_load_balancers()["LoadBalancerDescriptions"][0]["ListenerDescriptions"]
    assert [ld["Listener"] for ld in listeners] == [
        {"Protocol": "TCP", "LoadBalancerPort": 2525, "InstanceProtocol": "TCP", "InstancePort": 25},
        {**LISTENER, "InstanceProtocol": "HTTP"}]
    elb.delete_load_balancer_listeners(LoadBalancerName="lb", LoadBalancerPorts=[2525, 9999])

    logs = f"logs-{account}"  # access logs need a bucket in the load balancer's region, as on AWS
    aws("s3").create_bucket(Bucket=logs)
    out = elb.modify_load_balancer_attributes(LoadBalancerName="lb", LoadBalancerAttributes={
        "CrossZoneLoadBalancing": {"Enabled": True}, "ConnectionDraining": {"Enabled": True, "Timeout": 30},
        "ConnectionSettings": {"IdleTimeout": 120},
        "AccessLog": {"Enabled": True, "S3BucketName": logs, "S3BucketPrefix": "lb"}})
    assert out["LoadBalancerName"] == "lb"
    attrs = elb.describe_load_balancer_attributes(LoadBalancerName="lb")["LoadBalancerAttributes"]
    assert attrs["CrossZoneLoadBalancing"] == {"Enabled": True}
    assert attrs["ConnectionDraining"] == {"Enabled": True, "Timeout": 30}
    assert attrs["ConnectionSettings"] == {"IdleTimeout": 120}
    assert attrs["AccessLog"] == {"Enabled": True, "S3BucketName": logs, "S3BucketPrefix": "lb", "EmitInterval": 60}
    assert attrs["AdditionalAttributes"] == [{"Key": "elb.http.desyncmitigationmode", "Value": "defensive"}]

    elb.create_app_cookie_stickiness_policy(LoadBalancerName="lb", PolicyName="app", CookieName="SESSION")
    elb.create_lb_cookie_stickiness_policy(LoadBalancerName="lb", PolicyName="session-only")
    elb.create_load_balancer_policy(LoadBalancerName="lb", PolicyName="pp", PolicyTypeName="ProxyProtocolPolicyType",
                                    PolicyAttributes=[{"AttributeName": "ProxyProtocol", "AttributeValue": "true"}])
    lb = elb.describe_load_balancers()["LoadBalancerDescriptions"][0]
    assert lb["Policies"] == {"AppCookieStickinessPolicies": [{"PolicyName": "app", "CookieName": "SESSION"}],
                              "LBCookieStickinessPolicies": [{"PolicyName": "session-only"}],
                              "OtherPolicies": ["pp"]}
    described = elb.describe_load_balancer_policies(LoadBalancerName="lb", PolicyNames=["app"])["PolicyDescriptions"]
    assert described == [{"PolicyName": "app", "PolicyTypeName": "AppCookieStickinessPolicyType",
                          "PolicyAttributeDescriptions": [{"AttributeName": "CookieName",
                                                           "AttributeValue": "SESSION"}]}]
    elb.set_load_balancer_policies_of_listener(LoadBalancerName="lb", LoadBalancerPort=8080, PolicyNames=["app"])
    with pytest.raises(ClientError) as e:
        elb.delete_load_balancer_policy(LoadBalancerName="lb", PolicyName="app")
    assert error(e) == ("InvalidConfigurationRequest", 409)
    with pytest.raises(ClientError) as e:
        elb.set_load_balancer_policies_of_listener(LoadBalancerName="lb", LoadBalancerPort=8080,
                                                   PolicyNames=["app", "session-only"])
    assert error(e)[0] == "InvalidConfigurationRequest"
    elb.set_load_balancer_policies_of_listener(LoadBalancerName="lb", LoadBalancerPort=8080, PolicyNames=[])
    elb.delete_load_balancer_policy(LoadBalancerName="lb", PolicyName="app")
    assert "app" not in [p["PolicyName"] for p in elb.describe_load_balancer_policies(
        LoadBalancerName="lb")["PolicyDescriptions"]]
    predefined = elb.describe_load_balancer_policies()["PolicyDescriptions"]
    assert "ELBSecurityPolicy-2016-08" in [p["PolicyName"] for p in predefined]

    elb.add_tags(LoadBalancerNames=["lb"], Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    elb.remove_tags(LoadBalancerNames=["lb"], Tags=[{"Key": "a"}])
    assert elb.describe_tags(LoadBalancerNames=["lb"])["TagDescriptions"][0]["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ClientError) as e:
        elb.add_tags(LoadBalancerNames=["lb"], Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert error(e) == ("TooManyTags", 400)
    limits = {x["Name"]: x["Max"] for x in elb.describe_account_limits()["Limits"]}
    assert limits == {"classic-load-balancers": "20", "classic-listeners": "100",
                      "classic-registered-instances": "1000"}


def test_errors_in_aws_codes(aws, endpoint, account):
    elb, ec2 = aws("elb"), aws("ec2")
    with pytest.raises(elb.exceptions.AccessPointNotFoundException) as e:
        elb.describe_load_balancers(LoadBalancerNames=["ghost"])
    assert error(e) == ("LoadBalancerNotFound", 400)
    assert e.value.response["Error"]["Message"] == "There is no ACTIVE Load Balancer named 'ghost'"
    for call in (lambda: elb.describe_instance_health(LoadBalancerName="ghost"),
                 lambda: elb.configure_health_check(LoadBalancerName="ghost", HealthCheck={
                     "Target": "TCP:80", "Interval": 30, "Timeout": 5, "UnhealthyThreshold": 2,
                     "HealthyThreshold": 2})):
        with pytest.raises(ClientError) as e:
            call()
        assert error(e)[0] == "LoadBalancerNotFound"

    elb.create_load_balancer(LoadBalancerName="lb", Listeners=[LISTENER], AvailabilityZones=["us-east-1a"])
    cases = [
        (lambda: elb.create_load_balancer(LoadBalancerName="lb", Listeners=[{**LISTENER, "InstancePort": 81}],
                                          AvailabilityZones=["us-east-1a"]), "DuplicateLoadBalancerName"),
        (lambda: elb.create_load_balancer(LoadBalancerName="-bad-", Listeners=[LISTENER],
                                          AvailabilityZones=["us-east-1a"]), "ValidationError"),
        (lambda: elb.create_load_balancer(LoadBalancerName="nozones", Listeners=[LISTENER]), "ValidationError"),
        (lambda: elb.create_load_balancer(LoadBalancerName="badzone", Listeners=[LISTENER],
                                          AvailabilityZones=["us-east-1z"]), "ValidationError"),
        (lambda: elb.create_load_balancer(LoadBalancerName="badnet", Listeners=[LISTENER],
                                          Subnets=["subnet-00000000"]), "SubnetNotFound"),
        (lambda: elb.create_load_balancer(LoadBalancerName="badsg", Listeners=[LISTENER],
                                          AvailabilityZones=["us-east-1a"], SecurityGroups=["sg-0000"]),
         "InvalidSecurityGroup"),
        (lambda: elb.create_load_balancer(LoadBalancerName="scheme", Listeners=[LISTENER],
                                          AvailabilityZones=["us-east-1a"], Scheme="public"), "InvalidScheme"),
        (lambda: elb.create_load_balancer_listeners(LoadBalancerName="lb", Listeners=[
            {**LISTENER, "InstancePort": 9090}]), "DuplicateListener"),
        (lambda: elb.create_load_balancer_listeners(LoadBalancerName="lb", Listeners=[
            {"Protocol": "UDP", "LoadBalancerPort": 5000, "InstancePort": 5000}]), "UnsupportedProtocol"),
        (lambda: elb.create_load_balancer_listeners(LoadBalancerName="lb", Listeners=[
            {"Protocol": "HTTP", "LoadBalancerPort": 5000, "InstancePort": 5000, "InstanceProtocol": "TCP"}]),
         "InvalidConfigurationRequest"),
        (lambda: elb.create_load_balancer_listeners(LoadBalancerName="lb", Listeners=[
            {"Protocol": "HTTP", "LoadBalancerPort": 65536, "InstancePort": 5000}]), "ValidationError"),
        (lambda: elb.create_load_balancer_listeners(LoadBalancerName="lb", Listeners=[
            {"Protocol": "HTTPS", "LoadBalancerPort": 8443, "InstancePort": 80,
             "SSLCertificateId": f"arn:aws:acm:us-east-1:{account}:certificate/nope"}]), "CertificateNotFound"),
        (lambda: elb.create_load_balancer_listeners(LoadBalancerName="lb", Listeners=[
            {"Protocol": "SSL", "LoadBalancerPort": 8443, "InstancePort": 80,
             "SSLCertificateId": f"arn:aws:iam::{account}:server-certificate/web"}]), "CertificateNotFound"),
        (lambda: elb.set_load_balancer_listener_ssl_certificate(
            LoadBalancerName="lb", LoadBalancerPort=8080, SSLCertificateId="arn:x"), "InvalidConfigurationRequest"),
        (lambda: elb.set_load_balancer_listener_ssl_certificate(
            LoadBalancerName="lb", LoadBalancerPort=443, SSLCertificateId="arn:x"), "ListenerNotFound"),
        (lambda: elb.set_load_balancer_policies_of_listener(
            LoadBalancerName="lb", LoadBalancerPort=8080, PolicyNames=["nope"]), "PolicyNotFound"),
        (lambda: elb.set_load_balancer_policies_of_listener(
            LoadBalancerName="lb", LoadBalancerPort=1, PolicyNames=[]), "ListenerNotFound"),
        (lambda: elb.describe_load_balancer_policies(LoadBalancerName="lb", PolicyNames=["nope"]), "PolicyNotFound"),
        (lambda: elb.create_load_balancer_policy(LoadBalancerName="lb", PolicyName="x", PolicyTypeName="Nope"),
         "PolicyTypeNotFound"),
        (lambda: elb.register_instances_with_load_balancer(
            LoadBalancerName="lb", Instances=[{"InstanceId": "i-0123456789abcdef0"}]), "InvalidInstance"),
        (lambda: elb.deregister_instances_from_load_balancer(
            LoadBalancerName="lb", Instances=[{"InstanceId": "i-0123456789abcdef0"}]), "InvalidInstance"),
        (lambda: elb.describe_instance_health(
            LoadBalancerName="lb", Instances=[{"InstanceId": "i-0123456789abcdef0"}]), "InvalidInstance"),
        (lambda: elb.configure_health_check(LoadBalancerName="lb", HealthCheck={
            "Target": "HTTP:80", "Interval": 30, "Timeout": 5, "UnhealthyThreshold": 2, "HealthyThreshold": 2}),
         "ValidationError"),
        (lambda: elb.configure_health_check(LoadBalancerName="lb", HealthCheck={
            "Target": "TCP:80", "Interval": 5, "Timeout": 5, "UnhealthyThreshold": 2, "HealthyThreshold": 2}),
         "ValidationError"),
        (lambda: elb.modify_load_balancer_attributes(LoadBalancerName="lb", LoadBalancerAttributes={
            "AccessLog": {"Enabled": True}}), "InvalidConfigurationRequest"),
        (lambda: elb.modify_load_balancer_attributes(LoadBalancerName="lb", LoadBalancerAttributes={
            "AdditionalAttributes": [{"Key": "nope", "Value": "x"}]}), "LoadBalancerAttributeNotFound"),
        (lambda: elb.create_lb_cookie_stickiness_policy(LoadBalancerName="lb", PolicyName="bad name!"),
         "ValidationError"),
        (lambda: elb.describe_load_balancers(Marker="garbage"), "ValidationError"),
    ]
    for call, expected in cases:
        with pytest.raises(ClientError) as e:
            call()
        assert error(e)[0] == expected, (expected, e.value.response["Error"])
        assert error(e)[1] in (400, 409)
    elb.create_lb_cookie_stickiness_policy(LoadBalancerName="lb", PolicyName="dup")
    with pytest.raises(ClientError) as e:
        elb.create_lb_cookie_stickiness_policy(LoadBalancerName="lb", PolicyName="dup")
    assert error(e) == ("DuplicatePolicyName", 400)
    elb.create_load_balancer_listeners(LoadBalancerName="lb", Listeners=[
        {"Protocol": "TCP", "LoadBalancerPort": 2000, "InstancePort": 2000}])
    with pytest.raises(ClientError) as e:  # stickiness needs an HTTP(S) listener
        elb.set_load_balancer_policies_of_listener(LoadBalancerName="lb", LoadBalancerPort=2000, PolicyNames=["dup"])
    assert error(e) == ("InvalidConfigurationRequest", 409)

    # An instance of another VPC cannot be registered.
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]
    inst = ec2.run_instances(ImageId="ami-0a0000000000a2023", InstanceType="t3.nano", MinCount=1, MaxCount=1,
                             SubnetId=subnet["SubnetId"])["Instances"][0]["InstanceId"]
    with pytest.raises(ClientError) as e:
        elb.register_instances_with_load_balancer(LoadBalancerName="lb", Instances=[{"InstanceId": inst}])
    assert error(e) == ("InvalidInstance", 400)

    # Operations kumo does not implement say so; they never pretend to succeed.
    with pytest.raises(ClientError) as e:
        elb.describe_load_balancer_policy_types()
    assert error(e) == ("NotImplemented", 501)


def test_through_the_aws_cli(aws_cli, account):
    out = json.loads(aws_cli("elb", "create-load-balancer", "--load-balancer-name", "cli",
                             "--listeners", "Protocol=HTTP,LoadBalancerPort=8080,InstanceProtocol=HTTP,InstancePort=80",
                             "--availability-zones", "us-east-1a").stdout)
    assert out["DNSName"].startswith("cli-")
    hc = json.loads(aws_cli("elb", "configure-health-check", "--load-balancer-name", "cli", "--health-check",
                            "Target=HTTP:80/ping,Interval=10,Timeout=3,UnhealthyThreshold=2,HealthyThreshold=2").stdout)
    assert hc["HealthCheck"]["Target"] == "HTTP:80/ping"
    described = json.loads(aws_cli("elb", "describe-load-balancers", "--load-balancer-names", "cli").stdout)
    assert described["LoadBalancerDescriptions"][0]["HealthCheck"]["Interval"] == 10
    missing = aws_cli("elb", "describe-load-balancers", "--load-balancer-names", "nope", check=False)
    assert missing.returncode != 0 and "LoadBalancerNotFound" in missing.stderr
    aws_cli("elb", "delete-load-balancer", "--load-balancer-name", "cli")
    assert json.loads(aws_cli("elb", "describe-load-balancers").stdout)["LoadBalancerDescriptions"] == []


def test_listener_on_any_vpc_port(aws):
    """Regression (issue 16): port 81 was refused with EC2-Classic's port list; in a VPC AWS takes 1-65535."""
    elb = aws("elb")
    elb.create_load_balancer(LoadBalancerName="port81", AvailabilityZones=["us-east-1a"], Listeners=[
        {"Protocol": "HTTP", "LoadBalancerPort": 81, "InstancePort": 8080}])
    elb.create_load_balancer_listeners(LoadBalancerName="port81", Listeners=[
        {"Protocol": "TCP", "LoadBalancerPort": 1, "InstancePort": 22}])
    ports = sorted(ld["Listener"]["LoadBalancerPort"] for ld in elb.describe_load_balancers(
        LoadBalancerNames=["port81"])["LoadBalancerDescriptions"][0]["ListenerDescriptions"])
    assert ports == [1, 81]
    elb.delete_load_balancer(LoadBalancerName="port81")
