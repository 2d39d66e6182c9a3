"""A kumo of the module's own, for tests that move the clock by days.

The session's kumo is shared: every load balancer, alarm and group earlier tests left behind keeps its
timers on it, so advancing it 30 days fires tens of thousands of their ticks (a kms test alone ran into
pytest's 300 s timeout).  A module that advances by days imports these two fixtures, which override the
session's for that module:

    from tests.own_kumo import endpoint, kumo_server  # noqa: F401
"""

from __future__ import annotations

import pytest

from tests.conftest import own_kumo


@pytest.fixture(scope="module")
def kumo_server():
    with own_kumo("kumo-own-test-") as server:
        yield server


@pytest.fixture(scope="module")
def endpoint(kumo_server) -> str:
    return kumo_server.endpoint
