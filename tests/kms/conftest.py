"""Fixtures for KMS tests: a client for the test's own account, and a symmetric key in it."""

import pytest


@pytest.fixture
def kms(aws):
    return aws("kms")


@pytest.fixture
def key(kms):
    return kms.create_key(Description="test key")["KeyMetadata"]


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]
