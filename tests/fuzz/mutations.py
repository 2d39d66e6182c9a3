"""Byte-level mutations of well-formed requests: what a broken client, proxy or attacker sends.

Each mutation takes a ``Request`` and a ``random.Random`` and returns the
changed request.  Hypothesis draws only the seeds (``plan``): what a mutation
does depends on the request's bytes, which depend on earlier answers, and
hypothesis needs its own draws to be the same from one run to the next.
Some results are no longer well-formed HTTP (control bytes in a header, raw
bytes in the path): ``Request.http_valid`` tells those apart,
since the HTTP layer refuses them before kumo's edge sees them.
"""

from __future__ import annotations

import dataclasses

import random

from hypothesis import strategies as st

INSERTS = [b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"{", b"}", b"[", b"]", b'"', b"\\", b"\\u", b"\\ud800",
           b",", b":", b"&", b"=", b"%", b"%zz", b"%ED%A0%80", b"%00", b"\r\n", b".1", b".member.", b"\x9f", b"\xbf",
           b"\xfb\x7f\xf8\x00\x00\x00\x00\x00\x00", b"<", b"&Action=", b"1e99999", b"-0", b"null", b"true"]
CONTENT_TYPES = [None, b"text/plain", b"application/json", b"application/x-amz-json-1.0", b"application/x-amz-json-1.1",
                 b"application/cbor", b"application/x-www-form-urlencoded", b"multipart/form-data; boundary=x",
                 b"application/xml", b"\xff\xfe", b"application/x-www-form-urlencoded; charset=latin-1", b""]
METHODS = ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "POST"]


def _with(req, **changes):
    mutations = req.mutations + [changes.pop("name")]
    return dataclasses.replace(req, kind="mutated", mutations=mutations, **changes)


def _pos(rng, data: bytes) -> int:
    return rng.randint(0, len(data))


def body_flip(rng, req):
    body = bytearray(req.body)
    for _ in range(rng.randint(1, 4) if body else 0):
        i = rng.randint(0, len(body) - 1)
        body[i] ^= 1 << rng.randint(0, 7)
    return _with(req, body=bytes(body), name="body-flip")


def body_insert(rng, req):
    i = _pos(rng, req.body)
    token = rng.choice(INSERTS) if rng.random() < 0.7 else rng.randbytes(rng.randint(1, 8))
    return _with(req, body=req.body[:i] + token + req.body[i:], name="body-insert")


def body_delete(rng, req):
    i = _pos(rng, req.body)
    n = rng.randint(1, 16)
    return _with(req, body=req.body[:i] + req.body[i + n:], name="body-delete")


def truncate(rng, req):
    return _with(req, body=req.body[:_pos(rng, req.body)], name="truncate")


def content_type(rng, req):
    value = rng.choice((CONTENT_TYPES))
    headers = [(k, v) for k, v in req.headers if k.lower() != b"content-type"]
    if value is not None:
        headers.append((b"Content-Type", value))
    return _with(req, headers=headers, name="content-type")


def header_drop(rng, req):
    if not req.headers:
        return req
    i = rng.randint(0, len(req.headers) - 1)
    if req.headers[i][0].lower() == b"host":  # HTTP/1.1 needs a Host
        return req
    return _with(req, headers=req.headers[:i] + req.headers[i + 1:], name=f"drop-{req.headers[i][0].decode()}")


def header_value(rng, req):
    """Change the value of a meaningful header (target, auth, protocol), staying inside valid HTTP."""
    names = [k for k, _ in req.headers if k.lower() in (b"x-amz-target", b"authorization", b"smithy-protocol",
                                                          b"content-type", b"x-amz-date", b"accept")]
    if not names:
        return req
    name = rng.choice(names)
    value = rng.choice(([b"", b".", b"AmazonSQS.", b".ListQueues", b"AmazonSQS.ListQueues.x", b"x" * 8000,
                                  b"AWS4-HMAC-SHA256", b"AWS4-HMAC-SHA256 Credential=", b"Bearer x",
                                  b"AWS4-HMAC-SHA256 Credential=abc/20260101/us-east-1/nope/aws4_request",
                                  b"AWS4-HMAC-SHA256 Credential=000000000000/x/zz-fake-9/sts/aws4_request",
                                  b"rpc-v2-cbor", b"GraniteServiceVersion20100801.ListMetrics",
                                  b"Logs_20140328.CreateLogGroup", b"\xc3\xa9\xe2\x82\xac", b"\x01"]))
    headers = [(k, value if k == name else v) for k, v in req.headers]
    return _with(req, headers=headers, name=f"value-{name.decode()}")


