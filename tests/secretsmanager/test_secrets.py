"""Secrets, versions and staging labels, listing, tags, resource policies, deletion windows, passwords:
boto3 against a real kumo."""

from __future__ import annotations

import json
import string
import uuid

import pytest
from botocore.exceptions import ClientError
from tests.own_kumo import endpoint, kumo_server  # noqa: F401  (days pass on this module's own kumo)


@pytest.fixture
def sm(aws):
    return aws("secretsmanager")


def code_of(exc_info) -> str:
    return exc_info.value.response["Error"]["Code"]


def test_create_get_describe(sm, account):
    out = sm.create_secret(Name="app/db", SecretString='{"user":"u","password":"p"}', Description="db creds",
                           Tags=[{"Key": "team", "Value": "core"}])
    assert out["ARN"].startswith(f"arn:aws:secretsmanager:us-east-1:{account}:secret:app/db-")
    suffix = out["ARN"].rsplit("-", 1)[1]
    assert len(suffix) == 6 and suffix.isalnum()
    got = sm.get_secret_value(SecretId="app/db")
    assert got["SecretString"] == '{"user":"u","password":"p"}'
    assert got["VersionId"] == out["VersionId"] and got["VersionStages"] == ["AWSCURRENT"]
    # by full ARN, and by the ARN without its random suffix
    assert sm.get_secret_value(SecretId=out["ARN"])["VersionId"] == out["VersionId"]
    assert sm.get_secret_value(SecretId=out["ARN"][:-7])["VersionId"] == out["VersionId"]
    desc = sm.describe_secret(SecretId="app/db")
    assert desc["Description"] == "db creds" and desc["Tags"] == [{"Key": "team", "Value": "core"}]
    assert desc["VersionIdsToStages"] == {out["VersionId"]: ["AWSCURRENT"]}
    assert desc["RotationEnabled"] is False and "KmsKeyId" not in desc  # the default key is not shown
    assert "LastAccessedDate" in desc


def test_binary_secret_and_no_value(sm):
    sm.create_secret(Name="bin", SecretBinary=b"\x00\x01\xffdata")
    assert sm.get_secret_value(SecretId="bin")["SecretBinary"] == b"\x00\x01\xffdata"
    out = sm.create_secret(Name="empty")
    assert "VersionId" not in out
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId="empty")
    assert code_of(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name="both", SecretString="a", SecretBinary=b"b")
    assert code_of(e) == "InvalidParameterException"


def test_name_rules_and_conflicts(sm):
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name="bad name!", SecretString="x")
    assert code_of(e) == "ValidationException"
    token = str(uuid.uuid4())
    first = sm.create_secret(Name="dup", SecretString="x", ClientRequestToken=token)
    # the same request retried with its token is answered again, nothing new
    again = sm.create_secret(Name="dup", SecretString="x", ClientRequestToken=token)
    assert again["ARN"] == first["ARN"] and again["VersionId"] == token
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name="dup", SecretString="other", ClientRequestToken=token)
    assert code_of(e) == "ResourceExistsException"
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name="dup", SecretString="x")
    assert code_of(e) == "ResourceExistsException"
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId="nope")
    assert code_of(e) == "ResourceNotFoundException"


def test_put_secret_value_moves_current_and_previous(sm):
    v1 = sm.create_secret(Name="s", SecretString="one")["VersionId"]
    v2 = sm.put_secret_value(SecretId="s", SecretString="two")["VersionId"]
    stages = sm.describe_secret(SecretId="s")["VersionIdsToStages"]
    assert stages == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId="s", VersionStage="AWSPREVIOUS")["SecretString"] == "one"
    assert sm.get_secret_value(SecretId="s", VersionId=v1)["SecretString"] == "one"
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId="s", VersionId=v1, VersionStage="AWSCURRENT")
    assert code_of(e) == "ResourceNotFoundException"
    # idempotent on the token: same value ignored, a different value refused
    assert sm.put_secret_value(SecretId="s", SecretString="two", ClientRequestToken=v2)["VersionId"] == v2
    with pytest.raises(ClientError) as e:
        sm.put_secret_value(SecretId="s", SecretString="changed", ClientRequestToken=v2)
    assert code_of(e) == "ResourceExistsException"
    v3 = sm.put_secret_value(SecretId="s", SecretString="three")["VersionId"]
    # v1 lost its last label: listed only as deprecated
    listed = {v["VersionId"]: v.get("VersionStages") for v in sm.list_secret_version_ids(SecretId="s")["Versions"]}
    assert listed == {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}
    everything = sm.list_secret_version_ids(SecretId="s", IncludeDeprecated=True)["Versions"]
    assert {v["VersionId"] for v in everything} == {v1, v2, v3}
    pending = sm.put_secret_value(SecretId="s", SecretString="four", VersionStages=["AWSPENDING"])
    assert pending["VersionStages"] == ["AWSPENDING"]
    assert sm.get_secret_value(SecretId="s")["SecretString"] == "three"
    with pytest.raises(ClientError) as e:
        sm.put_secret_value(SecretId="s")
    assert code_of(e) == "InvalidRequestException"


