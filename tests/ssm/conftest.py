"""Fixtures for Parameter Store tests: a client for the test's account, and kumo's clock."""

import pytest


@pytest.fixture
def ssm(aws):
    return aws("ssm")


@pytest.fixture
def advance(kumo_server):
    """Push kumo's simulated clock forward (policies fall due on it, never on the wall clock)."""
    return kumo_server.advance


@pytest.fixture
def kumo_now(kumo_server):
    return lambda: kumo_server.run(kumo_server.kumo.clock.now)
