"""A kumo of the module's own, for tests that move the clock by days.

The session's kumo is shared: every load balancer, alarm and group earlier tests left behind keeps its
timers on it, so advancing it 30 days fires tens of thousands of their ticks (a kms test alone ran into
pytest's 300 s timeout).  A module that advances by days imports these two fixtures, which override the
session's for that module:

    from tests.own_kumo import endpoint, kumo_server  # noqa: F401
"""

from __future__ import annotations

import tempfile

import pytest

from kumo.config import Settings
from kumo.server import ServerThread
from tests.conftest import claim_loopback


@pytest.fixture(scope="module")
def kumo_server():
    claim = claim_loopback(8, 60)
    server = ServerThread(Settings(port=0, ephemeral=True, loopback_base=claim.base,
                                   data_dir=tempfile.mkdtemp(prefix="kumo-own-test-"))).start()
    yield server
    server.stop()
    claim.release()


@pytest.fixture(scope="module")
def endpoint(kumo_server) -> str:
    return kumo_server.endpoint