def test_update_secret_version_stage_rules(sm):
    v1 = sm.create_secret(Name="st", SecretString="one")["VersionId"]
    v2 = sm.put_secret_value(SecretId="st", SecretString="two", VersionStages=["AWSPENDING"])["VersionId"]
    with pytest.raises(ClientError) as e:  # AWSCURRENT is on v1: it must be named in RemoveFromVersionId
        sm.update_secret_version_stage(SecretId="st", VersionStage="AWSCURRENT", MoveToVersionId=v2)
    assert code_of(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        sm.update_secret_version_stage(SecretId="st", VersionStage="AWSCURRENT", RemoveFromVersionId=v2,
                                       MoveToVersionId=v2)
    assert code_of(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        sm.update_secret_version_stage(SecretId="st", VersionStage="AWSCURRENT", RemoveFromVersionId=v1)
    assert code_of(e) == "InvalidParameterException"
    sm.update_secret_version_stage(SecretId="st", VersionStage="AWSCURRENT", RemoveFromVersionId=v1,
                                   MoveToVersionId=v2)
    stages = sm.describe_secret(SecretId="st")["VersionIdsToStages"]
    assert stages == {v1: ["AWSPREVIOUS"], v2: ["AWSPENDING", "AWSCURRENT"]}
    sm.update_secret_version_stage(SecretId="st", VersionStage="AWSPENDING", RemoveFromVersionId=v2)
    sm.update_secret_version_stage(SecretId="st", VersionStage="custom", MoveToVersionId=v1)
    stages = sm.describe_secret(SecretId="st")["VersionIdsToStages"]
    assert stages == {v1: ["AWSPREVIOUS", "custom"], v2: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId="st", VersionStage="custom")["SecretString"] == "one"


def test_unlabelled_versions_beyond_100_are_removed(sm):
    sm.create_secret(Name="many", SecretString="0")
    for n in range(1, 106):
        sm.put_secret_value(SecretId="many", SecretString=str(n))
    versions = sm.list_secret_version_ids(SecretId="many", IncludeDeprecated=True, MaxResults=100)
    total = len(versions["Versions"])
    while versions.get("NextToken"):
        versions = sm.list_secret_version_ids(SecretId="many", IncludeDeprecated=True,
                                              NextToken=versions["NextToken"])
        total += len(versions["Versions"])
    assert total == 100
    assert sm.get_secret_value(SecretId="many")["SecretString"] == "105"


def test_update_secret(sm):
    v1 = sm.create_secret(Name="u", SecretString="one")["VersionId"]
    out = sm.update_secret(SecretId="u", Description="new")
    assert "VersionId" not in out
    out = sm.update_secret(SecretId="u", SecretString="two")
    assert sm.get_secret_value(SecretId="u")["SecretString"] == "two"
    desc = sm.describe_secret(SecretId="u")
    assert desc["Description"] == "new"
    assert desc["VersionIdsToStages"] == {v1: ["AWSPREVIOUS"], out["VersionId"]: ["AWSCURRENT"]}


def test_list_secrets_filters_and_pages(sm):
    for n in range(5):
        sm.create_secret(Name=f"prod/svc{n}", SecretString="x", Description=f"Service {n}",
                         Tags=[{"Key": "env", "Value": "prod" if n % 2 else "dev"}])
    sm.create_secret(Name="other", SecretString="x")
    names = lambda out: sorted(s["Name"] for s in out["SecretList"])  # noqa: E731
    assert names(sm.list_secrets(Filters=[{"Key": "name", "Values": ["prod/"]}])) == [f"prod/svc{n}" for n in range(5)]
    assert names(sm.list_secrets(Filters=[{"Key": "tag-value", "Values": ["prod"]}])) == ["prod/svc1", "prod/svc3"]
    assert names(sm.list_secrets(Filters=[{"Key": "name", "Values": ["prod/"]},
                                          {"Key": "tag-value", "Values": ["!prod"]}])) == \
        ["prod/svc0", "prod/svc2", "prod/svc4"]
    assert names(sm.list_secrets(Filters=[{"Key": "description", "Values": ["service 3"]}])) == ["prod/svc3"]
    seen, token = [], None
    while True:
        out = sm.list_secrets(MaxResults=2, SortBy="name", SortOrder="asc", **({"NextToken": token} if token else {}))
        seen += [s["Name"] for s in out["SecretList"]]
        token = out.get("NextToken")
        if not token:
            break
    assert seen == ["other"] + [f"prod/svc{n}" for n in range(5)]
    with pytest.raises(ClientError) as e:
        sm.list_secrets(NextToken="garbage")
    assert code_of(e) == "InvalidNextTokenException"


def test_batch_get_secret_value(sm):
    sm.create_secret(Name="b1", SecretString="one", Tags=[{"Key": "k", "Value": "batch"}])
    sm.create_secret(Name="b2", SecretString="two", Tags=[{"Key": "k", "Value": "batch"}])
    out = sm.batch_get_secret_value(SecretIdList=["b1", "b2", "missing"])
    assert {v["Name"]: v["SecretString"] for v in out["SecretValues"]} == {"b1": "one", "b2": "two"}
    assert out["Errors"] == [{"SecretId": "missing", "ErrorCode": "ResourceNotFoundException",
                              "Message": "Secrets Manager can't find the specified secret."}]
    out = sm.batch_get_secret_value(Filters=[{"Key": "tag-value", "Values": ["batch"]}])
    assert sorted(v["SecretString"] for v in out["SecretValues"]) == ["one", "two"]
    with pytest.raises(ClientError) as e:
        sm.batch_get_secret_value(SecretIdList=["b1"], Filters=[{"Key": "name", "Values": ["b"]}])
    assert code_of(e) == "InvalidParameterException"


def test_tags(sm):
    sm.create_secret(Name="t", SecretString="x", Tags=[{"Key": "a", "Value": "1"}])
    sm.tag_resource(SecretId="t", Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}])
    assert sm.describe_secret(SecretId="t")["Tags"] == [{"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}]
    sm.untag_resource(SecretId="t", TagKeys=["a"])
    assert sm.describe_secret(SecretId="t")["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ClientError) as e:
        sm.tag_resource(SecretId="t", Tags=[{"Key": "aws:x", "Value": "1"}])
    assert code_of(e) == "InvalidParameterException"


def test_resource_policies(sm, account):
    sm.create_secret(Name="p", SecretString="x")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})
    sm.put_resource_policy(SecretId="p", ResourcePolicy=policy)
    assert sm.get_resource_policy(SecretId="p")["ResourcePolicy"] == policy
    public = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})
    with pytest.raises(ClientError) as e:
        sm.put_resource_policy(SecretId="p", ResourcePolicy=public, BlockPublicPolicy=True)
    assert code_of(e) == "PublicPolicyException"
    with pytest.raises(ClientError) as e:
        sm.put_resource_policy(SecretId="p", ResourcePolicy="{not json")
    assert code_of(e) == "MalformedPolicyDocumentException"
    assert sm.validate_resource_policy(ResourcePolicy=policy)["PolicyValidationPassed"] is True
    bad = sm.validate_resource_policy(ResourcePolicy=json.dumps({"Statement": [{"Effect": "Maybe"}]}))
    assert bad["PolicyValidationPassed"] is False and bad["ValidationErrors"]
    sm.delete_resource_policy(SecretId="p")
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId="p")


