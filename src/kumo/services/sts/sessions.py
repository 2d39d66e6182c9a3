"""Session policies and session tags that AssumeRole and GetFederationToken attach to credentials."""

from __future__ import annotations

import json
import re

from ...aws.errors import AwsError
from ...core import tags as tagging

MAX_POLICY_CHARS = 2048  # plaintext of the inline and managed session policies together
MAX_POLICY_ARNS = 10
_FEDERATED_NAME = re.compile(r"^[\w+=,.@-]{2,32}$")


def federated_name(name: str) -> str:
    if not _FEDERATED_NAME.match(name or ""):
        raise AwsError("ValidationError",
                       f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: "
                       "Member must satisfy regular expression pattern: [\\w+=,.@-]*")
    return name


def session_fields(ctx, p: dict, account: str) -> tuple[dict, int]:
    """(credential record fields, PackedPolicySize percentage) for the request's Policy, PolicyArns and Tags."""
    from ..iam.internal import managed_document

    fields: dict = {}
    text = p.get("Policy")
    size = 0
    if text:
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if not isinstance(doc, dict) or "Statement" not in doc:
            raise AwsError("MalformedPolicyDocument", "The policy is not in the valid JSON format.")
        from ..iam.internal import policy_grammar_error

        error = policy_grammar_error(text, "session")  # a session policy is an identity policy to IAM's grammar
        if error:
            raise AwsError("MalformedPolicyDocument", error)
        fields["SessionPolicy"] = text
        size += len(text)
    arns = [a["arn"] for a in p.get("PolicyArns") or [] if a.get("arn")]
    if len(arns) > MAX_POLICY_ARNS:
        raise AwsError("ValidationError", f"Cannot exceed quota for PolicyArns: {MAX_POLICY_ARNS}")
    for arn in arns:
        document = managed_document(ctx.store, arn)
        if document is None or (arn.split(":")[4] not in (account, "aws")):
            raise AwsError("InvalidParameterValue", f"The policy {arn} does not exist or is not attachable.")
        size += len(document)
    if arns:
        fields["SessionPolicyArns"] = arns
    if size > MAX_POLICY_CHARS:
        raise AwsError("PackedPolicyTooLarge",
                       "Packed size of session policies and session tags exceeds the allowed limit.")
    tags = tagging.to_dict(p.get("Tags"))
    if tags:
        fields["SessionTags"] = tags
    return fields, round(size * 100 / MAX_POLICY_CHARS)
