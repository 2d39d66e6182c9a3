"""Regressions of issue 16's Lambda bugs, through boto3."""

SOURCE = "def handler(event, context):\n    return event\n"


def test_list_functions_all_names_latest_with_its_qualifier(fns, lam, account):
    fns.python("listed", SOURCE)
    lam.publish_version(FunctionName="listed")
    arn = f"arn:aws:lambda:us-east-1:{account}:function:listed"
    everything = lam.list_functions(FunctionVersion="ALL")["Functions"]
    assert [(f["Version"], f["FunctionArn"]) for f in everything] == [("$LATEST", arn + ":$LATEST"), ("1", arn + ":1")]
    # Without ALL, $LATEST is the function itself: its ARN unqualified.
    assert [f["FunctionArn"] for f in lam.list_functions()["Functions"]] == [arn]


def test_alb_target_needs_the_functions_permission(fns, lam, aws):
    """Regression: registering a function with a target group succeeded without a resource-policy permission."""
    import pytest
    from botocore.exceptions import ClientError

    arn = fns.python("guarded", SOURCE)["FunctionArn"]
    elb = aws("elbv2")
    tg = elb.create_target_group(Name="guarded-tg", TargetType="lambda")["TargetGroups"][0]["TargetGroupArn"]
    with pytest.raises(ClientError) as e:
        elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": arn}])
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["Error"]["Message"] == (
        f"elasticloadbalancing principal does not have permission to invoke {arn} from target group {tg}")
    # A permission for another target group does not do either.
    lam.add_permission(FunctionName="guarded", StatementId="other", Action="lambda:InvokeFunction",
                       Principal="elasticloadbalancing.amazonaws.com", SourceArn=tg + "-other")
    with pytest.raises(ClientError):
        elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": arn}])
    lam.add_permission(FunctionName="guarded", StatementId="alb", Action="lambda:InvokeFunction",
                       Principal="elasticloadbalancing.amazonaws.com", SourceArn=tg)
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": arn}])
    health = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    assert [h["Target"]["Id"] for h in health] == [arn]
    elb.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": arn}])
    elb.delete_target_group(TargetGroupArn=tg)