def test_deletion_window_and_restore(sm, kumo_server):
    sm.create_secret(Name="gone", SecretString="x")
    with pytest.raises(ClientError) as e:
        sm.delete_secret(SecretId="gone", RecoveryWindowInDays=6)
    assert code_of(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        sm.delete_secret(SecretId="gone", RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True)
    assert code_of(e) == "InvalidParameterException"
    out = sm.delete_secret(SecretId="gone", RecoveryWindowInDays=7)
    desc = sm.describe_secret(SecretId="gone")
    assert (out["DeletionDate"] - desc["DeletedDate"]).total_seconds() == pytest.approx(7 * 86400, abs=1)
    for call in (lambda: sm.get_secret_value(SecretId="gone"), lambda: sm.put_secret_value(SecretId="gone",
                                                                                           SecretString="y"),
                 lambda: sm.delete_secret(SecretId="gone")):
        with pytest.raises(ClientError) as e:
            call()
        assert code_of(e) == "InvalidRequestException"
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name="gone", SecretString="x")
    assert code_of(e) == "InvalidRequestException"
    assert "gone" not in [s["Name"] for s in sm.list_secrets()["SecretList"]]
    assert "gone" in [s["Name"] for s in sm.list_secrets(IncludePlannedDeletion=True)["SecretList"]]
    sm.restore_secret(SecretId="gone")
    assert sm.get_secret_value(SecretId="gone")["SecretString"] == "x"
    assert "DeletedDate" not in sm.describe_secret(SecretId="gone")
    # scheduled again, then the window runs out on kumo's clock
    sm.delete_secret(SecretId="gone", RecoveryWindowInDays=7)
    kumo_server.advance(6 * 86400)
    assert sm.describe_secret(SecretId="gone")["DeletedDate"]
    kumo_server.advance(86400 + 1)
    with pytest.raises(ClientError) as e:
        sm.describe_secret(SecretId="gone")
    assert code_of(e) == "ResourceNotFoundException"
    sm.create_secret(Name="gone", SecretString="new")  # the name is free again


