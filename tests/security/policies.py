"""What the IAM enforcement tests share: clients signed as anyone, and policy documents in a line."""

from __future__ import annotations

import json

import boto3
from botocore.config import Config


def client(server, service, key, secret="test", token=None, region="us-east-1"):
    return boto3.client(service, endpoint_url=server.endpoint, region_name=region, aws_access_key_id=key,
                        aws_secret_access_key=secret, aws_session_token=token,
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def doc(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action="*", resource="*", **more) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


def deny(action="*", resource="*", **more) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **more}
