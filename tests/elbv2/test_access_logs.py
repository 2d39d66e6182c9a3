"""ALB access logs written to S3 in AWS's format and key layout, on kumo's clock (advanced, not slept)."""

from __future__ import annotations

import gzip
import http.server
import threading
import uuid

import pytest
from botocore.exceptions import ClientError

from .conftest import default_setup, get, node, settle_health, wait_active


class _Quiet(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        body = b"hello from the target"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def web_target():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_alb_access_log_lands_in_s3_after_five_minutes(aws, kumo_server, web_target, account):
    s3 = aws("s3")
    bucket = f"alb-logs-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    _ec2, elb, vpc, subnets = default_setup(aws)
    lb = elb.create_load_balancer(Name="logged", Subnets=subnets)["LoadBalancers"][0]
    arn = lb["LoadBalancerArn"]
    tg = elb.create_target_group(Name="local", Protocol="HTTP", Port=web_target, VpcId=vpc,
                                 TargetType="ip")["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": web_target}])
    listener = elb.create_listener(LoadBalancerArn=arn, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])["Listeners"][0]
    elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=5, Conditions=[
        {"Field": "path-pattern", "Values": ["/fixed"]}], Actions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "418", "MessageBody": "teapot"}}])
    with pytest.raises(ClientError) as err:
        elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "true"}])
    assert err.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as err:
        elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.bucket", "Value": f"missing-{uuid.uuid4().hex[:8]}"}])
    assert err.value.response["Error"]["Code"] == "InvalidConfigurationRequest"
    elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
        {"Key": "access_logs.s3.enabled", "Value": "true"}, {"Key": "access_logs.s3.bucket", "Value": bucket},
        {"Key": "access_logs.s3.prefix", "Value": "alb"}])
    s3.head_object(Bucket=bucket, Key=f"alb/AWSLogs/{account}/ELBAccessLogTestFile")  # written at enable time
    lb = wait_active(elb, lb)
    settle_health(kumo_server, elb, tg["TargetGroupArn"])
    assert get(node(lb), "/hello?x=1", headers={"User-Agent": "kumo-test/1.0"})[0] == 200
    assert get(node(lb), "/fixed")[0] == 418
    kumo_server.advance(300)
    prefix = f"alb/AWSLogs/{account}/elasticloadbalancing/us-east-1/"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    assert len(keys) == 1 and keys[0].endswith(".log.gz")
    lb_id = arn.split(":loadbalancer/")[1]
    name = keys[0].rsplit("/", 1)[1]
    assert name.startswith(f"{account}_elasticloadbalancing_us-east-1_{lb_id.replace('/', '.')}_")
    lines = gzip.decompress(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()).decode().splitlines()
    assert len(lines) == 2
    forward = next(line for line in lines if "/hello" in line)
    fields = forward.split(" ")
    assert fields[0] == "http" and fields[2] == lb_id
    assert fields[4] == f"127.0.0.1:{web_target}" and fields[8:10] == ["200", "200"]
    assert f'"GET http://{node(lb)}:80/hello?x=1 HTTP/1.1" "kumo-test/1.0"' in forward
    assert tg["TargetGroupArn"] in forward and '"forward"' in forward
    fixed = next(line for line in lines if "/fixed" in line).split(" ")
    assert fixed[4] == "-" and fixed[8:10] == ["418", "-"] and '"fixed-response"' in " ".join(fixed)


def test_nlb_logs_tls_connections_only(aws, kumo_server, tcp_server, account):
    import socket
    import ssl

    def handler(conn, addr):
        with conn:
            data = conn.recv(100)
            if data:
                conn.sendall(b"plain:" + data)

    server = tcp_server(handler)
    s3 = aws("s3")
    bucket = f"nlb-logs-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    cert = aws("acm").request_certificate(DomainName="nlb.example.com")["CertificateArn"]
    _ec2, elb, vpc, subnets = default_setup(aws, zones=1)
    lb = elb.create_load_balancer(Name="net-logged", Type="network", Subnets=subnets)["LoadBalancers"][0]
    tg = elb.create_target_group(Name="raw-logged", Protocol="TCP", Port=server.port, VpcId=vpc,
                                 TargetType="ip")["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": server.port}])
    for protocol, port, kw in (("TLS", 7444, {"Certificates": [{"CertificateArn": cert}]}), ("TCP", 7445, {})):
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol=protocol, Port=port, DefaultActions=[
            {"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}], **kw)
    elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
        {"Key": "access_logs.s3.enabled", "Value": "true"}, {"Key": "access_logs.s3.bucket", "Value": bucket}])
    lb = wait_active(elb, lb)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((node(lb), 7444), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="nlb.example.com") as tls:
            tls.sendall(b"secret")
            assert tls.recv(100) == b"plain:secret"
    with socket.create_connection((node(lb), 7445), timeout=5) as plain:
        plain.sendall(b"tcp")
        assert plain.recv(100) == b"plain:tcp"
    kumo_server.advance(300)
    prefix = f"AWSLogs/{account}/elasticloadbalancing/us-east-1/"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    assert len(keys) == 1 and "_net.net-logged." in keys[0]
    lines = gzip.decompress(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()).decode().splitlines()
    assert len(lines) == 1  # the TCP listener's connection is not logged, as on AWS
    fields = lines[0].split(" ")
    assert fields[:2] == ["tls", "2.0"] and fields[3] == lb["LoadBalancerArn"].split(":loadbalancer/")[1]
    assert fields[6] == f"{node(lb)}:7444" and fields[9:11] == ["6", "12"]  # bytes received and sent
    assert fields[12] == cert and fields[15].startswith("tlsv1")


def test_lambda_target_requests_are_logged_with_no_target_address(aws, kumo_server, account):
    from tests.lambda_.conftest import TRUST, Functions

    lam = aws("lambda")
    role = aws("iam").create_role(RoleName="alb-fn", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    fn = Functions(lam, role).python("logged-fn", "def handler(e, c):\n    return {'statusCode': 201, "
                                     "'body': 'made'}\n")
    s3 = aws("s3")
    bucket = f"fn-logs-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    _ec2, elb, _vpc, subnets = default_setup(aws)
    lb = elb.create_load_balancer(Name="fn-logged", Subnets=subnets)["LoadBalancers"][0]
    try:
        tg = elb.create_target_group(Name="fn-logged", TargetType="lambda")["TargetGroups"][0]
        # AWS refuses the registration unless the function's policy lets Elastic Load Balancing invoke it.
        lam.add_permission(FunctionName="logged-fn", StatementId="alb", Action="lambda:InvokeFunction",
                           Principal="elasticloadbalancing.amazonaws.com", SourceArn=tg["TargetGroupArn"])
        elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": fn["FunctionArn"]}])
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
        elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "true"}, {"Key": "access_logs.s3.bucket", "Value": bucket}])
        lb = wait_active(elb, lb)
        assert get(node(lb), "/make")[0] == 201
        kumo_server.advance(300)
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="AWSLogs/").get("Contents", [])
                if o["Key"].endswith(".log.gz")]
        assert len(keys) == 1
        line = gzip.decompress(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()).decode().strip()
        fields = line.split(" ")
        assert fields[4] == "-" and fields[8:10] == ["201", "201"] and f" {tg['TargetGroupArn']} " in line
    finally:
        lam.delete_function(FunctionName="logged-fn")
