"""The few AWS managed policies kumo can evaluate, by name, as AWS publishes them.

kumo carries no catalogue of AWS managed policies (ListPolicies Scope=AWS is
empty); these are the ones local stacks attach most (full access, and the Lambda
execution roles' basics).  Any other AWS managed policy attached to a principal
evaluates as granting nothing, which docs/iam.md says.
"""

from __future__ import annotations

import json


def _doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


AWS_MANAGED: dict[str, str] = {
    "AdministratorAccess": _doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    "AWSLambdaBasicExecutionRole": _doc({
        "Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": "*"}),
    "AWSLambdaSQSQueueExecutionRole": _doc({
        "Effect": "Allow",
        "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "logs:CreateLogGroup",
                   "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": "*"}),
    "AmazonSQSFullAccess": _doc({"Effect": "Allow", "Action": ["sqs:*"], "Resource": "*"}),
    "AmazonSNSFullAccess": _doc({"Effect": "Allow", "Action": ["sns:*"], "Resource": "*"}),
    "IAMFullAccess": _doc({"Effect": "Allow", "Action": ["iam:*", "organizations:DescribeAccount",
                                                         "organizations:DescribeOrganization",
                                                         "organizations:DescribeOrganizationalUnit",
                                                         "organizations:DescribePolicy",
                                                         "organizations:ListChildren",
                                                         "organizations:ListParents",
                                                         "organizations:ListPoliciesForTarget",
                                                         "organizations:ListRoots", "organizations:ListPolicies",
                                                         "organizations:ListTargetsForPolicy"],
                           "Resource": "*"}),
}
