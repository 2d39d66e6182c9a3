"""``--enforce-signatures``: SigV4 verified against the keys kumo issued and the root pair, in every protocol.

One kumo with enforcement on serves this module; boto3, the aws CLI and raw HTTP signed by botocore drive it.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import boto3
import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.conftest import REGION, Clients, new_account
from tests.edge.http import send

MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.")
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})


@pytest.fixture
def server(signed_server):
    return signed_server


@pytest.fixture
def aws(server, account) -> Clients:
    return Clients(server.endpoint, account)


def error(exc: pytest.ExceptionInfo) -> tuple[str, int, str]:
    resp = exc.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"], resp["Error"].get("Message", "")


def sign(endpoint: str, service: str, method: str = "POST", path: str = "/", body: bytes = b"",
         headers: dict | None = None, key: str = "000000000000", secret: str = "test", token: str | None = None,
         ) -> dict:
    """The headers botocore's signer adds to a request (sent afterwards with urllib)."""
    request = AWSRequest(method, endpoint + path, data=body, headers=headers or {})
    SigV4Auth(Credentials(key, secret, token), service, REGION).add_auth(request)
    return dict(request.headers.items())


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# service, call, (code, status) for a wrong secret, (code, status) for a key kumo never issued
PROTOCOLS = [
    ("sts", lambda c: c.get_caller_identity(), ("SignatureDoesNotMatch", 403), ("InvalidClientTokenId", 403)),
    ("iam", lambda c: c.list_users(), ("SignatureDoesNotMatch", 403), ("InvalidClientTokenId", 403)),
    ("ec2", lambda c: c.describe_regions(), ("AuthFailure", 401), ("AuthFailure", 401)),
    ("sqs", lambda c: c.list_queues(), ("SignatureDoesNotMatch", 403), ("InvalidClientTokenId", 403)),
    ("logs", lambda c: c.describe_log_groups(), ("InvalidSignatureException", 400),
     ("UnrecognizedClientException", 400)),
    ("lambda", lambda c: c.list_functions(), ("InvalidSignatureException", 403),
     ("UnrecognizedClientException", 403)),
    ("cloudwatch", lambda c: c.list_metrics(), ("SignatureDoesNotMatch", 403), ("InvalidClientTokenId", 403)),
]


@pytest.mark.parametrize("service,call,wrong,unknown", PROTOCOLS, ids=[p[0] for p in PROTOCOLS])
def test_right_secret_works_and_wrong_secret_or_unknown_key_is_refused(aws, service, call, wrong, unknown):
    protocol = aws(service).meta.service_model.protocol
    assert protocol == {"sts": "query", "iam": "query", "ec2": "ec2", "sqs": "json", "logs": "json",
                        "lambda": "rest-json", "cloudwatch": "smithy-rpc-v2-cbor"}[service]
    call(aws(service))
    call(aws(service, access_key="test"))  # the default account's root
    with pytest.raises(ClientError) as caught:
        call(aws(service, secret_key="not-the-secret"))
    code, status, message = error(caught)
    assert (code, status) == wrong
    if service != "ec2":
        assert message == MISMATCH
    else:
        assert message == "AWS was not able to validate the provided access credentials"
    with pytest.raises(ClientError) as caught:
        call(aws(service, access_key="AKIANEVERISSUED0000"))
    assert error(caught)[:2] == unknown


def test_aws_cli_signs_with_the_right_secret_and_is_refused_with_a_wrong_one(server, account, tmp_path):
    def cli(secret: str, *args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, AWS_ENDPOINT_URL=server.endpoint, AWS_ACCESS_KEY_ID=account,
                   AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION=REGION, AWS_PAGER="",
                   AWS_CONFIG_FILE=str(tmp_path / "config"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "creds"))
        return subprocess.run([sys.executable, "-m", "awscli", *args, "--output", "json"], env=env,
                              capture_output=True, text=True, timeout=120)

    ok = cli("test", "sts", "get-caller-identity")
    assert ok.returncode == 0 and json.loads(ok.stdout)["Account"] == account
    assert cli("test", "lambda", "list-functions").returncode == 0
    bad = cli("wrong", "sts", "get-caller-identity")
    assert bad.returncode != 0 and "SignatureDoesNotMatch" in bad.stderr
    bad = cli("wrong", "logs", "describe-log-groups")
    assert bad.returncode != 0 and "InvalidSignatureException" in bad.stderr


