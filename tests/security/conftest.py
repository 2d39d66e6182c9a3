"""Servers in both workload modes, a host directory that nothing may reach, and cleanup of what tests start.

As root, kumo runs instances in mount namespaces and Lambda functions with /var/task and /opt mounted; without
root (or with KUMO_NO_ISOLATION, which covers both: they share the compute layer) they run with plain
directories on the host, which is where a name that climbs out would do harm.  Tests that depend on the mode run against both.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest

from kumo.config import Settings
from kumo.server import ServerThread

from ..conftest import Clients, claim_loopback
from ..ec2.conftest import terminate_all
from ..lambda_.conftest import TRUST

PLAIN_FLAGS = ("KUMO_NO_ISOLATION",)


def own_server(prefix: str, **settings):
    """A kumo of its own for a module or session (flags as Settings fields); stops and cleans up after."""
    claim = claim_loopback(8, 60)
    data_dir = tempfile.mkdtemp(prefix=prefix)
    server = ServerThread(Settings(port=0, ephemeral=True, data_dir=data_dir, loopback_base=claim.base,
                                   **settings)).start()
    try:
        yield server
    finally:
        server.stop()
        claim.release()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def plain_server():
    """A kumo whose instances and functions run without mount namespaces, even when the tests run as root."""
    saved = {k: os.environ.get(k) for k in PLAIN_FLAGS}
    os.environ.update({k: "1" for k in PLAIN_FLAGS})
    servers = own_server("kumo-test-plain-")
    try:
        server = next(servers)  # the flags are read when the server starts
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    yield server
    servers.close()


@pytest.fixture(params=["isolated", "plain"])
def server(request):
    """Each mode in turn ("isolated" is plain too when the tests do not run as root)."""
    return request.getfixturevalue("kumo_server" if request.param == "isolated" else "plain_server")


@pytest.fixture
def cloud(server, account):
    """Clients for this test's account on ``server``; its instances, functions and layers go when it ends."""
    clients = Clients(server.endpoint, account)
    yield clients
    terminate_all(clients("ec2"))
    _delete_lambda(clients("lambda"))


@pytest.fixture
def lam(kumo_server, account):
    client = Clients(kumo_server.endpoint, account)("lambda")
    yield client
    _delete_lambda(client)


@pytest.fixture
def role(kumo_server, account) -> str:
    iam = Clients(kumo_server.endpoint, account)("iam")
    return iam.create_role(RoleName="lambda-exec", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]


def _delete_lambda(lam) -> None:
    for fn in lam.list_functions().get("Functions", []):
        lam.delete_function(FunctionName=fn["FunctionName"])
    for layer in lam.list_layers().get("Layers", []):
        for v in lam.list_layer_versions(LayerName=layer["LayerName"])["LayerVersions"]:
            lam.delete_layer_version(LayerName=layer["LayerName"], VersionNumber=v["Version"])


@pytest.fixture
def outside(tmp_path) -> Path:
    """A host directory outside every disk and code directory, which no request may write into.

    As root it is under /run, which no instance's mount namespace lays its disk over (a path under /tmp would
    be the instance's own /tmp there, and prove nothing); otherwise it is under the test's tmp dir.
    """
    base = Path("/run") if os.geteuid() == 0 and os.path.isdir("/run") else tmp_path
    path = base / f"kumo-security-{secrets.token_hex(6)}"
    path.mkdir(mode=0o755)
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def climb(target: Path) -> str:
    """A relative name that climbs from any directory up to / and down to ``target``."""
    return "../" * 40 + str(target).lstrip("/")


@pytest.fixture(scope="session")
def iam_server():
    """A kumo that evaluates every request against IAM policies (``--enforce-iam``)."""
    yield from own_server("kumo-iam-", enforce_iam=True)


@pytest.fixture(scope="session")
def signed_server():
    """A kumo that verifies every request's signature (``--enforce-signatures``)."""
    yield from own_server("kumo-sig-", enforce_signatures=True)