def test_force_delete(sm):
    sm.create_secret(Name="f", SecretString="x")
    sm.delete_secret(SecretId="f", ForceDeleteWithoutRecovery=True)
    with pytest.raises(ClientError) as e:
        sm.describe_secret(SecretId="f")
    assert code_of(e) == "ResourceNotFoundException"


def test_get_random_password(sm):
    pw = sm.get_random_password()["RandomPassword"]
    assert len(pw) == 32
    for kind in (string.ascii_lowercase, string.ascii_uppercase, string.digits, string.punctuation):
        assert any(c in kind for c in pw)  # RequireEachIncludedType defaults to true
    pw = sm.get_random_password(PasswordLength=64, ExcludePunctuation=True, ExcludeUppercase=True,
                                ExcludeCharacters="abc0")["RandomPassword"]
    assert len(pw) == 64 and set(pw) <= set(string.ascii_lowercase + string.digits) - set("abc0")
    pw = sm.get_random_password(PasswordLength=40, ExcludeNumbers=True, ExcludeLowercase=True,
                                ExcludePunctuation=True, IncludeSpace=True)["RandomPassword"]
    assert set(pw) <= set(string.ascii_uppercase + " ") and " " in pw
    assert len(set(sm.get_random_password()["RandomPassword"] for _ in range(20))) == 20
    with pytest.raises(ClientError) as e:
        sm.get_random_password(PasswordLength=3)  # four types required, three characters
    assert code_of(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        sm.get_random_password(ExcludeNumbers=True, ExcludeLowercase=True, ExcludeUppercase=True,
                               ExcludePunctuation=True)
    assert code_of(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        sm.get_random_password(PasswordLength=4097)
    assert code_of(e) == "ValidationException"


def test_customer_key_and_a_disabled_key(sm, aws):
    kms = aws("kms")
    key = kms.create_key(Description="secrets")["KeyMetadata"]
    kms.create_alias(AliasName="alias/app", TargetKeyId=key["KeyId"])
    sm.create_secret(Name="k", SecretString="sealed", KmsKeyId="alias/app")
    assert sm.describe_secret(SecretId="k")["KmsKeyId"] == "alias/app"
    assert sm.get_secret_value(SecretId="k")["SecretString"] == "sealed"
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId="k")
    assert code_of(e) == "DecryptionFailure"
    with pytest.raises(ClientError) as e:
        sm.put_secret_value(SecretId="k", SecretString="more")
    assert code_of(e) == "EncryptionFailure"
    assert len(sm.list_secret_version_ids(SecretId="k")["Versions"]) == 1  # the failed put left nothing
    kms.enable_key(KeyId=key["KeyId"])
    # a new key re-encrypts the labelled versions: they read after the old key is disabled
    other = kms.create_key()["KeyMetadata"]["Arn"]
    sm.update_secret(SecretId="k", KmsKeyId=other)
    kms.disable_key(KeyId=key["KeyId"])
    assert sm.get_secret_value(SecretId="k")["SecretString"] == "sealed"
    assert sm.describe_secret(SecretId="k")["KmsKeyId"] == other
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name="k2", SecretString="x", KmsKeyId="alias/none")
    assert code_of(e) == "EncryptionFailure"


