"""CloudWatch Logs operations no other test reaches: a log group's KMS key, ListLogGroups and UntagLogGroup."""

import pytest
from botocore.exceptions import ClientError


def _error(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def _group(logs, name: str) -> dict:
    return next(g for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] if g["logGroupName"] == name)


def test_associate_and_disassociate_kms_key(aws, account):
    logs, kms = aws("logs"), aws("kms")
    key = kms.create_key(Description="logs")["KeyMetadata"]["Arn"]
    logs.create_log_group(logGroupName="/enc/app")
    assert "kmsKeyId" not in _group(logs, "/enc/app")

    logs.associate_kms_key(logGroupName="/enc/app", kmsKeyId=key)
    assert _group(logs, "/enc/app")["kmsKeyId"] == key
    logs.disassociate_kms_key(logGroupName="/enc/app")
    assert "kmsKeyId" not in _group(logs, "/enc/app")

    # The log group named by its ARN (resourceIdentifier) works as its name does.
    arn = f"arn:aws:logs:us-east-1:{account}:log-group:/enc/app"
    logs.associate_kms_key(resourceIdentifier=arn, kmsKeyId=key)
    assert _group(logs, "/enc/app")["kmsKeyId"] == key
    logs.disassociate_kms_key(resourceIdentifier=arn)
    assert "kmsKeyId" not in _group(logs, "/enc/app")

    # AWS: a key that does not exist, or is disabled, is an InvalidParameterException; the group keeps its key.
    logs.associate_kms_key(logGroupName="/enc/app", kmsKeyId=key)
    missing = key.rsplit("/", 1)[0] + "/11111111-2222-3333-4444-555555555555"
    code, message = _error(lambda: logs.associate_kms_key(logGroupName="/enc/app", kmsKeyId=missing))
    assert code == "InvalidParameterException" and arn in message
    disabled = kms.create_key()["KeyMetadata"]["Arn"]
    kms.disable_key(KeyId=disabled)
    code, _ = _error(lambda: logs.associate_kms_key(logGroupName="/enc/app", kmsKeyId=disabled))
    assert code == "InvalidParameterException"
    assert _group(logs, "/enc/app")["kmsKeyId"] == key

    code, _ = _error(lambda: logs.associate_kms_key(logGroupName="/enc/none", kmsKeyId=key))
    assert code == "ResourceNotFoundException"
    code, _ = _error(lambda: logs.disassociate_kms_key(logGroupName="/enc/none"))
    assert code == "ResourceNotFoundException"
    code, _ = _error(lambda: logs.associate_kms_key(logGroupName="/enc/app", resourceIdentifier=arn, kmsKeyId=key))
    assert code == "InvalidParameterException"  # one of the two, never both


def test_list_log_groups_pattern_class_and_pages(aws, account):
    logs = aws("logs")
    for name in ("/svc/alpha", "/svc/beta", "/batch/Alpha-jobs"):
        logs.create_log_group(logGroupName=name)
    logs.create_log_group(logGroupName="/svc/rare", logGroupClass="INFREQUENT_ACCESS")

    groups = logs.list_log_groups()["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/batch/Alpha-jobs", "/svc/alpha", "/svc/beta", "/svc/rare"]
    alpha = groups[1]
    assert alpha == {"logGroupName": "/svc/alpha", "logGroupClass": "STANDARD",
                     "logGroupArn": f"arn:aws:logs:us-east-1:{account}:log-group:/svc/alpha"}

    # The pattern matches anywhere in the name, case-insensitively.
    names = [g["logGroupName"] for g in logs.list_log_groups(logGroupNamePattern="alpha")["logGroups"]]
    assert names == ["/batch/Alpha-jobs", "/svc/alpha"]
    rare = logs.list_log_groups(logGroupClass="INFREQUENT_ACCESS")["logGroups"]
    assert [(g["logGroupName"], g["logGroupClass"]) for g in rare] == [("/svc/rare", "INFREQUENT_ACCESS")]

    seen, token = [], None
    for _ in range(10):
        page = logs.list_log_groups(limit=3, **({"nextToken": token} if token else {}))
        assert len(page["logGroups"]) <= 3
        seen += [g["logGroupName"] for g in page["logGroups"]]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == ["/batch/Alpha-jobs", "/svc/alpha", "/svc/beta", "/svc/rare"]
    code, _ = _error(lambda: logs.list_log_groups(nextToken="not-a-token"))
    assert code == "InvalidParameterException"


def test_untag_log_group_removes_only_the_named_keys(aws):
    logs = aws("logs")
    logs.create_log_group(logGroupName="/tags/app", tags={"team": "web", "env": "prod", "cost": "42"})
    logs.untag_log_group(logGroupName="/tags/app", tags=["env", "absent"])
    assert logs.list_tags_log_group(logGroupName="/tags/app")["tags"] == {"team": "web", "cost": "42"}
    logs.untag_log_group(logGroupName="/tags/app", tags=["team", "cost"])
    assert logs.list_tags_log_group(logGroupName="/tags/app")["tags"] == {}
    code, _ = _error(lambda: logs.untag_log_group(logGroupName="/tags/none", tags=["team"]))
    assert code == "ResourceNotFoundException"
