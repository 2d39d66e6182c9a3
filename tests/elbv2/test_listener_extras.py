"""Listener attributes (an NLB's TCP idle timeout applied by the data plane) and capacity reservations."""

import socket

import pytest
from botocore.exceptions import ClientError

from .conftest import default_setup, node
from .test_nlb import _nlb


def _code(e) -> str:
    return e.value.response["Error"]["Code"]


def test_nlb_tcp_idle_timeout_closes_idle_connections_on_kumo_clock(aws, tcp_server, kumo_server):
    def handler(conn, addr):
        with conn:
            while conn.recv(4096):
                pass

    server = tcp_server(handler)
    elb, lb, _ = _nlb(aws, [("127.0.0.1", server.port)])
    listener = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"][0]["ListenerArn"]
    attrs = elb.describe_listener_attributes(ListenerArn=listener)["Attributes"]
    assert attrs == [{"Key": "tcp.idle_timeout.seconds", "Value": "350"}]
    out = elb.modify_listener_attributes(ListenerArn=listener,
                                         Attributes=[{"Key": "tcp.idle_timeout.seconds", "Value": "60"}])
    assert out["Attributes"] == [{"Key": "tcp.idle_timeout.seconds", "Value": "60"}]
    with socket.create_connection((node(lb), 7000), timeout=10) as c:
        c.sendall(b"hello")
        kumo_server.advance(30)
        c.settimeout(1.0)
        with pytest.raises(socket.timeout):
            c.recv(1)  # 30 s idle: still open
        kumo_server.advance(40)
        c.settimeout(10.0)
        assert c.recv(1) == b""  # 70 s idle, past the listener's 60: the load balancer closed it
    for bad in ("59", "6001", "x"):
        with pytest.raises(ClientError) as e:
            elb.modify_listener_attributes(ListenerArn=listener,
                                           Attributes=[{"Key": "tcp.idle_timeout.seconds", "Value": bad}])
        assert _code(e) == "ValidationError"
    with pytest.raises(ClientError) as e:
        elb.modify_listener_attributes(ListenerArn=listener, Attributes=[
            {"Key": "routing.http.response.server.enabled", "Value": "false"}])
    assert _code(e) == "ValidationError"  # an ALB attribute on an NLB listener


def test_alb_listener_attributes_and_capacity_reservation(aws):
    _ec2, elb, vpc, subnets = default_setup(aws)
    lb = elb.create_load_balancer(Name="extras", Subnets=subnets)["LoadBalancers"][0]
    arn = lb["LoadBalancerArn"]
    tg = elb.create_target_group(Name="extras-tg", Protocol="HTTP", Port=8080, VpcId=vpc)["TargetGroups"][0]
    listener = elb.create_listener(LoadBalancerArn=arn, Protocol="HTTP", Port=8082, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])["Listeners"][0]["ListenerArn"]
    attrs = {a["Key"]: a["Value"] for a in elb.describe_listener_attributes(ListenerArn=listener)["Attributes"]}
    assert attrs["routing.http.response.server.enabled"] == "true"
    assert attrs["routing.http.request.x_amzn_tls_version.header_name"] == "X-Amzn-Tls-Version"
    elb.modify_listener_attributes(ListenerArn=listener, Attributes=[
        {"Key": "routing.http.response.server.enabled", "Value": "false"}])
    attrs = {a["Key"]: a["Value"] for a in elb.describe_listener_attributes(ListenerArn=listener)["Attributes"]}
    assert attrs["routing.http.response.server.enabled"] == "false"
    with pytest.raises(ClientError) as e:
        elb.modify_listener_attributes(ListenerArn=listener, Attributes=[{"Key": "nope.enabled", "Value": "1"}])
    assert _code(e) == "ValidationError"
    with pytest.raises(ClientError) as e:
        elb.describe_listener_attributes(ListenerArn=listener + "0")
    assert _code(e) == "ListenerNotFound"

    empty = elb.describe_capacity_reservation(LoadBalancerArn=arn)
    assert empty["CapacityReservationState"] == [] and "MinimumLoadBalancerCapacity" not in empty
    out = elb.modify_capacity_reservation(LoadBalancerArn=arn, MinimumLoadBalancerCapacity={"CapacityUnits": 400})
    assert out["MinimumLoadBalancerCapacity"] == {"CapacityUnits": 400}
    assert {s["State"]["Code"] for s in out["CapacityReservationState"]} == {"provisioned"}
    assert len(out["CapacityReservationState"]) == len(subnets)
    with pytest.raises(ClientError) as e:
        elb.modify_capacity_reservation(LoadBalancerArn=arn, MinimumLoadBalancerCapacity={"CapacityUnits": 5})
    assert _code(e) == "InvalidConfigurationRequest"
    for units in (300, 200, 150, 120):  # four decreases a day
        elb.modify_capacity_reservation(LoadBalancerArn=arn, MinimumLoadBalancerCapacity={"CapacityUnits": units})
    assert elb.describe_capacity_reservation(LoadBalancerArn=arn)["DecreaseRequestsRemaining"] == 0
    with pytest.raises(ClientError) as e:
        elb.modify_capacity_reservation(LoadBalancerArn=arn, ResetCapacityReservation=True)
    assert _code(e) == "CapacityDecreaseRequestLimitExceeded"
    elb.delete_load_balancer(LoadBalancerArn=arn)
