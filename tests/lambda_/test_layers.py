"""Layers: published versions whose content appears at /opt, later layers on top, as on AWS."""

from __future__ import annotations

import pytest

from .conftest import zip_of


def _publish(lam, name: str, files: dict, **kw) -> dict:
    return lam.publish_layer_version(LayerName=name, Content={"ZipFile": zip_of(files, kw.pop("executable", ()))},
                                     **kw)


def test_layer_versions_api(lam, account):
    v1 = _publish(lam, "shared", {"python/shared.py": "X = 1\n"}, CompatibleRuntimes=["python3.12"],
                  Description="one")
    assert v1["Version"] == 1
    assert v1["LayerVersionArn"] == f"arn:aws:lambda:us-east-1:{account}:layer:shared:1"
    v2 = _publish(lam, "shared", {"python/shared.py": "X = 2\n"}, CompatibleRuntimes=["python3.12"])
    assert v2["Version"] == 2
    assert lam.get_layer_version(LayerName="shared", VersionNumber=1)["Description"] == "one"
    assert lam.get_layer_version_by_arn(Arn=v2["LayerVersionArn"])["Version"] == 2
    assert [v["Version"] for v in lam.list_layer_versions(LayerName="shared")["LayerVersions"]] == [2, 1]
    layers = lam.list_layers(CompatibleRuntime="python3.12")["Layers"]
    assert [(l["LayerName"], l["LatestMatchingVersion"]["Version"]) for l in layers] == [("shared", 2)]
    assert lam.list_layers(CompatibleRuntime="nodejs20.x")["Layers"] == []
    lam.add_layer_version_permission(LayerName="shared", VersionNumber=2, StatementId="all",
                                     Action="lambda:GetLayerVersion", Principal="*")
    assert '"Sid": "all"' in lam.get_layer_version_policy(LayerName="shared", VersionNumber=2)["Policy"]
    lam.delete_layer_version(LayerName="shared", VersionNumber=1)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_layer_version(LayerName="shared", VersionNumber=1)
    lam.delete_layer_version(LayerName="shared", VersionNumber=2)


def test_python_and_node_functions_see_their_layers_at_opt(fns, lam):
    base = _publish(lam, "base", {"python/greeting.py": "WORD = 'base'\n", "data/which.txt": "base",
                                  "nodejs/node_modules/greet/index.js": "module.exports = () => 'node layer';\n"})
    top = _publish(lam, "top", {"data/which.txt": "top"})
    source = ("import greeting\ndef handler(e, c):\n    return {'word': greeting.WORD, "
              "'which': open('/opt/data/which.txt').read() if __import__('os').path.exists('/opt/data') else None}\n")
    fns.python("layered", source, Layers=[base["LayerVersionArn"], top["LayerVersionArn"]])
    config = lam.get_function_configuration(FunctionName="layered")
    assert [l["Arn"] for l in config["Layers"]] == [base["LayerVersionArn"], top["LayerVersionArn"]]
    body = fns.invoke("layered")[1]
    assert body["word"] == "base"  # /opt/python is on the module path
    if body["which"] is None:
        pytest.skip("kumo runs without mount namespaces here: layers are found by the runtime, /opt is the host's")
    assert body["which"] == "top"  # the later layer wins
    fns.create("node-layered", {"index.js": "exports.handler = async () => require('greet')();\n"},
               runtime="nodejs20.x", handler="index.handler", Layers=[base["LayerVersionArn"]])
    assert fns.invoke("node-layered")[1] == "node layer"


def test_a_custom_runtime_from_a_layer(fns, lam):
    bootstrap = ("#!/bin/sh\nAPI=\"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime\"\nwhile true; do\n"
                 "  H=$(mktemp); B=$(curl -sS -D $H $API/invocation/next)\n"
                 "  ID=$(grep -i '^lambda-runtime-aws-request-id:' $H | cut -d: -f2 | tr -d '[:space:]')\n"
                 "  curl -sS -o /dev/null -X POST $API/invocation/$ID/response -d \"\\\"$(cat $LAMBDA_TASK_ROOT/msg)\\\"\"\n"
                 "done\n")
    runtime = _publish(lam, "shell-runtime", {"bootstrap": bootstrap}, executable=("bootstrap",))
    fns.create("from-layer", {"msg": "from the function's code"}, runtime="provided.al2023", handler="none",
               Layers=[runtime["LayerVersionArn"]])
    assert fns.invoke("from-layer")[1] == "from the function's code"
