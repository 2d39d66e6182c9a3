"""Connections: how API destinations authorize (API key, basic, OAuth client credentials).

A connection is a record (kind ``events.connection``) keyed by name.  Its secrets (API key value, password,
client secret) stay in the record and are never answered (AWS keeps them in a Secrets Manager secret whose
ARN Describe shows; kumo shows such an ARN but keeps the secret itself).  API_KEY and BASIC connections are
AUTHORIZED at once; an OAUTH_CLIENT_CREDENTIALS connection is AUTHORIZING until ``authorize`` has fetched
a token from its AuthorizationEndpoint for real (client id and secret as basic auth, the OAuth HTTP
parameters added), then AUTHORIZED, or DEAUTHORIZED with the reason when the endpoint refuses.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
import uuid

from ...aws.errors import AwsError
from . import buses

CONNECTION = "events.connection"
_NAME = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
_PARAMS = {"API_KEY": "ApiKeyAuthParameters", "BASIC": "BasicAuthParameters",
           "OAUTH_CLIENT_CREDENTIALS": "OAuthParameters"}
_TIMES = ("CreationTime", "LastModifiedTime", "LastAuthorizedTime")
TOKEN_DEFAULT_LIFE = 3600.0


def _connections(ctx):
    return ctx.table("connection")


def find(ctx, name: str) -> dict:
    conn = _connections(ctx).get(name)
    if conn is None:
        raise buses.not_found(f"Failed to describe the connection(s). Connection '{name}' does not exist.")
    return conn


def by_arn(store, arn: str) -> tuple[str, dict | None]:
    """(scope, record) of the connection an ARN names."""
    parts = arn.split(":")
    if len(parts) < 6 or not parts[5].startswith("connection/"):
        return "", None
    scope = f"{parts[4]}/{parts[3]}"
    name = parts[5].split("/")[1]
    conn = store.table(scope, CONNECTION).get(name)
    return scope, conn if conn is not None and conn["ConnectionArn"] == arn else None


def _check_auth(kind: str, auth: dict | None, creating: bool) -> None:
    if kind not in _PARAMS:
        raise AwsError("ValidationException", f"AuthorizationType {kind} is not valid.")
    if not auth:
        raise AwsError("ValidationException", "AuthParameters is required.")
    given = [key for key in _PARAMS.values() if auth.get(key)]
    if creating and given != [_PARAMS[kind]] or not creating and any(k != _PARAMS[kind] for k in given):
        raise AwsError("ValidationException", f"Only {_PARAMS[kind]} should be specified for authorization type "
                                              f"{kind}.")
    oauth = auth.get("OAuthParameters")
    if oauth and creating:
        for field in ("AuthorizationEndpoint", "HttpMethod"):
            if not oauth.get(field):
                raise AwsError("ValidationException", f"OAuthParameters.{field} is required.")
        if not (oauth.get("ClientParameters") or {}).get("ClientID"):
            raise AwsError("ValidationException", "OAuthParameters.ClientParameters is required.")
    endpoint = (oauth or {}).get("AuthorizationEndpoint")
    if endpoint and urllib.parse.urlsplit(endpoint).scheme not in ("http", "https"):
        raise AwsError("ValidationException", f"AuthorizationEndpoint {endpoint} is not a valid URL.")


def _merge(old: dict, new: dict) -> dict:
    out = dict(old)
    for key, value in new.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _start(ctx, conn: dict) -> None:
    conn["LastModifiedTime"] = ctx.now()
    if conn["AuthorizationType"] == "OAUTH_CLIENT_CREDENTIALS":
        conn["ConnectionState"] = "AUTHORIZING"
        conn.pop("_token", None)
        ctx.controllers.enqueue("events-api-destinations", ("connection", ctx.scope, conn["Name"]))
    else:
        conn.update(ConnectionState="AUTHORIZED", LastAuthorizedTime=ctx.now())


def _summary(conn: dict) -> dict:
    return {"ConnectionArn": conn["ConnectionArn"], "ConnectionState": conn["ConnectionState"],
            **{k: conn[k] for k in _TIMES if k in conn}}


def create_connection(ctx, p):
    name = p["Name"]
    if not _NAME.match(name):
        raise AwsError("ValidationException", f"Connection name {name} is not valid.")
    if name in _connections(ctx):
        raise AwsError("ResourceAlreadyExistsException", f"Connection {name} already exists.")
    _check_auth(p["AuthorizationType"], p.get("AuthParameters"), True)
    arn = ctx.arn(f"connection/{name}/{uuid.uuid4()}")
    conn = {"Name": name, "ConnectionArn": arn, "AuthorizationType": p["AuthorizationType"],
            "AuthParameters": p["AuthParameters"], "CreationTime": ctx.now(),
            "SecretArn": ctx.arn(f"secret:events!connection/{name}/{uuid.uuid4()}", service="secretsmanager")}
    if p.get("Description"):
        conn["Description"] = p["Description"]
    _start(ctx, conn)
    _connections(ctx).put(name, conn)
    return _summary(conn)


def _shown(auth: dict) -> dict:
    """AuthParameters without their secrets, as Describe answers them."""
    out = {}
    if auth.get("ApiKeyAuthParameters"):
        out["ApiKeyAuthParameters"] = {"ApiKeyName": auth["ApiKeyAuthParameters"].get("ApiKeyName")}
    if auth.get("BasicAuthParameters"):
        out["BasicAuthParameters"] = {"Username": auth["BasicAuthParameters"].get("Username")}
    oauth = auth.get("OAuthParameters")
    if oauth:
        out["OAuthParameters"] = {
            "ClientParameters": {"ClientID": (oauth.get("ClientParameters") or {}).get("ClientID")},
            **{k: oauth[k] for k in ("AuthorizationEndpoint", "HttpMethod") if k in oauth},
            **({"OAuthHttpParameters": _public(oauth["OAuthHttpParameters"])} if oauth.get("OAuthHttpParameters")
               else {})}
    if auth.get("InvocationHttpParameters"):
        out["InvocationHttpParameters"] = _public(auth["InvocationHttpParameters"])
    return out


def _public(http: dict) -> dict:
    return {kind: [{k: v for k, v in item.items() if not (k == "Value" and item.get("IsValueSecret"))}
                   for item in items] for kind, items in http.items()}


def describe_connection(ctx, p):
    conn = find(ctx, p["Name"])
    out = {k: v for k, v in conn.items() if not k.startswith("_") and k != "AuthParameters"}
    out["AuthParameters"] = _shown(conn.get("AuthParameters") or {})
    return out


def update_connection(ctx, p):
    conn = find(ctx, p["Name"])
    kind = p.get("AuthorizationType") or conn["AuthorizationType"]
    if p.get("AuthParameters") or kind != conn["AuthorizationType"]:
        _check_auth(kind, p.get("AuthParameters"), kind != conn["AuthorizationType"])
        base = conn.get("AuthParameters") if kind == conn["AuthorizationType"] else {}
        conn["AuthParameters"] = _merge(base or {}, p["AuthParameters"])
        conn["AuthorizationType"] = kind
    if p.get("Description") is not None:
        conn["Description"] = p["Description"]
    _start(ctx, conn)
    _connections(ctx).put(conn["Name"], conn)
    return _summary(conn)


def delete_connection(ctx, p):
    conn = find(ctx, p["Name"])
    _connections(ctx).delete(conn["Name"])
    return {**_summary(conn), "ConnectionState": "DELETING"}


def deauthorize_connection(ctx, p):
    conn = find(ctx, p["Name"])
    # AWS drops the authorization parameters from the connection's secret: nothing can call with them now.
    auth = conn.get("AuthParameters") or {}
    conn["AuthParameters"] = {k: v for k, v in auth.items() if k == "InvocationHttpParameters"}
    conn.pop("_token", None)
    conn.update(ConnectionState="DEAUTHORIZED", LastModifiedTime=ctx.now())
    _connections(ctx).put(conn["Name"], conn)
    return {**_summary(conn), "ConnectionState": "DEAUTHORIZING"}


def list_connections(ctx, p):
    prefix, state = p.get("NamePrefix") or "", p.get("ConnectionState")
    found = sorted((c for c in _connections(ctx).values() if c["Name"].startswith(prefix)
                    and (not state or c["ConnectionState"] == state)), key=lambda c: c["Name"])
    page, token = buses.paginate(found, p, lambda c: c["Name"], f"connections|{prefix}|{state}")
    keys = ("ConnectionArn", "Name", "ConnectionState", "StateReason", "AuthorizationType") + _TIMES
    out = {"Connections": [{k: c[k] for k in keys if k in c} for c in page]}
    if token:
        out["NextToken"] = token
    return out


# -- what a call through the connection carries ----------------------------------------------------------


def _add(http: dict | None, headers: dict, query: dict, body: dict) -> None:
    for item in (http or {}).get("HeaderParameters") or []:
        headers[item["Key"]] = item.get("Value", "")
    for item in (http or {}).get("QueryStringParameters") or []:
        query[item["Key"]] = item.get("Value", "")
    for item in (http or {}).get("BodyParameters") or []:
        body[item["Key"]] = item.get("Value", "")


def token_request(conn: dict) -> tuple[str, str, dict, bytes | None]:
    """(method, url, headers, body) of the OAuth client-credentials token request."""
    oauth = conn["AuthParameters"]["OAuthParameters"]
    client = oauth.get("ClientParameters") or {}
    headers, query, body = {}, {}, {}
    _add(oauth.get("OAuthHttpParameters"), headers, query, body)
    secret = f"{client.get('ClientID', '')}:{client.get('ClientSecret', '')}".encode()
    headers["Authorization"] = "Basic " + base64.b64encode(secret).decode()
    url = oauth["AuthorizationEndpoint"]
    if query:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
    data = None
    if body:
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        data = urllib.parse.urlencode(body).encode()
    return oauth.get("HttpMethod", "POST"), url, headers, data


def read_token(status: int, text: str, now: float) -> dict:
    """The token record from the authorization endpoint's answer; raises ValueError when there is none."""
    if not 200 <= status < 300:
        raise ValueError(f"Authorization endpoint answered HTTP {status}")
    doc = json.loads(text)
    if not isinstance(doc, dict) or not doc.get("access_token"):
        raise ValueError("Authorization endpoint answered no access_token")
    life = float(doc.get("expires_in") or TOKEN_DEFAULT_LIFE)
    return {"token": doc["access_token"], "type": doc.get("token_type") or "Bearer", "expires": now + life}


def request_parts(conn: dict) -> tuple[dict, dict, dict]:
    """(headers, query, body parameters) the connection adds to every invocation; raises ValueError when the
    connection cannot authorize a call."""
    if conn["ConnectionState"] != "AUTHORIZED":
        raise ValueError(f"Connection {conn['Name']} is {conn['ConnectionState']}")
    auth = conn.get("AuthParameters") or {}
    headers, query, body = {}, {}, {}
    _add(auth.get("InvocationHttpParameters"), headers, query, body)
    kind = conn["AuthorizationType"]
    if kind == "API_KEY":
        key = auth["ApiKeyAuthParameters"]
        headers[key["ApiKeyName"]] = key.get("ApiKeyValue", "")
    elif kind == "BASIC":
        basic = auth["BasicAuthParameters"]
        pair = f"{basic.get('Username', '')}:{basic.get('Password', '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    else:
        token = conn.get("_token")
        if not token:
            raise ValueError(f"Connection {conn['Name']} has no OAuth token")
        headers["Authorization"] = f"{token['type'].capitalize()} {token['token']}"
    return headers, query, body
