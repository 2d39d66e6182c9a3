"""Every kind of workload starts through the one compute interface, and is found by the same calls.

Each case starts one workload through its service's API (boto3 against a real kumo), then finds it through
the compute layer alone: the backend lists its tag, says it is alive, measures its usage, and after the
service stops it, says it is not.  A new kind of workload adds a starter to ``STARTERS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest

from kumo.dataplane import compute
from kumo.dataplane.compute import Handle

from ..ec2.conftest import AMI, console, terminate_all, wait_state
from ..lambda_.conftest import TRUST, wait_active, zip_of


@dataclass
class Started:
    handle: Handle  # as the service recorded it
    stop: Callable[[], None]  # stop it through the service's API, and wait until the service says so


def start_instance(aws, server) -> Started:
    ec2 = aws("ec2")
    iid = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1,
                            UserData="#!/bin/sh\necho booted-here\n")["Instances"][0]["InstanceId"]
    wait_state(ec2, [iid], "running")
    console(ec2, iid, "booted-here")
    scope = f"{aws.account}/{aws.region}"
    record = server.kumo.store.table(scope, "ec2.instance").get(iid)
    handle = Handle.from_record(record["_boot"])

    def stop():
        ec2.stop_instances(InstanceIds=[iid])
        wait_state(ec2, [iid], "stopped")

    return Started(handle, stop)


def start_environment(aws, server) -> Started:
    iam, lam = aws("iam"), aws("lambda")
    role = iam.create_role(RoleName="one-interface", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    lam.create_function(FunctionName="one-interface", Runtime="python3.12", Role=role,
                        Handler="lambda_function.handler",
                        Code={"ZipFile": zip_of({"lambda_function.py": "def handler(e, c):\n    return 'here'\n"})})
    wait_active(lam, "one-interface")
    assert lam.invoke(FunctionName="one-interface", Payload=b"{}")["Payload"].read() == b'"here"'
    # The environment stays warm after its invocation; the service names its compute handle.
    handles = server.kumo.services["lambda_"].handles(aws.account, aws.region, "one-interface")
    assert len(handles) == 1

    def stop():  # deleting a function stops its environments before DeleteFunction answers
        lam.delete_function(FunctionName="one-interface")

    return Started(handles[0], stop)


STARTERS = {"ec2-instance": start_instance, "lambda-environment": start_environment}


@pytest.fixture(autouse=True)
def cleanup(aws):
    yield
    terminate_all(aws("ec2"))
    lam = aws("lambda")
    for fn in lam.list_functions()["Functions"]:
        lam.delete_function(FunctionName=fn["FunctionName"])


@pytest.mark.parametrize("kind", sorted(STARTERS))
def test_workload_found_through_the_compute_layer(kind, aws, kumo_server):
    started = STARTERS[kind](aws, kumo_server)
    backend = compute.backend(kumo_server.kumo.settings)
    handle = started.handle
    assert handle.workload in backend.running(handle.workload)
    assert backend.alive(handle)
    assert backend.adopt(Handle.from_record(handle.record())) is not None  # as a restarted kumo would
    usage = backend.usage(handle)
    assert usage.processes >= 1
    assert usage.cpu_seconds >= 0 and usage.read_ops + usage.write_ops > 0
    pids = backend.pids(handle)
    assert handle.pid in pids
    started.stop()
    assert not backend.alive(handle)
    assert backend.pids(handle) == []
    assert backend.adopt(handle) is None
