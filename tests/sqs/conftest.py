"""SQS test helpers: a client in the test's account and a botocore client that speaks the query protocol."""

from __future__ import annotations

import copy
import json

import botocore.loaders
import botocore.session
import pytest
from botocore.config import Config


@pytest.fixture
def sqs(aws):
    return aws("sqs")


@pytest.fixture(scope="session")
def query_model_dir(tmp_path_factory):
    """botocore's SQS model with the 2012-11-05 query names restored (what older SDKs were built from)."""
    from kumo.services.sqs import query_names

    data = copy.deepcopy(botocore.loaders.Loader().load_service_model("sqs", "service-2"))
    query_names.apply(data)
    data["metadata"]["protocol"] = "query"
    data["metadata"]["protocols"] = ["query"]
    root = tmp_path_factory.mktemp("query-model")
    (root / "sqs" / "2012-11-05").mkdir(parents=True)
    (root / "sqs" / "2012-11-05" / "service-2.json").write_text(json.dumps(data))
    return root


@pytest.fixture
def sqs_query(query_model_dir, endpoint, account):
    """A botocore SQS client that sends form-encoded query requests and reads XML answers."""
    session = botocore.session.Session()
    session.get_component("data_loader").search_paths.insert(0, str(query_model_dir))
    client = session.create_client("sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=account,
                                   aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))
    assert client.meta.service_model.protocol == "query"
    return client
