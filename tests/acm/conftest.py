"""Fixtures for ACM tests: a client, kumo's own time, and the server-side seam."""

import pytest

from tests.conftest import in_transaction


@pytest.fixture
def acm(aws):
    return aws("acm")


@pytest.fixture
def kumo_now(kumo_server):
    """kumo's simulated time now: certificates are judged by it, not by the host's clock."""
    return lambda: kumo_server.run(kumo_server.kumo.clock.now)


@pytest.fixture
def seam(kumo_server):
    """Call ``kumo.services.acm.internal`` on the server's loop, inside a store transaction, as a service would."""
    from kumo.services.acm import internal as material

    return in_transaction(kumo_server, material)
