"""GetParametersByPath (one level, recursive, filters, pages of at most 10) and DescribeParameters (filters, pages)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from .test_parameters import code


@pytest.fixture
def tree(ssm):
    names = [f"/svc/app/k{i:02d}" for i in range(23)] + ["/svc/app/deep/a", "/svc/app/deep/b", "/svc/other", "flat"]
    for name in names:
        ssm.put_parameter(Name=name, Value="v", Type="String")
    ssm.put_parameter(Name="/svc/app/list", Value="a,b", Type="StringList", Tags=[{"Key": "team", "Value": "x"}])
    return names + ["/svc/app/list"]


def test_by_path_one_level_and_recursive(ssm, tree):
    one = [p["Name"] for page in ssm.get_paginator("get_parameters_by_path").paginate(Path="/svc/app")
           for p in page["Parameters"]]
    assert one == sorted([n for n in tree if n.startswith("/svc/app/") and n.count("/") == 3])
    deep = [p["Name"] for page in ssm.get_paginator("get_parameters_by_path").paginate(Path="/svc", Recursive=True)
            for p in page["Parameters"]]
    assert deep == sorted(n for n in tree if n.startswith("/svc/"))
    # A trailing slash names the same path.
    assert ssm.get_parameters_by_path(Path="/svc/")["Parameters"][0]["Name"] == "/svc/other"


def test_by_path_pages_hold_at_most_ten(ssm, tree):
    first = ssm.get_parameters_by_path(Path="/svc/app")
    assert len(first["Parameters"]) == 10 and first["NextToken"]
    second = ssm.get_parameters_by_path(Path="/svc/app", MaxResults=7, NextToken=first["NextToken"])
    assert len(second["Parameters"]) == 7
    assert not {p["Name"] for p in first["Parameters"]} & {p["Name"] for p in second["Parameters"]}
    with pytest.raises(ClientError) as exc:
        ssm.get_parameters_by_path(Path="/svc/app", MaxResults=11)
    assert code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        ssm.get_parameters_by_path(Path="/svc/app", NextToken=first["NextToken"], Recursive=True)
    assert code(exc) == "InvalidNextToken"


def test_by_path_filters(ssm, tree):
    lists = ssm.get_parameters_by_path(Path="/svc", Recursive=True,
                                       ParameterFilters=[{"Key": "Type", "Values": ["StringList"]}])["Parameters"]
    assert [p["Name"] for p in lists] == ["/svc/app/list"]
    tagged = ssm.get_parameters_by_path(Path="/svc", Recursive=True,
                                        ParameterFilters=[{"Key": "tag:team"}])["Parameters"]
    assert [p["Name"] for p in tagged] == ["/svc/app/list"]
    ssm.put_parameter(Name="/svc/app/k00", Value="v2", Overwrite=True)
    ssm.label_parameter_version(Name="/svc/app/k00", ParameterVersion=1, Labels=["old"])
    labelled = ssm.get_parameters_by_path(Path="/svc/app",
                                          ParameterFilters=[{"Key": "Label", "Values": ["old"]}])["Parameters"]
    assert [(p["Name"], p["Version"], p["Value"]) for p in labelled] == [("/svc/app/k00", 1, "v")]
    for bad, error in (({"Key": "Name", "Values": ["x"]}, "InvalidFilterKey"),
                       ({"Key": "Type", "Values": ["Number"]}, "InvalidFilterValue"),
                       ({"Key": "Type", "Option": "Contains", "Values": ["String"]}, "InvalidFilterOption")):
        with pytest.raises(ClientError) as exc:
            ssm.get_parameters_by_path(Path="/svc", ParameterFilters=[bad])
        assert code(exc) == error


def test_describe_parameters_filters_and_pages(ssm, tree):
    everything = [p["Name"] for page in ssm.get_paginator("describe_parameters").paginate(PaginationConfig={
        "PageSize": 7}) for p in page["Parameters"]]
    assert everything == sorted(tree)
    first = ssm.describe_parameters(MaxResults=5)
    assert len(first["Parameters"]) == 5 and first["NextToken"]

    def names(**kw):
        return [p["Name"] for p in ssm.describe_parameters(**kw)["Parameters"]]

    assert names(ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": ["/svc/app/deep"]}]) == [
        "/svc/app/deep/a", "/svc/app/deep/b"]
    assert names(ParameterFilters=[{"Key": "Name", "Option": "Contains", "Values": ["k1"]}]) == [
        f"/svc/app/k{i}" for i in range(10, 20)]
    assert names(ParameterFilters=[{"Key": "Path", "Option": "OneLevel", "Values": ["/svc"]}]) == ["/svc/other"]
    assert names(ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": ["/svc/app/deep"]}]) == [
        "/svc/app/deep/a", "/svc/app/deep/b"]
    assert names(ParameterFilters=[{"Key": "Type", "Values": ["StringList"]}]) == ["/svc/app/list"]
    assert names(ParameterFilters=[{"Key": "tag:team", "Values": ["x"]}]) == ["/svc/app/list"]
    assert names(Filters=[{"Key": "Name", "Values": ["fla"]}]) == ["flat"]
    with pytest.raises(ClientError) as exc:
        ssm.describe_parameters(Filters=[{"Key": "Name", "Values": ["x"]}],
                                ParameterFilters=[{"Key": "Name", "Values": ["x"]}])
    assert code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        ssm.describe_parameters(ParameterFilters=[{"Key": "Path", "Values": ["/aws/service"]}])
    assert code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        ssm.describe_parameters(ParameterFilters=[{"Key": "Label", "Values": ["x"]}])
    assert code(exc) == "InvalidFilterKey"
