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
