"""IAM refuses malformed policy documents with IAM's own MalformedPolicyDocument messages (issue 16)."""

import json

import pytest
from botocore.exceptions import ClientError

ALLOW = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


def doc(*statements, version="2012-10-17", **top):
    out = {"Version": version, "Statement": list(statements)} if version else {"Statement": list(statements)}
    out.update(top)
    return json.dumps(out)


def refused(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as e:
        call()
    err = e.value.response["Error"]
    return err["Code"], err["Message"]


def test_create_policy_2008_version_through_the_cli(aws_cli):
    out = aws_cli("iam", "create-policy", "--policy-name", "old",
                  "--policy-document", doc(ALLOW, version="2008-10-17"), check=False)
    assert out.returncode != 0
    assert "MalformedPolicyDocument" in out.stderr
    assert "Policy document must be version 2012-10-17 or greater." in out.stderr


MANAGED_CASES = [
    ("no version", doc(ALLOW, version=None), "Policy document must be version 2012-10-17 or greater."),
    ("missing effect", doc({"Action": "s3:*", "Resource": "*"}), "Syntax errors in policy."),
    ("bad effect", doc({**ALLOW, "Effect": "Permit"}), "Syntax errors in policy."),
    ("action and notaction", doc({**ALLOW, "NotAction": "s3:PutObject"}), "Syntax errors in policy."),
    ("unknown top element", doc(ALLOW, Extra="x"), "Syntax errors in policy."),
    ("unknown version", doc(ALLOW, version="2020-01-01"), "Syntax errors in policy."),
    ("principal in identity policy", doc({**ALLOW, "Principal": "*"}), "Policy document should not specify a principal."),
    ("no action", doc({"Effect": "Allow", "Resource": "*"}), "Policy statement must contain actions."),
    ("no resource", doc({"Effect": "Allow", "Action": "s3:*"}), "Policy statement must contain resources."),
    ("action without vendor", doc({**ALLOW, "Action": "GetObject"}),
     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ("two colons", doc({**ALLOW, "Action": "s3:Get:Object"}), "Actions/Condition can contain only one colon."),
    ("resource not an ARN", doc({**ALLOW, "Resource": "bucket"}), 'Resource bucket must be in ARN format or "*".'),
    ("duplicate sid", doc({**ALLOW, "Sid": "a"}, {**ALLOW, "Sid": "a"}),
     "Statement IDs (SID) in a single policy must be unique."),
    ("effect in lower case", doc({**ALLOW, "Effect": "allow"}), "The policy failed legacy parsing"),
    ("bad partition", doc({**ALLOW, "Resource": "arn:aws-x:s3:::b"}),
     'Partition "aws-x" is not valid for resource "arn:aws-x:s3:*:*:b".'),
    ("iam resource with region", doc({**ALLOW, "Resource": "arn:aws:iam:us-east-1:123456789012:role/x"}),
     "IAM resource arn:aws:iam:us-east-1:123456789012:role/x cannot contain region information."),
    ("not json", "{nope", "This policy contains invalid Json"),
]


@pytest.mark.parametrize("name,document,message", MANAGED_CASES, ids=[c[0] for c in MANAGED_CASES])
def test_create_policy_refuses_malformed_documents(aws, name, document, message):
    code, got = refused(lambda: aws("iam").create_policy(PolicyName="p", PolicyDocument=document))
    assert (code, got) == ("MalformedPolicyDocument", message)


def test_create_policy_version_checks_the_grammar(aws):
    iam = aws("iam")
    arn = iam.create_policy(PolicyName="p", PolicyDocument=doc(ALLOW))["Policy"]["Arn"]
    assert refused(lambda: iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(ALLOW, version="2008-10-17"))) \
        == ("MalformedPolicyDocument", "Policy document must be version 2012-10-17 or greater.")


def test_inline_policies_take_2008_but_not_a_principal(aws):
    iam = aws("iam")
    iam.create_user(UserName="u")
    iam.put_user_policy(UserName="u", PolicyName="old", PolicyDocument=doc(ALLOW, version="2008-10-17"))
    assert refused(lambda: iam.put_user_policy(UserName="u", PolicyName="p",
                                               PolicyDocument=doc({**ALLOW, "Principal": {"AWS": "*"}}))) \
        == ("MalformedPolicyDocument", "Policy document should not specify a principal.")


TRUST = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}


def test_trust_policy_rules(aws):
    iam = aws("iam")
    no_principal = doc({"Effect": "Allow", "Action": "sts:AssumeRole"})
    assert refused(lambda: iam.create_role(RoleName="r", AssumeRolePolicyDocument=no_principal)) \
        == ("MalformedPolicyDocument", "Missing required field Principal")
    with_resource = doc({**TRUST, "Resource": "*"})
    assert refused(lambda: iam.create_role(RoleName="r", AssumeRolePolicyDocument=with_resource)) \
        == ("MalformedPolicyDocument", "Has prohibited field Resource")
    wrong_action = doc({**TRUST, "Action": "s3:GetObject"})
    assert refused(lambda: iam.create_role(RoleName="r", AssumeRolePolicyDocument=wrong_action))[1].startswith(
        "Trust Policy statement actions can only be sts:AssumeRole")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=doc(TRUST, version="2008-10-17"))
    assert refused(lambda: iam.update_assume_role_policy(RoleName="r", PolicyDocument=no_principal)) \
        == ("MalformedPolicyDocument", "Missing required field Principal")


def test_policy_size_quotas(aws):
    iam = aws("iam")
    big = doc({**ALLOW, "Resource": [f"arn:aws:s3:::bucket-{i:04d}/*" for i in range(300)]})
    assert refused(lambda: iam.create_policy(PolicyName="big", PolicyDocument=big)) \
        == ("LimitExceeded", "Cannot exceed quota for PolicySize: 6144")
    iam.create_user(UserName="u")
    assert refused(lambda: iam.put_user_policy(UserName="u", PolicyName="big", PolicyDocument=big)) \
        == ("LimitExceeded", "Maximum policy size of 2048 bytes exceeded for user u")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=doc(TRUST))
    iam.put_role_policy(RoleName="r", PolicyName="big", PolicyDocument=big)  # roles take 10,240 characters


def test_permissions_boundary_must_be_a_policy_that_exists(aws, account):
    iam = aws("iam")
    assert refused(lambda: iam.create_user(UserName="b", PermissionsBoundary=f"arn:aws:iam::{account}:policy/none")) \
        [0] == "NoSuchEntity"
