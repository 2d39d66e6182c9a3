"""A change that rolls back leaves the load balancer's in-memory health as it was.

No client request fails after its registration changes (every check comes first), so the rollback is made
the way a service calling ELB's facade inside a transaction of its own would meet it: a later step of the
same transaction fails.
"""

import os

import pytest

from .conftest import pass_checks, start_web

PORT = 80 if os.geteuid() == 0 else 8080
HTTP = [{"Protocol": "HTTP", "LoadBalancerPort": PORT, "InstancePort": 8080}]


def test_a_rolled_back_deregistration_keeps_the_instance_in_service(aws, account, kumo_server):
    ec2, elb = aws("ec2"), aws("elb")
    (web,) = start_web(ec2, ["us-east-1a"])
    iid = web["InstanceId"]
    elb.create_load_balancer(LoadBalancerName="keep", Listeners=HTTP, AvailabilityZones=["us-east-1a"])
    elb.configure_health_check(LoadBalancerName="keep", HealthCheck={
        "Target": "HTTP:8080/", "Interval": 30, "Timeout": 5, "UnhealthyThreshold": 2, "HealthyThreshold": 2})
    elb.register_instances_with_load_balancer(LoadBalancerName="keep", Instances=[{"InstanceId": iid}])
    pass_checks(kumo_server, elb, "keep", [iid])
    kumo = kumo_server.kumo

    def deregister_then_fail():
        from kumo.services.elb import internal

        with kumo.store.transaction():
            # Connection draining is off, so a committed deregistration would drop the instance's health.
            internal.deregister(kumo, f"{account}/us-east-1", "keep", iid)
            raise RuntimeError("a later step of the same transaction fails")

    with pytest.raises(RuntimeError):
        kumo_server.run(deregister_then_fail)
    assert elb.describe_instance_health(LoadBalancerName="keep")["InstanceStates"] == [
        {"InstanceId": iid, "State": "InService", "ReasonCode": "N/A", "Description": "N/A"}]

    # The same change committed does drop it: the instance is no longer registered.
    elb.deregister_instances_from_load_balancer(LoadBalancerName="keep", Instances=[{"InstanceId": iid}])
    elb.register_instances_with_load_balancer(LoadBalancerName="keep", Instances=[{"InstanceId": iid}])
    state = elb.describe_instance_health(LoadBalancerName="keep")["InstanceStates"][0]
    assert state["State"] == "OutOfService" and state["InstanceId"] == iid
