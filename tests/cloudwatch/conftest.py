"""CloudWatch clients in each of its three protocols.

CloudWatch's model lists smithy-rpc-v2-cbor, json and query; current botocore
picks json from that list (its priority order puts json first).  Each protocol
is reached by a copy of botocore's model whose metadata names only that
protocol, loaded from a data path of its own; the query copy is what awscli
1.x and older SDKs send.  Every client asserts the protocol it resolved.  ``aws_cli_query`` runs the ``aws`` command
with that model first on its data path (AWS_DATA_PATH), so ``aws cloudwatch``
really speaks query.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import boto3
import botocore.loaders
import botocore.session
import pytest
from botocore.config import Config

from tests.conftest import REGION, own_kumo

PROTOCOLS = ("smithy-rpc-v2-cbor", "json", "query")


@pytest.fixture(scope="session")
def kumo_server():
    """CloudWatch's tests get a kumo whose clock moves only when a test advances it.

    On a clock running at real time an evaluation tick could land between a
    SetAlarmState and the assertion that reads it (the tick re-evaluates the
    alarm, as on AWS), so alarm tests would be flaky.
    """
    with own_kumo("kumo-cw-test-", time_scale=0) as server:
        yield server


@pytest.fixture(scope="session")
def endpoint(kumo_server) -> str:
    return kumo_server.endpoint
STOCK = "boto3"  # botocore's own model, as users run it (resolves to json today)


def _write_model(root, protocol: str) -> str:
    loader = botocore.loaders.Loader()
    model = copy.deepcopy(loader.load_service_model("cloudwatch", "service-2"))
    version = model["metadata"]["apiVersion"]
    model["metadata"]["protocol"] = protocol
    model["metadata"]["protocols"] = [protocol]
    folder = root / protocol / "cloudwatch" / version
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(model))
    for extra in ("paginators-1", "waiters-2"):
        try:
            data = loader.load_service_model("cloudwatch", extra)
        except Exception:
            continue
        (folder / f"{extra}.json").write_text(json.dumps(data))
    return str(root / protocol)


@pytest.fixture(scope="session")
def cw_model_paths(tmp_path_factory):
    root = tmp_path_factory.mktemp("cw-models")
    return {p: _write_model(root, p) for p in PROTOCOLS}


@pytest.fixture
def cw_clients(endpoint, account, cw_model_paths):
    """``cw_clients(protocol)`` is a CloudWatch client of this test's account speaking ``protocol``."""

    def make(protocol: str = STOCK, region: str = REGION):
        session = botocore.session.get_session()
        if protocol != STOCK:
            session.get_component("data_loader").search_paths.insert(0, cw_model_paths[protocol])
        client = boto3.Session(botocore_session=session).client(
            "cloudwatch", endpoint_url=endpoint, region_name=region, aws_access_key_id=account,
            aws_secret_access_key="test", config=Config(retries={"max_attempts": 1, "mode": "standard"}))
        if protocol != STOCK:
            assert client.meta.service_model.resolved_protocol == protocol
        return client

    return make


@pytest.fixture(params=(STOCK, *PROTOCOLS))
def cw(request, cw_clients):
    """A CloudWatch client; each test using it runs once per protocol."""
    return cw_clients(request.param)


@pytest.fixture
def aws_cli_query(endpoint, account, tmp_path, cw_model_paths):
    """The ``aws`` command speaking query to CloudWatch, as awscli 1.x does."""
    env = dict(os.environ)
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID=account, AWS_SECRET_ACCESS_KEY="test",
               AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE=str(tmp_path / "cfg"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "creds"), AWS_PAGER="",
               AWS_DATA_PATH=cw_model_paths["query"])

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "awscli", *args, "--output", "json", "--debug"]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-3000:]}")
        return proc

    return run


@pytest.fixture
def cleanup_alarms(aws):
    """Delete the test's alarms afterwards, so later clock advances don't keep evaluating them."""
    yield
    client = aws("cloudwatch")
    found = client.describe_alarms(AlarmTypes=["MetricAlarm", "CompositeAlarm"], MaxRecords=100)
    names = [a["AlarmName"] for a in found["MetricAlarms"] + found["CompositeAlarms"]]
    if names:
        client.delete_alarms(AlarmNames=names)


class Minutes:
    """Drive one metric minute by minute on kumo's clock: put a value, let the minute end."""

    def __init__(self, server, client, namespace: str, name: str, dims=None):
        self.server, self.client, self.namespace, self.name, self.dims = server, client, namespace, name, dims or []

    def now(self) -> float:
        return self.server.kumo.clock.now()

    def put(self, value: float | None, advance: float = 60) -> None:
        if value is not None:
            self.client.put_metric_data(Namespace=self.namespace, MetricData=[
                {"MetricName": self.name, "Dimensions": self.dims, "Value": value, "Timestamp": self.now()}])
        self.server.advance(advance)


@pytest.fixture
def minutes(kumo_server, aws):
    def make(namespace="App", name="Load", dims=None):
        return Minutes(kumo_server, aws("cloudwatch"), namespace, name, dims)
    return make