def test_replica_regions(sm, aws, account):
    west = aws("secretsmanager", region="us-west-2")
    out = sm.create_secret(Name="rep", SecretString="one", AddReplicaRegions=[{"Region": "us-west-2"}])
    assert out["ReplicationStatus"] == [{"Region": "us-west-2", "KmsKeyId": "alias/aws/secretsmanager",
                                         "Status": "InSync", "StatusMessage": "Replication succeeded"}]
    replica = west.describe_secret(SecretId="rep")
    assert replica["ARN"] == out["ARN"].replace("us-east-1", "us-west-2") and replica["PrimaryRegion"] == "us-east-1"
    assert west.get_secret_value(SecretId="rep")["SecretString"] == "one"
    # changes of the primary reach the replica; the replica itself is read-only
    v2 = sm.put_secret_value(SecretId="rep", SecretString="two")["VersionId"]
    got = west.get_secret_value(SecretId="rep")
    assert (got["SecretString"], got["VersionId"]) == ("two", v2)
    sm.tag_resource(SecretId="rep", Tags=[{"Key": "k", "Value": "v"}])
    assert west.describe_secret(SecretId="rep")["Tags"] == [{"Key": "k", "Value": "v"}]
    with pytest.raises(ClientError) as e:
        west.put_secret_value(SecretId="rep", SecretString="no")
    assert code_of(e) == "InvalidRequestException"
    with pytest.raises(ClientError) as e:
        sm.delete_secret(SecretId="rep")
    assert code_of(e) == "InvalidRequestException"
    # a name taken in the other region fails that replica only, unless overwriting is asked for
    aws("secretsmanager", region="eu-west-1").create_secret(Name="rep", SecretString="local")
    status = sm.replicate_secret_to_regions(SecretId="rep", AddReplicaRegions=[{"Region": "eu-west-1"}])
    assert {s["Region"]: s["Status"] for s in status["ReplicationStatus"]} == {"us-west-2": "InSync",
                                                                              "eu-west-1": "Failed"}
    sm.remove_regions_from_replication(SecretId="rep", RemoveReplicaRegions=["eu-west-1"])
    assert aws("secretsmanager", region="eu-west-1").get_secret_value(SecretId="rep")["SecretString"] == "local"
    # a replica promoted to a standalone secret takes writes; its primary forgets it
    west.stop_replication_to_replica(SecretId="rep")
    west.put_secret_value(SecretId="rep", SecretString="west's own")
    assert "ReplicationStatus" not in sm.describe_secret(SecretId="rep")
    assert sm.get_secret_value(SecretId="rep")["SecretString"] == "two"
    sm.delete_secret(SecretId="rep", ForceDeleteWithoutRecovery=True)
    assert west.get_secret_value(SecretId="rep")["SecretString"] == "west's own"


def test_aws_cli(aws_cli):
    created = json.loads(aws_cli("secretsmanager", "create-secret", "--name", "cli/secret",
                                 "--secret-string", "from the cli").stdout)
    got = json.loads(aws_cli("secretsmanager", "get-secret-value", "--secret-id", "cli/secret").stdout)
    assert got["SecretString"] == "from the cli" and got["ARN"] == created["ARN"]
    versions = json.loads(aws_cli("secretsmanager", "list-secret-version-ids", "--secret-id", "cli/secret").stdout)
    assert versions["Versions"][0]["LastAccessedDate"]
    failed = aws_cli("secretsmanager", "get-secret-value", "--secret-id", "cli/none", check=False)
    assert failed.returncode != 0 and "ResourceNotFoundException" in failed.stderr