def header_duplicate(rng, req):
    if not req.headers:
        return req
    k, v = req.headers[rng.randint(0, len(req.headers) - 1)]
    if k.lower() == b"host":
        return req
    return _with(req, headers=req.headers + [(k, v + b"x")], name=f"duplicate-{k.decode()}")


def header_bytes(rng, req):
    """Raw bytes in a header line: the HTTP layer may refuse these itself."""
    i = rng.randint(0, len(req.headers) - 1)
    k, v = req.headers[i]
    j = rng.randint(0, len(v))
    v = v[:j] + rng.choice(([b"\x00", b"\r", b"\n", b"\x7f", b"\xff", b":", b" "])) + v[j:]
    headers = list(req.headers)
    headers[i] = (k, v)
    return _with(req, headers=headers, name=f"bytes-{k.decode()}")


def path(rng, req):
    target = req.target
    path_part, sep, query = target.partition(b"?")
    choice = rng.randint(0, 7)
    if choice == 0:
        i = _pos(rng, path_part)
        path_part = path_part[:i] + rng.choice(([b"%zz", b"%", b"%00", b"%2F", b"..", b"/../..", b"//",
                                                          b"%ED%A0%80", b"%C3", b";", b"~", b"%2e%2e"])) + path_part[i:]
    elif choice == 1:
        path_part = path_part[:_pos(rng, path_part)] or b"/"
    elif choice == 2:
        path_part = path_part + b"/" + b"a" * rng.choice(([1, 300, 5000]))
    elif choice == 3:
        path_part = rng.choice(([b"/", b"/_kumo", b"/_kumo/health/x", b"/2015-03-31/functions/",
                                          b"/service/GraniteServiceVersion20100801/operation/",
                                          b"/service/x/operation/y", b"/123456789012/q", b"*"]))
    elif choice == 4:
        query = query + (b"&" if query else b"") + rng.choice(([
            b"Action=", b"Action=ListQueues", b"Version=2012-11-05", b"Action=DescribeInstances&Version=2016-11-15",
            b"Version=nope", b"=", b"&&&", b"a=%zz", b"X-Amz-Credential=x/20260101/us-east-1/sqs/aws4_request",
            b"Action=GetCallerIdentity&Action=ListUsers", b"Marker=" + b"a" * 3000, b"MaxItems=-1", b"a=\xff"]))
        sep = b"?"
    elif choice == 5:
        query = b""
        sep = b""
    elif choice == 6:
        i = _pos(rng, query)
        query = query[:i] + rng.choice((INSERTS)) + query[i:]
        sep = b"?"
    else:
        path_part = path_part.replace(b"/", b"//", 1) if path_part != b"/" else b"/./"
    return _with(req, target=path_part + sep + query, name="path")


def method(rng, req):
    return _with(req, method=rng.choice((METHODS)), name="method")


def deep_nesting(rng, req):
    depth = rng.choice([64, 400, 1200, 5000])
    proto = req.protocol
    if proto in ("json", "rest-json"):
        kind = rng.randint(0, 2)
        if kind == 0:
            body = b"[" * depth + b"]" * depth
        elif kind == 1:
            body = b'{"a":' * depth + b"1" + b"}" * depth
        else:
            body = b'{"Tags":' + b"[" * depth + b"]" * depth + b"}"
    elif proto == "smithy-rpc-v2-cbor":
        body = b"\xa1\x61a" * depth + b"\x01" if rng.random() < 0.5 else b"\x81" * depth + b"\x00"
    else:
        key = ".".join(["member", "1"] * (depth // 16))
        body = req.body + b"&Tags." + key.encode() + b"=x"
    return _with(req, body=body, name=f"nest-{depth}")


def swap_body(rng, req, others):
    """The body of another operation (or protocol) under this one's headers."""
    if not others:
        return req
    other = rng.choice(others)
    return _with(req, body=other.body, name="swap-body")


MUTATIONS = [body_flip, body_insert, body_delete, truncate, content_type, header_drop, header_value,
             header_duplicate, header_bytes, path, method, deep_nesting]


def plan():
    """What hypothesis draws for a mutated request: one seed per mutation, one to three of them."""
    return st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=3)


def mutate(req, seeds, others=()):
    for seed in seeds:
        rng = random.Random(seed)
        i = rng.randint(0, len(MUTATIONS))
        req = swap_body(rng, req, list(others)) if i == len(MUTATIONS) else MUTATIONS[i](rng, req)
    return req
