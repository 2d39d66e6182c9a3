import tempfile
import uuid

import pytest

from kumo.config import Settings
from kumo.server import ServerThread
from tests.conftest import claim_loopback


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


def s3_client(endpoint: str, account: str, secret: str = "test", **config):
    """A boto3 S3 client with extra botocore Config (signature_version, s3={"addressing_style": ...})."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=account,
                        aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config))


@pytest.fixture(scope="package")
def enforcing():
    """A kumo of its own that enforces IAM policies and verifies every signature."""
    claim = claim_loopback(8, 60)
    server = ServerThread(Settings(port=0, ephemeral=True, data_dir=tempfile.mkdtemp(prefix="kumo-test-"),
                                   loopback_base=claim.base, enforce_iam=True, enforce_signatures=True)).start()
    yield server
    server.stop()
    claim.release()
