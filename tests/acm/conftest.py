"""Fixtures for ACM tests: a client, kumo's own time, and the server-side seam."""

import pytest


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

    def call(name, *args):
        kumo = kumo_server.kumo

        def run():
            with kumo.store.transaction():
                return getattr(material, name)(kumo, *args)

        return kumo_server.run(run)

    return call
