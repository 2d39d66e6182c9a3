"""CORS preflights and headers, and the static website endpoint, over real HTTP (urllib) against kumo."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from botocore.exceptions import ClientError


def _http(url: str, method: str = "GET", headers: dict | None = None, host: str | None = None):
    """(status, headers, body) of one request, redirects not followed."""
    request = urllib.request.Request(url, method=method, headers=dict(headers or {}))
    if host:
        request.add_header("Host", host)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


CORS = {"CORSRules": [
    {"AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["*"],
     "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
]}


def test_cors_preflight_and_actual_request_headers(endpoint, s3, bucket):
    url = f"{endpoint}/{bucket}/photo.jpg"
    status, _h, body = _http(url, "OPTIONS", {"Origin": "https://app.example.com",
                                              "Access-Control-Request-Method": "PUT"})
    assert status == 403 and b"<Code>AccessForbidden</Code>" in body and b"CORS is not enabled" in body
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=CORS)
    status, headers, _b = _http(url, "OPTIONS", {"Origin": "https://app.example.com",
                                                 "Access-Control-Request-Method": "PUT",
                                                 "Access-Control-Request-Headers": "Content-Type, X-Amz-Date"})
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert headers["Access-Control-Allow-Headers"] == "content-type, x-amz-date"
    assert headers["Access-Control-Expose-Headers"] == "ETag" and headers["Access-Control-Max-Age"] == "600"
    status, _h, body = _http(url, "OPTIONS", {"Origin": "https://evil.org", "Access-Control-Request-Method": "PUT"})
    assert status == 403 and b"This CORS request is not allowed" in body
    # Virtual-hosted, and an actual GET from a page: the matching rule's headers on the answer.
    port = urllib.parse.urlsplit(endpoint).port
    status, headers, _b = _http(f"http://127.0.0.1:{port}/photo.jpg", "OPTIONS",
                                {"Origin": "https://other.net", "Access-Control-Request-Method": "GET"},
                                host=f"{bucket}.s3.localhost:{port}")
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    s3.put_object(Bucket=bucket, Key="photo.jpg", Body=b"jpeg")
    # A page's unsigned request is anonymous, as on AWS: CORS allowing the origin does not make the object
    # public, nor does it let the page write (kumo would otherwise take it as the account's root).
    status, _h, _b = _http(url, "GET", {"Origin": "https://www.example.com"})
    assert status == 403
    status, _h, _b = _http(url, "PUT", {"Origin": "https://www.example.com"})
    assert status == 403
    assert s3.get_object(Bucket=bucket, Key="photo.jpg")["Body"].read() == b"jpeg"
    # A presigned URL, as a page gets from its back end, works from the page, with the rule's headers.
    signed = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "photo.jpg"}, ExpiresIn=300)
    status, headers, body = _http(signed, "GET", {"Origin": "https://www.example.com"})
    assert status == 200 and body == b"jpeg"
    assert headers["Access-Control-Allow-Origin"] == "https://www.example.com"
    assert headers["Access-Control-Expose-Headers"] == "ETag"
    _public(s3, bucket)  # a public read needs no signature
    status, headers, body = _http(url, "GET", {"Origin": "https://www.example.com"})
    assert status == 200 and body == b"jpeg" and headers["Access-Control-Allow-Origin"] == "https://www.example.com"
    # What the rules do not allow a page from another site stays refused by kumo's guard (docs/architecture.md).
    status, _h, _b = _http(url, "DELETE", {"Origin": "https://evil.org"})
    assert status == 403
    assert s3.head_object(Bucket=bucket, Key="photo.jpg")["ContentLength"] == 4
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["AllowedOrigins"] == ["https://*.example.com"]
    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError) as err:
        s3.get_bucket_cors(Bucket=bucket)
    assert err.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"


def _public(s3, bucket):
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))


def test_website_index_error_documents_and_redirects(endpoint, s3, bucket):
    port = urllib.parse.urlsplit(endpoint).port
    site = f"http://127.0.0.1:{port}"
    host = f"{bucket}.s3-website.localhost:{port}"
    status, _h, body = _http(site + "/", host=host)
    assert status == 404 and b"NoSuchWebsiteConfiguration" in body
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "404.html"},
        "RoutingRules": [{"Condition": {"KeyPrefixEquals": "old/"}, "Redirect": {"ReplaceKeyPrefixWith": "new/"}}]})
    for key, body in (("index.html", b"<h1>home</h1>"), ("docs/index.html", b"<h1>docs</h1>"),
                      ("404.html", b"<h1>lost</h1>")):
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/html")
    status, _h, body = _http(site + "/", host=host)
    assert status == 403  # not public yet: the website endpoint serves anonymous reads only
    _public(s3, bucket)
    status, headers, body = _http(site + "/", host=host)
    assert (status, body) == (200, b"<h1>home</h1>") and headers["Content-Type"] == "text/html"
    assert _http(site + "/docs/", host=host)[2] == b"<h1>docs</h1>"
    status, headers, _b = _http(site + "/docs", host=host)
    assert status == 302 and headers["Location"] == "/docs/"
    status, _h, body = _http(site + "/missing", host=host)
    assert (status, body) == (404, b"<h1>lost</h1>")
    status, headers, _b = _http(site + "/old/page.html", host=host)
    assert status == 301 and headers["Location"] == f"http://{host}/new/page.html"
    status, _h, _b = _http(site + "/", "DELETE", host=host)
    assert status == 405
    # The region-named form of the endpoint, and a bucket redirecting everything.
    assert _http(site + "/", host=f"{bucket}.s3-website-us-east-1.localhost:{port}")[0] == 200
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"RedirectAllRequestsTo": {
        "HostName": "www.example.com", "Protocol": "https"}})
    status, headers, _b = _http(site + "/a?b=1", host=host)
    assert status == 301 and headers["Location"] == "https://www.example.com/a?b=1"
    assert s3.get_bucket_website(Bucket=bucket)["RedirectAllRequestsTo"]["HostName"] == "www.example.com"
    s3.delete_bucket_website(Bucket=bucket)
    with pytest.raises(ClientError) as err:
        s3.get_bucket_website(Bucket=bucket)
    assert err.value.response["Error"]["Code"] == "NoSuchWebsiteConfiguration"
