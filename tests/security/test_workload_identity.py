"""Per-workload endpoints know their caller by the connection's source process, not by the address dialled.

An instance's metadata service serves that instance's processes only, and a Lambda environment's Runtime
API serves that environment's processes only: another instance, another function or the host gets 403 and
never another workload's credentials or invocations (docs/compute.md, docs/lambda.md).
"""

from __future__ import annotations

import base64
import http.client
import json

from ..ec2.conftest import AMI, console, terminate_instances_afterwards  # noqa: F401 (autouse fixture)
from ..lambda_.conftest import fns, lam, role  # noqa: F401 (fixtures)

NO_TRUST = '{"Version": "2012-10-17", "Statement": []}'


def _profile(iam, name: str) -> None:
    iam.create_role(RoleName=f"role-{name}", AssumeRolePolicyDocument=NO_TRUST)
    iam.create_instance_profile(InstanceProfileName=f"profile-{name}")
    iam.add_role_to_instance_profile(InstanceProfileName=f"profile-{name}", RoleName=f"role-{name}")


A_USER_DATA = """#!/bin/sh
echo "endpoint=$AWS_EC2_METADATA_SERVICE_ENDPOINT"
T=$(curl -s -X PUT "${AWS_EC2_METADATA_SERVICE_ENDPOINT}latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')
echo "own=$(curl -s -H "X-aws-ec2-metadata-token: $T" \
  "${AWS_EC2_METADATA_SERVICE_ENDPOINT}latest/meta-data/iam/security-credentials/role-a" | base64 -w0)"
echo a-done
"""

# B tries A's metadata service every way a caller could: v1, the v2 flow, a token of its own, and the v2 flow
# again from a source address bound to A's, from a program without kumo's shim and with a forged workload tag;
# then does its own work.  Each line prints the body and the status code.
B_USER_DATA = """#!/bin/sh
export A="{a_endpoint}"
OWN="$AWS_EC2_METADATA_SERVICE_ENDPOINT"
CREDS=latest/meta-data/iam/security-credentials/
try() {{ label=$1; shift; echo "$label=$(curl -s -w ' %{{http_code}}' "$@" | base64 -w0)"; }}
try v1-list "${{A}}$CREDS"
try v1-creds "${{A}}${{CREDS}}role-a"
TA=$(curl -s -X PUT "${{A}}latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')
echo "v2-token-from-a=$(printf %s "$TA" | base64 -w0)"
STEAL=$(mktemp)
cat > "$STEAL" <<'EOS'
label=$1; shift
T=$(curl -s "$@" -X PUT "${{A}}latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')
echo "$label=$(curl -s -w ' %{{http_code}}' "$@" -H "X-aws-ec2-metadata-token: $T" \
  "${{A}}latest/meta-data/iam/security-credentials/role-a" | base64 -w0)"
EOS
sh "$STEAL" v2-creds
sh "$STEAL" a-source-address --interface {a_ip}
env -u LD_PRELOAD sh "$STEAL" no-shim
env -u LD_PRELOAD KUMO_WORKLOAD="${{KUMO_WORKLOAD%/*}}/{a_id}" sh "$STEAL" forged-tag
TB=$(curl -s -X PUT "${{OWN}}latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')
try own-token-at-a -H "X-aws-ec2-metadata-token: $TB" "${{A}}${{CREDS}}role-a"
try own-creds -H "X-aws-ec2-metadata-token: $TB" "${{OWN}}${{CREDS}}role-b"
env -u LD_PRELOAD sh -c 'echo "own-no-shim=$(curl -s -w " %{{http_code}}" -H "X-aws-ec2-metadata-token: $1" "$0" \
  | base64 -w0)"' "${{OWN}}${{CREDS}}role-b" "$TB"
try own-via-link-local -H "X-aws-ec2-metadata-token: $TB" "http://169.254.169.254/${{CREDS}}"
echo "caller=$(aws sts get-caller-identity --query Arn --output text)"
echo b-done
"""


def _lines(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.replace("-", "").isalnum() and key not in out:
            out[key] = value
    return out


def _answer(encoded: str) -> tuple[str, str]:
    """(body, status) of one ``try`` line."""
    body, _, code = base64.b64decode(encoded).decode().rpartition(" ")
    return body, code


def test_an_instance_gets_no_credentials_from_another_instances_metadata_service(aws, account, kumo_server):
    iam, ec2 = aws("iam"), aws("ec2")
    _profile(iam, "a")
    _profile(iam, "b")
    a = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1, UserData=A_USER_DATA,
                          IamInstanceProfile={"Name": "profile-a"})["Instances"][0]
    a_out = _lines(console(ec2, a["InstanceId"], "a-done", timeout=30))
    a_creds = json.loads(base64.b64decode(a_out["own"]))
    assert a_creds["Code"] == "Success" and a_creds["AccessKeyId"]  # A's own reads work
    b = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                          IamInstanceProfile={"Name": "profile-b"},
                          UserData=B_USER_DATA.format(a_endpoint=a_out["endpoint"], a_ip=a["PublicIpAddress"],
                                                      a_id=a["InstanceId"]))["Instances"][0]
    raw = console(ec2, b["InstanceId"], "b-done", timeout=30)
    b_out = _lines(raw)

    refused = ["v1-list", "v1-creds", "v2-creds", "own-token-at-a", "a-source-address", "no-shim", "forged-tag"]
    if not kumo_server.kumo.services["ec2"].backend.isolate:
        # Without root an instance has no mount namespace to tell its processes from ones that copy its tag (and
        # runs as kumo's own user, who can read everything kumo keeps): docs/compute.md says so.
        refused.remove("forged-tag")
        del b_out["forged-tag"]
    # Nothing of A's credentials, nor even its role's name, reaches B by any route.
    for secret in (a_creds["AccessKeyId"], a_creds["SecretAccessKey"], a_creds["Token"], "role-a"):
        assert secret not in raw
    decoded = {k: base64.b64decode(v).decode(errors="replace") for k, v in b_out.items() if k not in ("caller",)}
    for key, text in decoded.items():
        for secret in (a_creds["AccessKeyId"], a_creds["SecretAccessKey"], a_creds["Token"], "role-a"):
            assert secret not in text, key
    for key in refused:
        assert _answer(b_out[key]) == ("Forbidden", "403"), (key, _answer(b_out[key]))
    assert decoded["v2-token-from-a"] == "Forbidden"  # no token from A's service either

    # B's own work: its credentials, with its token, with and without the shim, and through 169.254.169.254.
    body, code = _answer(b_out["own-creds"])
    assert code == "200" and json.loads(body)["Code"] == "Success"
    assert json.loads(body)["AccessKeyId"] != a_creds["AccessKeyId"]
    body, code = _answer(b_out["own-no-shim"])
    assert code == "200" and json.loads(body)["Code"] == "Success"
    assert _answer(b_out["own-via-link-local"]) == ("role-b", "200")
    assert b_out["caller"] == f"arn:aws:sts::{account}:assumed-role/role-b/{b['InstanceId']}"


