import uuid

import pytest


@pytest.fixture
def s3(aws):
    return aws("s3")


@pytest.fixture
def bucket(s3):
    """A new bucket of this test's account (bucket names are global: each test takes a unique one)."""
    name = f"kumo-{uuid.uuid4().hex[:20]}"
    s3.create_bucket(Bucket=name)
    return name


def unique(prefix: str = "kumo") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20]}"
