"""AWS managed policies kumo carries: name, path, description, default version and its document.

The catalogue (aws_managed.json, from AWS's managed policy reference) covers
what compute users attach: AmazonEC2*, AmazonSSM*, AWSLambda*, AmazonECS*,
CloudWatch*, ElasticLoadBalancing*, AutoScaling*, the service-linked roles'
policies, and the common full-access ones.  GetPolicy, GetPolicyVersion,
ListPolicies(Scope=AWS) and attachment read them; IAM enforcement evaluates
their documents.  An AWS managed ARN kumo does not carry is NoSuchEntity, as on
AWS for a policy that does not exist.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from .model import AWS_MANAGED_PREFIX

# AWS publishes no per-account creation date for its policies; one fixed date stands for all of them.
PUBLISHED = 1423248000.0  # 2015-02-06T18:40:00Z, the day AWS managed policies appeared


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict]:
    """ARN -> policy record shaped like IAM's Policy, with ``_document`` (the default version's text)."""
    out = {}
    for item in json.loads((Path(__file__).parent / "aws_managed.json").read_text()):
        arn = f"{AWS_MANAGED_PREFIX}{item['Path']}{item['PolicyName']}"
        digest = hashlib.sha256(arn.encode()).hexdigest().upper()
        out[arn] = {
            "PolicyName": item["PolicyName"],
            "PolicyId": "ANPA" + "".join(c for c in digest if c.isalnum())[:17],
            "Arn": arn,
            "Path": item["Path"],
            "DefaultVersionId": item["DefaultVersionId"],
            "AttachmentCount": 0,
            "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": True,
            "Description": item["Description"],
            "CreateDate": PUBLISHED,
            "UpdateDate": PUBLISHED,
            "_document": json.dumps(item["Document"], indent=4),
        }
    return out


def find(policy_arn: str) -> dict | None:
    return catalogue().get(policy_arn)


def document(policy_arn: str) -> str | None:
    policy = find(policy_arn)
    return policy["_document"] if policy is not None else None