TOKEN_HOLDER = """#!/bin/sh
T=$(curl -s -X PUT "${AWS_EC2_METADATA_SERVICE_ENDPOINT}latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 120')
echo "token=$T"
echo token-done
"""

TOKEN_TAKER = """#!/bin/sh
E="${{AWS_EC2_METADATA_SERVICE_ENDPOINT}}latest/meta-data/instance-id"
echo "with-taken=$(curl -s -w ' %{{http_code}}' -H 'X-aws-ec2-metadata-token: {taken}' "$E")"
T=$(curl -s -X PUT "${{AWS_EC2_METADATA_SERVICE_ENDPOINT}}latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')
echo "with-own=$(curl -s -w ' %{{http_code}}' -H "X-aws-ec2-metadata-token: $T" "$E")"
echo taker-done
"""


def test_a_token_works_only_for_the_instance_that_got_it(aws):
    """B's IMDSv2 token, carried into A and presented to A's own metadata service, is refused there."""
    ec2 = aws("ec2")
    b = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1, UserData=TOKEN_HOLDER,
                          MetadataOptions={"HttpTokens": "required"})["Instances"][0]
    taken = _lines(console(ec2, b["InstanceId"], "token-done"))["token"]
    assert len(taken) > 20
    a = ec2.run_instances(ImageId=AMI, InstanceType="t3.nano", MinCount=1, MaxCount=1,
                          UserData=TOKEN_TAKER.format(taken=taken),
                          MetadataOptions={"HttpTokens": "required"})["Instances"][0]
    out = _lines(console(ec2, a["InstanceId"], "taker-done"))
    assert out["with-taken"] == "Unauthorized 401"
    assert out["with-own"] == f"{a['InstanceId']} 200"


# -- Lambda ----------------------------------------------------------------------------------------------------

REPORTER = """import os

def handler(event, context):
    return {"runtime_api": os.environ["AWS_LAMBDA_RUNTIME_API"], "echo": event}
"""

INTRUDER = """import http.client
import os
import subprocess


def ask(address, method, path, body=None):
    conn = http.client.HTTPConnection(address, timeout=5)
    try:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        return [resp.status, resp.read().decode()]
    except OSError as exc:
        return [0, repr(exc)]
    finally:
        conn.close()


def handler(event, context):
    target = event["target"]
    out = {"next": ask(target, "GET", "/2018-06-01/runtime/invocation/next"),
           "post": ask(target, "POST", "/2018-06-01/runtime/invocation/some-id/response", "{}"),
           "init-error": ask(target, "POST", "/2018-06-01/runtime/init/error", "{}")}
    # A process the runtime starts belongs to the environment: its own Runtime API answers it
    # (400: no such request id), it is not refused.
    own = os.environ["AWS_LAMBDA_RUNTIME_API"]
    out["child"] = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-d", "{}",
                                   f"http://{own}/2018-06-01/runtime/invocation/not-a-request/response"],
                                  capture_output=True, text=True, timeout=10).stdout
    return out
"""


def _ask(address: str, method: str, path: str, body: str | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(address, timeout=5)
    try:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()


def test_a_runtime_api_serves_only_its_own_environment(fns):
    fns.python("victim", REPORTER)
    fns.python("intruder", INTRUDER, Timeout=20)
    _, first = fns.invoke("victim", {"n": 1})
    address = first["runtime_api"]

    # Another function's runtime (and what it starts) is refused: it can neither take invocations nor post results.
    resp, out = fns.invoke("intruder", {"target": address})
    assert "FunctionError" not in resp, out
    for key in ("next", "post", "init-error"):
        status, body = out[key]
        assert status == 403 and json.loads(body)["errorType"] == "Forbidden", (key, out[key])
    assert out["child"] == "400"

    # So is the host.
    for method, path in (("GET", "/2018-06-01/runtime/invocation/next"),
                         ("POST", "/2018-06-01/runtime/invocation/some-id/response")):
        status, body = _ask(address, method, path, "{}" if method == "POST" else None)
        assert status == 403 and body["errorType"] == "Forbidden"

    # The victim's own runtime carries on in the same environment, undisturbed.
    resp, second = fns.invoke("victim", {"n": 2})
    assert "FunctionError" not in resp
    assert second == {"runtime_api": address, "echo": {"n": 2}}