def test_mangled_authorization_header_is_an_incomplete_signature(server):
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    good = sign(server.endpoint, "sts", body=body, headers=form)
    assert send(server.endpoint, "/", body, good)[0] == 200
    auth = good["Authorization"]
    no_signature = auth.rsplit(", Signature=", 1)[0]
    cases = {
        no_signature: "Authorization header requires 'Signature' parameter.",
        auth.replace("Credential=", "Credential "): "not a valid key=value pair (missing equal-sign)",
        auth.replace("/aws4_request", ""): "Credential must have exactly 5 slash-delimited elements",
        auth.replace("host;", ""): "'Host' or ':authority' must be a",
        "AWS4-HMAC-SHA256 garbage": "'garbage' not a valid key=value pair",
        "Bearer abc": "Authorization header requires 'Credential' parameter.",
    }
    for mangled, says in cases.items():
        status, _, answer = send(server.endpoint, "/", body, {**good, "Authorization": mangled})
        assert status == 400 and b"<Code>IncompleteSignature</Code>" in answer, (mangled, answer)
        assert says.encode() in answer, (mangled, answer)
    no_date = {k: v for k, v in good.items() if k != "X-Amz-Date"}
    status, _, answer = send(server.endpoint, "/", body, no_date)
    assert status == 400 and b"requires existence of either a 'X-Amz-Date' or a 'Date' header" in answer
    # A signature of the right form but made of garbage is simply wrong.
    garbage = no_signature + ", Signature=" + "0" * 64
    status, _, answer = send(server.endpoint, "/", body, {**good, "Authorization": garbage})
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in answer
    # json and rest-json services answer the same in their shapes.
    target = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.DescribeLogGroups"}
    good = sign(server.endpoint, "logs", body=b"{}", headers=target)
    status, headers, answer = send(server.endpoint, "/", b"{}", {**good, "Authorization": no_signature})
    assert status == 400 and json.loads(answer)["__type"] == "IncompleteSignatureException"
    good = sign(server.endpoint, "lambda", "GET", "/2015-03-31/functions/")
    status, headers, answer = send(server.endpoint, "/2015-03-31/functions/", method="GET",
                                   headers={**good, "Authorization": good["Authorization"].rsplit(", Signature=")[0]})
    assert status == 403 and headers["x-amzn-ErrorType"] == "IncompleteSignatureException"


def test_unsigned_requests_are_refused_except_where_aws_serves_them_unsigned(server):
    status, answer = get(server.endpoint + "/?Action=GetCallerIdentity&Version=2011-06-15")
    assert status == 403 and b"<Code>MissingAuthenticationToken</Code>" in answer
    assert b"<Message>Request is missing Authentication Token</Message>" in answer
    status, answer = get(server.endpoint + "/?Action=DescribeRegions&Version=2016-11-15")
    assert status == 400 and b"<Code>MissingParameter</Code>" in answer
    assert b"The request must contain the parameter AWSAccessKeyId" in answer
    status, _, answer = send(server.endpoint, "/", b"{}", {"Content-Type": "application/x-amz-json-1.1",
                                                          "X-Amz-Target": "Logs_20140328.DescribeLogGroups"})
    assert status == 400 and json.loads(answer)["__type"] == "MissingAuthenticationTokenException"
    status, headers, answer = send(server.endpoint, "/2015-03-31/functions/", method="GET",
                                   headers={"Host": "lambda.us-east-1.amazonaws.com"})
    assert status == 403 and headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert json.loads(answer)["message"] == "Missing Authentication Token"
    # botocore models STS's web identity call as unsigned: it reaches the service, which refuses the missing role.
    status, answer = get(server.endpoint + "/?Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn="
                         "arn:aws:iam::000000000000:role/web&RoleSessionName=sess&WebIdentityToken=a-token")
    assert status == 403 and b"<Code>AccessDenied</Code>" in answer
    assert b"Not authorized to perform sts:AssumeRoleWithWebIdentity" in answer
    # SNS's confirmation link is followed unsigned; a wrong token is the handler's answer, not the edge's.
    status, answer = get(server.endpoint + "/?Action=ConfirmSubscription&Version=2010-03-31&TopicArn="
                         "arn:aws:sns:us-east-1:000000000000:nope&Token=x")
    assert b"MissingAuthenticationToken" not in answer and status in (400, 404)


