"""GetParameterHistory, labels (AWS's rules: 10 per version, moving between versions) and the 100-version limit."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from .test_parameters import code


def _versions(ssm, name: str, count: int) -> None:
    ssm.put_parameter(Name=name, Value="v1", Type="String")
    for n in range(2, count + 1):
        ssm.put_parameter(Name=name, Value=f"v{n}", Overwrite=True)


def test_history_lists_every_version_with_its_labels(ssm):
    _versions(ssm, "/h/p", 3)
    ssm.label_parameter_version(Name="/h/p", ParameterVersion=2, Labels=["stable"])
    history = ssm.get_parameter_history(Name="/h/p")["Parameters"]
    assert [(h["Version"], h["Value"]) for h in history] == [(1, "v1"), (2, "v2"), (3, "v3")]
    assert history[1]["Labels"] == ["stable"] and "Labels" not in history[0]
    assert all(h["Name"] == "/h/p" and h["Type"] == "String" and h["Tier"] == "Standard" for h in history)
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter_history(Name="/h/none")
    assert code(exc) == "ParameterNotFound"


def test_history_pages(ssm):
    _versions(ssm, "/h/paged", 5)
    first = ssm.get_parameter_history(Name="/h/paged", MaxResults=2)
    assert [h["Version"] for h in first["Parameters"]] == [1, 2]
    second = ssm.get_parameter_history(Name="/h/paged", MaxResults=2, NextToken=first["NextToken"])
    third = ssm.get_parameter_history(Name="/h/paged", MaxResults=2, NextToken=second["NextToken"])
    assert [h["Version"] for h in second["Parameters"] + third["Parameters"]] == [3, 4, 5]
    assert "NextToken" not in third
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter_history(Name="/h/paged", NextToken="garbage")
    assert code(exc) == "InvalidNextToken"


def test_labels_move_between_versions_and_select_a_version(ssm):
    _versions(ssm, "/l/p", 3)
    out = ssm.label_parameter_version(Name="/l/p", ParameterVersion=1, Labels=["prod", "blue"])
    assert out == {**out, "InvalidLabels": [], "ParameterVersion": 1}
    assert ssm.get_parameter(Name="/l/p:prod")["Parameter"]["Value"] == "v1"
    # Without a version, the latest is labelled; the label leaves version 1.
    assert ssm.label_parameter_version(Name="/l/p", Labels=["prod"])["ParameterVersion"] == 3
    got = ssm.get_parameter(Name="/l/p:prod")["Parameter"]
    assert (got["Value"], got["Selector"], got["Version"]) == ("v3", ":prod", 3)
    history = {h["Version"]: h.get("Labels", []) for h in ssm.get_parameter_history(Name="/l/p")["Parameters"]}
    assert history == {1: ["blue"], 2: [], 3: ["prod"]}


def test_label_rules(ssm):
    _versions(ssm, "/l/rules", 2)
    bad = ["1starts-with-digit", "awsReserved", "SSMreserved", "has space", "colon:no"]
    out = ssm.label_parameter_version(Name="/l/rules", ParameterVersion=1, Labels=bad + ["good.label-1_x"])
    assert sorted(out["InvalidLabels"]) == sorted(bad)
    assert ssm.get_parameter(Name="/l/rules:good.label-1_x")["Parameter"]["Version"] == 1
    with pytest.raises(ClientError) as exc:
        ssm.label_parameter_version(Name="/l/rules", ParameterVersion=1, Labels=["x" * 101])
    assert code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        ssm.label_parameter_version(Name="/l/rules", ParameterVersion=9, Labels=["a"])
    assert code(exc) == "ParameterVersionNotFound"
    with pytest.raises(ClientError) as exc:
        ssm.label_parameter_version(Name="/l/none", Labels=["a"])
    assert code(exc) == "ParameterNotFound"
    ssm.label_parameter_version(Name="/l/rules", ParameterVersion=2, Labels=[f"l{i}" for i in range(10)])
    with pytest.raises(ClientError) as exc:
        ssm.label_parameter_version(Name="/l/rules", ParameterVersion=2, Labels=["eleventh"])
    assert code(exc) == "ParameterVersionLabelLimitExceeded"
    # Labelling again with labels it already has adds nothing, so it is not over the limit.
    assert ssm.label_parameter_version(Name="/l/rules", ParameterVersion=2, Labels=["l0"])["InvalidLabels"] == []


def test_unlabel(ssm):
    _versions(ssm, "/l/un", 2)
    ssm.label_parameter_version(Name="/l/un", ParameterVersion=1, Labels=["a", "b"])
    out = ssm.unlabel_parameter_version(Name="/l/un", ParameterVersion=1, Labels=["a", "zzz"])
    assert (out["RemovedLabels"], out["InvalidLabels"]) == (["a"], ["zzz"])
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name="/l/un:a")
    assert code(exc) == "ParameterNotFound"
    assert ssm.get_parameter(Name="/l/un:b")["Parameter"]["Version"] == 1


def test_one_hundred_versions_then_the_oldest_goes_unless_labelled(ssm):
    _versions(ssm, "/v/many", 100)
    ssm.label_parameter_version(Name="/v/many", ParameterVersion=1, Labels=["keep"])
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="/v/many", Value="v101", Overwrite=True)
    assert code(exc) == "ParameterMaxVersionLimitExceeded"
    assert "Version 1, the oldest version" in str(exc.value)
    ssm.unlabel_parameter_version(Name="/v/many", ParameterVersion=1, Labels=["keep"])
    assert ssm.put_parameter(Name="/v/many", Value="v101", Overwrite=True)["Version"] == 101
    versions = [h["Version"] for page in ssm.get_paginator("get_parameter_history").paginate(Name="/v/many")
                for h in page["Parameters"]]
    assert versions == list(range(2, 102))
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name="/v/many:1")
    assert code(exc) == "ParameterVersionNotFound"
