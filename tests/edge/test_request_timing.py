"""Opt-in server-side request timing (KUMO_REQUEST_TIMING, aws/timing.py) at /_kumo/timing."""

from __future__ import annotations

import json
import tempfile
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config

from kumo.config import Settings
from kumo.server import ServerThread
from tests.conftest import claim_loopback


@pytest.fixture(scope="module")
def timed_kumo():
    claim = claim_loopback(8, 60)
    server = ServerThread(Settings(port=0, ephemeral=True, data_dir=tempfile.mkdtemp(prefix="kumo-test-"),
                                   loopback_base=claim.base, request_timing=True)).start()
    yield server
    server.stop()
    claim.release()


def client(endpoint: str, service: str):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="123456789012",
                        aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))


def timing(endpoint: str, clear: bool = False) -> dict:
    req = urllib.request.Request(endpoint + "/_kumo/timing", data=b"{}" if clear else None, method=(
        "POST" if clear else "GET"), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_each_answered_request_is_timed_under_its_operation(timed_kumo):
    endpoint = timed_kumo.endpoint
    timing(endpoint, clear=True)
    sts, iam = client(endpoint, "sts"), client(endpoint, "iam")
    for _ in range(3):
        sts.get_caller_identity()
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="nobody")  # an error answer is timed too
    report = timing(endpoint)
    for clock in ("wall", "cpu"):
        ops = report[clock]["operations"]
        assert ops["sts.GetCallerIdentity"]["count"] == 3
        assert ops["iam.GetRole"]["count"] == 1
        h = ops["sts.GetCallerIdentity"]
        assert 0 <= h["p50_ms"] <= h["p99_ms"] <= h["max_ms"]
    assert report["loop_lag"]["count"] >= 0


def test_clearing_empties_the_histograms(timed_kumo):
    endpoint = timed_kumo.endpoint
    client(endpoint, "sts").get_caller_identity()
    assert timing(endpoint, clear=True) == {"cleared": True}
    assert "sts.GetCallerIdentity" not in timing(endpoint)["wall"]["operations"]


def test_timing_is_off_unless_asked(kumo_server):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(kumo_server.endpoint + "/_kumo/timing", timeout=10)
    assert err.value.code in (404, 400)
