"""PutParameter / GetParameter(s) / DeleteParameter(s) through boto3: versions, overwrite, AWS's limits and refusals."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def status(excinfo) -> int:
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_put_get_and_overwrite_make_versions(ssm, account):
    answer = ssm.put_parameter(Name="/app/db/host", Value="db1", Type="String", Description="primary")
    assert (answer["Version"], answer["Tier"]) == (1, "Standard")
    got = ssm.get_parameter(Name="/app/db/host")["Parameter"]
    assert (got["Name"], got["Type"], got["Value"], got["Version"], got["DataType"]) == \
        ("/app/db/host", "String", "db1", 1, "text")
    assert got["ARN"] == f"arn:aws:ssm:us-east-1:{account}:parameter/app/db/host"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="/app/db/host", Value="db2", Type="String")
    assert code(exc) == "ParameterAlreadyExists"
    assert ssm.put_parameter(Name="/app/db/host", Value="db2", Overwrite=True)["Version"] == 2
    latest = ssm.get_parameter(Name="/app/db/host")["Parameter"]
    assert (latest["Value"], latest["Version"], latest["Type"]) == ("db2", 2, "String")
    first = ssm.get_parameter(Name="/app/db/host:1")["Parameter"]
    assert (first["Value"], first["Version"], first["Selector"]) == ("db1", 1, ":1")
    # The description carries over to the new version when not given again.
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": ["/app/db/host"]}])["Parameters"]
    assert meta[0]["Description"] == "primary" and meta[0]["Version"] == 2


def test_get_parameter_refusals(ssm):
    ssm.put_parameter(Name="one", Value="1", Type="String")
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name="missing")
    assert code(exc) == "ParameterNotFound" and status(exc) == 400
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name="one:7")
    assert code(exc) == "ParameterVersionNotFound"
    assert "could not find version 7 of one" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name="one:nolabel")
    assert code(exc) == "ParameterNotFound"


def test_get_parameters_reports_invalid_names(ssm):
    ssm.put_parameter(Name="/a/x", Value="x", Type="String")
    ssm.put_parameter(Name="/a/y", Value="y1,y2", Type="StringList")
    out = ssm.get_parameters(Names=["/a/x", "/a/y", "/a/z", "/a/x:9", "/a/x"])
    assert sorted(p["Name"] for p in out["Parameters"]) == ["/a/x", "/a/y"]
    assert sorted(out["InvalidParameters"]) == ["/a/x:9", "/a/z"]
    assert next(p for p in out["Parameters"] if p["Name"] == "/a/y")["Value"] == "y1,y2"
    with pytest.raises(ClientError) as exc:
        ssm.get_parameters(Names=[f"/n{i}" for i in range(11)])
    assert code(exc) == "ValidationException"


@pytest.mark.parametrize("name,error", [
    ("aws-thing", "ValidationException"),
    ("SSM-thing", "ValidationException"),
    ("/ssm/x/y", "ValidationException"),
    ("/aws/x/y", "AccessDeniedException"),
    ("/AWS/x", "AccessDeniedException"),
    ("/SSM/x", "ValidationException"),
    ("/awssec/lab/vpc", "AccessDeniedException"),
    ("has space", "ValidationException"),
    ("bad*char", "ValidationException"),
    ("no/leading/slash", "ValidationException"),
    ("/double//slash", "ValidationException"),
    ("/" + "/".join(f"l{i}" for i in range(16)), "HierarchyLevelLimitExceededException"),
    ("/" + "n" * 1000, "ValidationException"),
])
def test_name_rules(ssm, name, error):
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=name, Value="v", Type="String")
    assert code(exc) == error


def test_names_at_the_limits_are_taken(ssm):
    deep = "/" + "/".join(f"l{i}" for i in range(15))
    assert ssm.put_parameter(Name=deep, Value="v", Type="String")["Version"] == 1
    # 1011 characters for the whole ARN "arn:aws:ssm:us-east-1:<account>:parameter/<name>".
    room = 1011 - len("arn:aws:ssm:us-east-1:123456789012:parameter/")
    assert ssm.put_parameter(Name="/" + "n" * room, Value="v", Type="String")["Version"] == 1
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="/" + "n" * (room + 1), Value="v", Type="String")
    assert code(exc) == "ValidationException"


def test_type_rules(ssm):
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="untyped", Value="v")
    assert code(exc) == "ValidationException" and "type is required" in str(exc.value)
    ssm.put_parameter(Name="typed", Value="v", Type="String")
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="typed", Value="v", Type="StringList", Overwrite=True)
    assert code(exc) == "HierarchyTypeMismatchException"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="keyed", Value="v", Type="String", KeyId="alias/aws/ssm")
    assert code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="empty", Value="", Type="String")
    assert code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="dt", Value="v", Type="String", DataType="Text")
    assert code(exc) == "ValidationException" and "not supported" in str(exc.value)


def test_tiers_and_their_sizes(ssm):
    four_k, eight_k = "x" * 4096, "y" * 8192
    assert ssm.put_parameter(Name="std", Value=four_k, Type="String")["Tier"] == "Standard"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="std-big", Value=four_k + "x", Type="String")
    assert code(exc) == "ValidationException" and "4096" in str(exc.value)
    assert ssm.put_parameter(Name="adv", Value=eight_k, Type="String", Tier="Advanced")["Tier"] == "Advanced"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="adv-big", Value=eight_k + "y", Type="String", Tier="Advanced")
    assert code(exc) == "ValidationException"
    # Intelligent-Tiering picks Standard while the value fits, Advanced when it does not.
    assert ssm.put_parameter(Name="it", Value="small", Type="String", Tier="Intelligent-Tiering")["Tier"] == "Standard"
    assert ssm.put_parameter(Name="it", Value=eight_k, Overwrite=True, Tier="Intelligent-Tiering")["Tier"] == "Advanced"
    # An advanced parameter never goes back to the standard tier.
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="adv", Value="small", Overwrite=True, Tier="Standard")
    assert code(exc) == "ValidationException" and "downgrade" in str(exc.value)
    assert ssm.put_parameter(Name="adv", Value="small", Overwrite=True)["Tier"] == "Advanced"
    assert ssm.get_parameter(Name="adv")["Parameter"]["Value"] == "small"


def test_allowed_pattern(ssm):
    ssm.put_parameter(Name="port", Value="8080", Type="String", AllowedPattern=r"^\d+$")
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="port", Value="eighty", Overwrite=True)
    assert code(exc) == "ParameterPatternMismatchException"
    assert ssm.get_parameter(Name="port")["Parameter"]["Value"] == "8080"  # the refused value left no version
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="broken", Value="v", Type="String", AllowedPattern="([a-")
    assert code(exc) == "InvalidAllowedPatternException"
    # The whole value must match, as Java's matches() requires.
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="partial", Value="abc1", Type="String", AllowedPattern="[a-z]+")
    assert code(exc) == "ParameterPatternMismatchException"


def test_tags_on_create_and_not_with_overwrite(ssm):
    ssm.put_parameter(Name="/t/p", Value="v", Type="String", Tags=[{"Key": "team", "Value": "core"}])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/t/p")["TagList"] == [
        {"Key": "team", "Value": "core"}]
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="/t/p", Value="w", Overwrite=True, Tags=[{"Key": "a", "Value": "b"}])
    assert code(exc) == "ValidationException" and "tags and overwrite" in str(exc.value)
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="/t/p", Tags=[{"Key": "env", "Value": "dev"}])
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId="/t/p", TagKeys=["team"])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/t/p")["TagList"] == [
        {"Key": "env", "Value": "dev"}]
    with pytest.raises(ClientError) as exc:
        ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="/t/none", Tags=[{"Key": "a", "Value": "b"}])
    assert code(exc) == "InvalidResourceId"
    with pytest.raises(ClientError) as exc:
        ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="/t/p",
                                 Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert code(exc) == "TooManyTagsError"


def test_delete_parameter_and_parameters(ssm):
    for name in ("/d/a", "/d/b", "/d/c"):
        ssm.put_parameter(Name=name, Value="v", Type="String")
    ssm.delete_parameter(Name="/d/a")
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name="/d/a")
    assert code(exc) == "ParameterNotFound"
    with pytest.raises(ClientError) as exc:
        ssm.delete_parameter(Name="/d/a")
    assert code(exc) == "ParameterNotFound"
    out = ssm.delete_parameters(Names=["/d/b", "/d/c", "/d/zz"])
    assert sorted(out["DeletedParameters"]) == ["/d/b", "/d/c"] and out["InvalidParameters"] == ["/d/zz"]
    # A name deleted starts again at version 1.
    assert ssm.put_parameter(Name="/d/b", Value="again", Type="String")["Version"] == 1


def test_aws_ec2_image_is_checked_after_the_answer(ssm):
    assert ssm.put_parameter(Name="/golden", Value="ami-0a0000000000a2023", Type="String",
                             DataType="aws:ec2:image")["Version"] == 1
    got = ssm.get_parameter(Name="/golden")["Parameter"]
    assert (got["Value"], got["DataType"]) == ("ami-0a0000000000a2023", "aws:ec2:image")
    # An AMI that does not exist: PutParameter answers a version, which never becomes visible (AWS's behaviour).
    assert ssm.put_parameter(Name="/golden", Value="ami-0123456789abcdef0", Overwrite=True)["Version"] == 2
    assert ssm.get_parameter(Name="/golden")["Parameter"]["Version"] == 1
    assert ssm.put_parameter(Name="/ghost", Value="not-an-ami", Type="String", DataType="aws:ec2:image")["Version"] == 1
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name="/ghost")
    assert code(exc) == "ParameterNotFound"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="/list-image", Value="ami-0a0000000000a2023", Type="StringList",
                          DataType="aws:ec2:image")
    assert code(exc) == "ValidationException"


def test_changes_and_failed_image_checks_reach_eventbridge(ssm, ssm_events, account):
    ssm.put_parameter(Name="/ev/p", Value="a", Type="String", Description="watched")
    ssm.put_parameter(Name="/ev/p", Value="b", Overwrite=True)
    ssm.label_parameter_version(Name="/ev/p", ParameterVersion=1, Labels=["first"])
    ssm.delete_parameter(Name="/ev/p")
    ssm.put_parameter(Name="/ev/ami", Value="ami-0123456789abcdef0", Type="String", DataType="aws:ec2:image")
    events = ssm_events()
    assert all(e["source"] == "aws.ssm" and e["detail-type"] == "Parameter Store Change" for e in events)
    # A standard queue promises no order: compare what arrived, not in which order.
    seen = sorted((e["detail"]["name"], e["detail"]["operation"]) for e in events)
    assert seen == sorted([("/ev/p", "Create"), ("/ev/p", "Update"), ("/ev/p", "LabelParameterVersion"),
                           ("/ev/p", "Delete"), ("/ev/ami", "Create")])
    created = next(e for e in events if e["detail"]["operation"] == "Create" and e["detail"]["name"] == "/ev/p")
    assert (created["detail"]["description"], created["detail"]["type"]) == ("watched", "String")
    failed = next(e for e in events if e["detail"]["name"] == "/ev/ami")
    assert (failed["detail"]["exception"], failed["detail"]["dataType"]) == ("Unable to Describe Resource",
                                                                             "aws:ec2:image")
    assert failed["resources"] == [f"arn:aws:ssm:us-east-1:{account}:parameter/ev/ami"]
    assert ssm.get_parameters(Names=["/ev/ami"])["InvalidParameters"] == ["/ev/ami"]
