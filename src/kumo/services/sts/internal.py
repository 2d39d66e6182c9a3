"""STS for the rest of kumo: the encoded authorization message of a denial (DecodeAuthorizationMessage)."""

from __future__ import annotations


def encoded_authorization_message(caller_arn: str, user_id: str, account: str, action: str, resource: str,
                                  explicit: bool) -> str:
    from .federation import encode_authorization_message

    return encode_authorization_message({
        "allowed": False,
        "explicitDeny": explicit,
        "matchedStatements": {"items": []},
        "failures": {"items": []},
        "context": {"principal": {"id": user_id, "arn": caller_arn, "account": account}, "action": action,
                    "resource": resource, "conditions": {"items": []}},
    })
