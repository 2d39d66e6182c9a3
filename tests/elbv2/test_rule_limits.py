"""AWS's documented limits on listener rule conditions: values, wildcards, lengths, one of each kind."""

import pytest
from botocore.exceptions import ClientError

from .conftest import default_setup


@pytest.fixture
def listener(aws):
    _ec2, elb, vpc, subnets = default_setup(aws)
    lb = elb.create_load_balancer(Name="limits", Subnets=subnets)["LoadBalancers"][0]
    tg = elb.create_target_group(Name="limits-tg", Protocol="HTTP", Port=8080, VpcId=vpc)["TargetGroups"][0]
    arn = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=8081, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])["Listeners"][0]["ListenerArn"]
    yield elb, arn, tg["TargetGroupArn"]
    elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])


def _rule(elb, listener_arn, tg, conditions, priority=1):
    return elb.create_rule(ListenerArn=listener_arn, Priority=priority, Conditions=conditions,
                           Actions=[{"Type": "forward", "TargetGroupArn": tg}])


def _refused(elb, listener_arn, tg, conditions) -> str:
    with pytest.raises(ClientError) as e:
        _rule(elb, listener_arn, tg, conditions, priority=99)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    return e.value.response["Error"]["Message"]


def test_five_condition_values_per_rule(listener):
    elb, arn, tg = listener
    five = [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/a", "/b", "/c"]}},
            {"Field": "host-header", "HostHeaderConfig": {"Values": ["a.example.com", "b.example.com"]}}]
    _rule(elb, arn, tg, five)
    six = five + [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Env", "Values": ["prod"]}}]
    assert _refused(elb, arn, tg, six) == "A rule can only have '5' condition values"
    pairs = [{"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": f"k{i}", "Value": "v"}
                                                                        for i in range(6)]}}]
    assert _refused(elb, arn, tg, pairs) == "A rule can only have '5' condition values"


def test_five_wildcards_per_rule(listener):
    elb, arn, tg = listener
    _rule(elb, arn, tg, [{"Field": "path-pattern", "Values": ["/a*/b*/c?", "/d*", "/e"]}])
    many = [{"Field": "path-pattern", "Values": ["/a*/b*/c*", "/d*/e*/f*"]}]
    assert _refused(elb, arn, tg, many) == "A rule can only have '5' wildcards"


def test_one_condition_of_each_kind_and_value_syntax(listener):
    elb, arn, tg = listener
    twice = [{"Field": "path-pattern", "Values": ["/a"]}, {"Field": "path-pattern", "Values": ["/b"]}]
    assert _refused(elb, arn, tg, twice) == "A rule can only have one 'path-pattern' condition"
    # http-header conditions may repeat.
    _rule(elb, arn, tg, [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "A", "Values": ["1"]}},
                         {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "B", "Values": ["2"]}}])
    long_path = "/" + "p" * 128
    assert long_path in _refused(elb, arn, tg, [{"Field": "path-pattern", "Values": [long_path]}])
    _refused(elb, arn, tg, [{"Field": "host-header", "Values": ["bad host!"]}])
    _refused(elb, arn, tg, [{"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["get"]}}])
    _refused(elb, arn, tg, [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X" * 41,
                                                                        "Values": ["v"]}}])
    _refused(elb, arn, tg, [{"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.300/8"]}}])
    _refused(elb, arn, tg, [{"Field": "query-string", "QueryStringConfig": {"Values": [{"Value": "v" * 129}]}}])
    # ModifyRule is held to the same limits.
    rule = elb.describe_rules(ListenerArn=arn)["Rules"][0]["RuleArn"]
    with pytest.raises(ClientError):
        elb.modify_rule(RuleArn=rule, Conditions=twice)
