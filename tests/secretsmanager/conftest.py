"""Rotation tests build real Lambda functions with the Lambda tests' helpers (an execution role, zips, functions
Active before use and deleted after)."""

from tests.lambda_.conftest import fns, lam, role  # noqa: F401