def test_an_iam_access_key_works_with_its_own_secret_only(aws, account):
    iam = aws("iam")
    user = iam.create_user(UserName="dev")["User"]
    key = iam.create_access_key(UserName="dev")["AccessKey"]
    as_user = aws("sts", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    assert as_user.get_caller_identity()["Arn"] == user["Arn"]
    for secret in ("test", key["SecretAccessKey"][:-1] + "x"):
        with pytest.raises(ClientError) as caught:
            aws("sts", access_key=key["AccessKeyId"], secret_key=secret).get_caller_identity()
        assert error(caught)[:2] == ("SignatureDoesNotMatch", 403)
    # A long-term key comes without a session token.
    with pytest.raises(ClientError) as caught:
        aws("sts", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"],
            aws_session_token="made-up").get_caller_identity()
    assert error(caught)[:2] == ("InvalidClientTokenId", 403)
    iam.update_access_key(UserName="dev", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as caught:
        as_user.get_caller_identity()
    assert error(caught)[0] == "InvalidClientTokenId"
    iam.delete_access_key(UserName="dev", AccessKeyId=key["AccessKeyId"])
    with pytest.raises(ClientError) as caught:
        as_user.get_caller_identity()
    assert error(caught)[:2] == ("InvalidClientTokenId", 403)


def test_assumed_role_credentials_work_with_their_session_token_only(aws, account):
    role = aws("iam").create_role(RoleName="deployer", AssumeRolePolicyDocument=TRUST)["Role"]
    creds = aws("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="ci")["Credentials"]

    def with_token(token):
        return aws("logs", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                   aws_session_token=token)

    with_token(creds["SessionToken"]).describe_log_groups()
    for token in (None, creds["SessionToken"][:-2] + "xx"):
        with pytest.raises(ClientError) as caught:
            with_token(token).describe_log_groups()
        assert error(caught)[:2] == ("UnrecognizedClientException", 400)
    with pytest.raises(ClientError) as caught:
        aws("sts", access_key=creds["AccessKeyId"], secret_key="test",
            aws_session_token=creds["SessionToken"]).get_caller_identity()
    assert error(caught)[:2] == ("SignatureDoesNotMatch", 403)


def test_presigned_url_works_until_it_expires_on_kumos_clock(server, aws, account):
    url = aws("sts").generate_presigned_url("get_caller_identity", ExpiresIn=300, HttpMethod="GET")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url
    status, answer = get(url)
    assert status == 200 and f"<Arn>arn:aws:iam::{account}:root</Arn>".encode() in answer
    # Temporary credentials travel in the URL too.
    role = aws("iam").create_role(RoleName="presigner", AssumeRolePolicyDocument=TRUST)["Role"]
    creds = aws("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="pre", DurationSeconds=3600)["Credentials"]
    temp = aws("sts", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
               aws_session_token=creds["SessionToken"])
    temp_url = temp.generate_presigned_url("get_caller_identity", ExpiresIn=900, HttpMethod="GET")
    status, answer = get(temp_url)
    assert status == 200 and b"assumed-role/presigner/pre" in answer
    server.advance(310)  # past the 300 seconds (X-Amz-Date counts whole seconds)
    status, answer = get(url)
    assert status == 400 and b"<Code>RequestExpired</Code>" in answer
    assert get(temp_url)[0] == 200  # 900 seconds, not yet over
    # Header-signed requests are judged on the wall clock the client signs with: they still work.
    assert aws("sts").get_caller_identity()["Account"] == account


def test_a_tampered_presigned_url_is_refused(aws):
    url = aws("sts").generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    assert get(url)[0] == 200

    def altered(**changes):
        parts = urllib.parse.urlsplit(url)
        pairs = [(k, changes.pop(k, v)) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)]
        pairs += list(changes.items())
        query = urllib.parse.urlencode([(k, v) for k, v in pairs if v is not None], quote_via=urllib.parse.quote)
        return urllib.parse.urlunsplit(parts._replace(query=query))

    for changed in (altered(**{"X-Amz-Expires": "3600"}), altered(Action="GetSessionToken"),
                    altered(Extra="1"), altered(**{"X-Amz-Signature": "0" * 64})):
        status, answer = get(changed)
        assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in answer, answer
    status, answer = get(altered(**{"X-Amz-Signature": None}))
    assert status == 400 and b"<Code>IncompleteSignature</Code>" in answer
    status, answer = get(altered(**{"X-Amz-Expires": "604801"}))
    assert status == 400 and b"less than a week" in answer


@pytest.mark.parametrize("service,call,minutes,expected", [
    ("sts", lambda c: c.get_caller_identity(), -20, ("SignatureDoesNotMatch", 403, "Signature expired: ")),
    ("sts", lambda c: c.get_caller_identity(), 20, ("SignatureDoesNotMatch", 403, "Signature not yet current: ")),
    ("sts", lambda c: c.get_caller_identity(), -6, None),
    ("ec2", lambda c: c.describe_regions(), -20, ("RequestExpired", 400, "Request has expired.")),
    ("logs", lambda c: c.describe_log_groups(), -20, ("InvalidSignatureException", 400, "Signature expired: ")),
    ("lambda", lambda c: c.list_functions(), -6, ("InvalidSignatureException", 403, "Signature expired: ")),
])
def test_a_request_signed_too_far_from_now_is_refused(aws, monkeypatch, service, call, minutes, expected):
    skewed = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None) + _dt.timedelta(minutes=minutes)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: skewed)
    client = aws(service)
    if expected is None:
        call(client)
        return
    with pytest.raises(ClientError) as caught:
        call(client)
    code, status, message = error(caught)
    assert (code, status) == expected[:2] and message.startswith(expected[2]), message


def test_a_body_changed_after_signing_is_refused(server):
    target = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.DescribeLogGroups"}
    headers = sign(server.endpoint, "logs", body=b'{"limit": 5}', headers=target)
    assert send(server.endpoint, "/", b'{"limit": 5}', headers)[0] == 200
    status, _, answer = send(server.endpoint, "/", b'{"limit": 6}', headers)
    assert status == 400 and json.loads(answer)["__type"] == "InvalidSignatureException"
    # A payload hash header must be the body's.
    headers = sign(server.endpoint, "logs", body=b"{}", headers={**target, "X-Amz-Content-SHA256": "0" * 64})
    status, _, answer = send(server.endpoint, "/", b"{}", headers)
    assert status == 400 and b"x-amz-content-sha256" in answer


def test_a_gzip_compressed_request_is_verified_over_its_compressed_bytes(server, account):
    cw = boto3.client("cloudwatch", endpoint_url=server.endpoint, region_name=REGION, aws_access_key_id=account,
                      aws_secret_access_key="test",
                      config=Config(request_min_compression_size_bytes=1, retries={"max_attempts": 1}))
    seen = []
    cw.meta.events.register("before-send.cloudwatch.PutMetricData",
                            lambda request, **_: seen.append(request.headers.get("Content-Encoding")))
    cw.put_metric_data(Namespace="Sig", MetricData=[{"MetricName": "Zipped", "Value": 1.0}])
    assert seen == [b"gzip"] or seen == ["gzip"]
    assert [m["MetricName"] for m in cw.list_metrics(Namespace="Sig")["Metrics"]] == ["Zipped"]
    # Decompression is bounded by the service's body limit (10 MiB for STS), and bad gzip is the client's error.
    form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Content-Encoding": "gzip"}
    bomb = gzip.compress(b"Action=GetCallerIdentity&Version=2011-06-15&x=" + b"0" * (11 << 20))
    status, _, _ = send(server.endpoint, "/", bomb, sign(server.endpoint, "sts", body=bomb, headers=form))
    assert status == 413
    status, _, answer = send(server.endpoint, "/", b"not gzip", sign(server.endpoint, "sts", body=b"not gzip",
                                                                      headers=form))
    assert status == 400 and b"<Code>MalformedHttpRequestException</Code>" in answer


def test_workloads_call_kumo_with_the_credentials_kumo_issued_them(server, aws, account):
    from tests.ec2.conftest import AMI, console
    from tests.lambda_.conftest import TRUST as LAMBDA_TRUST
    from tests.lambda_.conftest import wait_active, zip_of

    iam, lam, ec2 = aws("iam"), aws("lambda"), aws("ec2")
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
    source = ("import boto3\ndef handler(event, context):\n"
              "    return boto3.client('sts').get_caller_identity()['Arn']\n")
    lam.create_function(FunctionName="who", Runtime="python3.11", Role=role, Handler="lambda_function.handler",
                        Timeout=30, Code={"ZipFile": zip_of({"lambda_function.py": source})})
    iam.create_role(RoleName="app-role", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}')
    iam.create_instance_profile(InstanceProfileName="app-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="app-profile", RoleName="app-role")
    inst = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                             IamInstanceProfile={"Name": "app-profile"},
                             UserData="#!/bin/sh\naws sts get-caller-identity --output text --query Arn\n")
    iid = inst["Instances"][0]["InstanceId"]
    try:
        wait_active(lam, "who")
        payload = json.loads(lam.invoke(FunctionName="who")["Payload"].read())
        assert payload == f"arn:aws:sts::{account}:assumed-role/fn-role/who"
        out = console(ec2, iid, "Up 1 boot(s)", timeout=30)
        assert f"arn:aws:sts::{account}:assumed-role/app-role/{iid}" in out
    finally:
        lam.delete_function(FunctionName="who")
        ec2.terminate_instances(InstanceIds=[iid])


def test_function_url_with_aws_iam_verifies_the_signature(aws, account):
    from tests.lambda_.conftest import TRUST as LAMBDA_TRUST
    from tests.lambda_.conftest import wait_active, zip_of

    lam = aws("lambda")
    role = aws("iam").create_role(RoleName="url-role", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
    lam.create_function(FunctionName="private", Runtime="python3.12", Role=role, Handler="lambda_function.handler",
                        Code={"ZipFile": zip_of({"lambda_function.py": "def handler(e, c):\n    return 'hi'\n"})})
    try:
        wait_active(lam, "private")
        url = lam.create_function_url_config(FunctionName="private", AuthType="AWS_IAM")["FunctionUrl"]
        base = url.rstrip("/")
        status, _, _ = send(base, "/", method="GET")
        assert status == 403
        status, _, answer = send(base, "/", method="GET", headers=sign(base, "lambda", "GET", "/", key=account))
        assert status == 200 and json.loads(answer) == "hi"
        status, headers, answer = send(base, "/", method="GET",
                                       headers=sign(base, "lambda", "GET", "/", key=account, secret="nope"))
        assert status == 403 and headers["x-amzn-ErrorType"] == "InvalidSignatureException"
        assert json.loads(answer)["Message"] == MISMATCH
        status, headers, _ = send(base, "/", method="GET", headers=sign(base, "lambda", "GET", "/", key="AKIANOPE"))
        assert status == 403 and headers["x-amzn-ErrorType"] == "UnrecognizedClientException"
    finally:
        lam.delete_function(FunctionName="private")


def test_health_shows_enforcement(server):
    status, answer = get(server.endpoint + "/_kumo/health")
    assert status == 200 and json.loads(answer)["enforce_signatures"] is True


def test_kumo_start_flag_and_environment_turn_enforcement_on(kumo_process, monkeypatch, tmp_path):
    k = kumo_process("--enforce-signatures", "--ephemeral").start()
    sts = Clients(k.endpoint, "000000000000")
    assert sts("sts").get_caller_identity()["Account"] == "000000000000"
    with pytest.raises(ClientError) as caught:
        sts("sts", secret_key="nope").get_caller_identity()
    assert error(caught)[0] == "SignatureDoesNotMatch"
    status = subprocess.run([sys.executable, "-m", "kumo.cli", "status", "--port", str(k.port)],
                            capture_output=True, text=True, timeout=30)
    assert "signatures: enforced" in status.stdout
    k.close()
    monkeypatch.setenv("KUMO_ENFORCE_SIGNATURES", "1")
    k2 = kumo_process("--ephemeral", data_dir=tmp_path / "second").start()
    assert json.loads(get(k2.endpoint + "/_kumo/health")[1])["enforce_signatures"] is True
    monkeypatch.delenv("KUMO_ENFORCE_SIGNATURES")
    k3 = kumo_process("--ephemeral", data_dir=tmp_path / "third").start()
    assert json.loads(get(k3.endpoint + "/_kumo/health")[1])["enforce_signatures"] is False
    # Off, any key acts as the account it names, whatever the signature.
    assert Clients(k3.endpoint, new_account())("sts", secret_key="nope").get_caller_identity()
