"""Mobile push: platform applications and their endpoints.

kumo keeps applications (kind ``sns.platform-app``, keyed by ARN) and endpoints (kind ``sns.endpoint``,
keyed by ARN) as AWS shows them, but reaches no push service (APNs, FCM ...): a message published to an
endpoint is checked as AWS checks it (the endpoint exists, is enabled, the message fits) and kept on the
endpoint, the last MAX_KEPT of them, instead of being pushed (docs/messaging.md).
"""

from __future__ import annotations

import json
import re
import uuid

from ...aws.errors import AwsError
from ...core import pagination
from ...core.arns import parse_arn
from .topics import invalid, not_found

APP = "sns.platform-app"
ENDPOINT = "sns.endpoint"
PLATFORMS = ("ADM", "APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "BAIDU", "GCM", "MPNS", "WNS")
APP_ATTRIBUTES = {"PlatformCredential", "PlatformPrincipal", "EventEndpointCreated", "EventEndpointDeleted",
                  "EventEndpointUpdated", "EventDeliveryFailure", "SuccessFeedbackRoleArn",
                  "FailureFeedbackRoleArn", "SuccessFeedbackSampleRate", "ApplePlatformTeamID",
                  "ApplePlatformBundleID", "AuthenticationMethod", "Enabled"}
SECRET = ("PlatformCredential", "PlatformPrincipal")  # AWS never answers them
ENDPOINT_ATTRIBUTES = {"CustomUserData", "Enabled", "Token"}
MAX_KEPT = 100
_NAME = re.compile(r"^[A-Za-z0-9_\-.]{1,256}$")


def _apps(ctx):
    return ctx.table("platform-app")


def _endpoints(ctx):
    return ctx.table("endpoint")


def _app(ctx, arn: str) -> dict:
    app = _apps(ctx).get(arn)
    if app is None:
        if parse_arn(arn or "") is None:
            raise invalid("PlatformApplicationArn Reason: Wrong number of slashes in relative portion of the ARN.")
        raise not_found("PlatformApplication does not exist")
    return app


def _endpoint(ctx, arn: str) -> dict:
    endpoint = _endpoints(ctx).get(arn)
    if endpoint is None:
        raise not_found("Endpoint does not exist")
    return endpoint


def _check_app_attributes(attrs: dict) -> dict:
    for name, value in attrs.items():
        if name not in APP_ATTRIBUTES:
            raise invalid(f"Attributes Reason: Invalid attribute name: {name}")
        if name == "Enabled" and value not in ("true", "false"):
            raise invalid("Attributes Reason: Enabled must be true or false")
    return dict(attrs)


def create_platform_application(ctx, p):
    name, platform = p["Name"], p["Platform"]
    if not _NAME.match(name):
        raise invalid("Name Reason: must be 1-256 characters of letters, numbers, underscores, hyphens and periods")
    if platform not in PLATFORMS:
        raise invalid(f"Platform Reason: {platform} is not supported")
    attrs = _check_app_attributes(dict(p.get("Attributes") or {}))
    if not attrs.get("PlatformCredential"):
        raise invalid("Attributes Reason: PlatformCredential attribute is required")
    if platform.startswith("APNS") and not attrs.get("PlatformPrincipal"):
        raise invalid("Attributes Reason: PlatformPrincipal attribute is required for APNS")
    arn = ctx.arn(f"app/{platform}/{name}")
    attrs.setdefault("Enabled", "true")
    existing = _apps(ctx).get(arn)
    if existing is not None and existing["Attributes"] != attrs:
        raise invalid("Name Reason: An application with the same name but different properties already exists")
    _apps(ctx).put(arn, {"PlatformApplicationArn": arn, "Platform": platform, "Name": name, "Attributes": attrs})
    return {"PlatformApplicationArn": arn}


def _shown_app(app: dict) -> dict:
    return {k: v for k, v in app["Attributes"].items() if k not in SECRET}


def get_platform_application_attributes(ctx, p):
    return {"Attributes": _shown_app(_app(ctx, p["PlatformApplicationArn"]))}


def set_platform_application_attributes(ctx, p):
    app = _app(ctx, p["PlatformApplicationArn"])
    app["Attributes"].update(_check_app_attributes(dict(p["Attributes"])))
    _apps(ctx).put(app["PlatformApplicationArn"], app)
    return {}


def delete_platform_application(ctx, p):
    arn = p["PlatformApplicationArn"]
    if _apps(ctx).get(arn) is None:
        return {}  # AWS answers success for an application that is not there
    endpoints = _endpoints(ctx)
    for key, endpoint in endpoints.items():
        if endpoint["_app"] == arn:
            endpoints.delete(key)
    _apps(ctx).delete(arn)
    return {}


def _page(items: list, p, key, context: str) -> tuple[list, str | None]:
    try:
        return pagination.paginate(items, 100, p.get("NextToken"), key=key, context=context)
    except pagination.InvalidToken:
        raise invalid("NextToken")


def list_platform_applications(ctx, p):
    apps = sorted(_apps(ctx).values(), key=lambda a: a["PlatformApplicationArn"])
    page, token = _page(apps, p, lambda a: a["PlatformApplicationArn"], "apps")
    out = {"PlatformApplications": [{"PlatformApplicationArn": a["PlatformApplicationArn"],
                                     "Attributes": _shown_app(a)} for a in page]}
    if token:
        out["NextToken"] = token
    return out


# -- endpoints -------------------------------------------------------------------------------------------


def _check_endpoint_attributes(attrs: dict) -> dict:
    for name, value in attrs.items():
        if name not in ENDPOINT_ATTRIBUTES:
            raise invalid(f"Attributes Reason: Invalid attribute name: {name}")
        if name == "Enabled" and value not in ("true", "false"):
            raise invalid("Attributes Reason: Enabled must be true or false")
        if name == "CustomUserData" and len(value.encode()) > 2048:
            raise invalid("CustomUserData Reason: must be at most 2048 bytes long")
    return dict(attrs)


def create_platform_endpoint(ctx, p):
    app = _app(ctx, p["PlatformApplicationArn"])
    token = p["Token"]
    if not token:
        raise invalid("Token Reason: cannot be empty")
    attrs = _check_endpoint_attributes(dict(p.get("Attributes") or {}))
    if p.get("CustomUserData") is not None:
        attrs["CustomUserData"] = p["CustomUserData"]
    attrs["Token"] = token
    attrs.setdefault("Enabled", "true")
    for endpoint in _endpoints(ctx).values():
        if endpoint["_app"] == app["PlatformApplicationArn"] and endpoint["Attributes"]["Token"] == token:
            if endpoint["Attributes"] != attrs:
                raise invalid(f"Token Reason: Endpoint {endpoint['EndpointArn']} already exists with the same "
                              f"Token, but different attributes.")
            return {"EndpointArn": endpoint["EndpointArn"]}  # the same token again: the same endpoint
    arn = ctx.arn(f"endpoint/{app['Platform']}/{app['Name']}/{uuid.uuid4()}")
    _endpoints(ctx).put(arn, {"EndpointArn": arn, "Attributes": attrs, "_app": app["PlatformApplicationArn"],
                              "_messages": []})
    return {"EndpointArn": arn}


def get_endpoint_attributes(ctx, p):
    return {"Attributes": dict(_endpoint(ctx, p["EndpointArn"])["Attributes"])}


def set_endpoint_attributes(ctx, p):
    endpoint = _endpoint(ctx, p["EndpointArn"])
    attrs = _check_endpoint_attributes(dict(p["Attributes"]))
    if "Token" in attrs and not attrs["Token"]:
        raise invalid("Token Reason: cannot be empty")
    endpoint["Attributes"].update(attrs)
    _endpoints(ctx).put(endpoint["EndpointArn"], endpoint)
    return {}


def delete_endpoint(ctx, p):
    _endpoints(ctx).delete(p["EndpointArn"])  # idempotent, as on AWS
    return {}


def list_endpoints_by_platform_application(ctx, p):
    app = _app(ctx, p["PlatformApplicationArn"])
    mine = sorted((e for e in _endpoints(ctx).values() if e["_app"] == app["PlatformApplicationArn"]),
                  key=lambda e: e["EndpointArn"])
    page, token = _page(mine, p, lambda e: e["EndpointArn"], f"endpoints|{app['PlatformApplicationArn']}")
    out = {"Endpoints": [{"EndpointArn": e["EndpointArn"], "Attributes": dict(e["Attributes"])} for e in page]}
    if token:
        out["NextToken"] = token
    return out


def platform_of(endpoint_arn: str) -> str:
    """The platform (GCM, APNS ...) an endpoint ARN names: endpoint/<platform>/<application>/<id>."""
    parts = endpoint_arn.split(":", 5)[-1].split("/")
    return parts[1] if len(parts) > 1 else ""


def is_endpoint_arn(arn: str) -> bool:
    parsed = parse_arn(arn or "")
    return parsed is not None and parsed.service == "sns" and parsed.resource.startswith("endpoint/")


def publish_to_endpoint(ctx, p) -> dict:
    """Publish to a platform endpoint: checked, and kept on the endpoint instead of pushed."""
    endpoint = _endpoint(ctx, p["TargetArn"])
    if endpoint["Attributes"].get("Enabled") != "true":
        raise AwsError("EndpointDisabled", "Endpoint is disabled")
    app = _apps(ctx).get(endpoint["_app"])
    if app is None or app["Attributes"].get("Enabled") == "false":
        raise AwsError("PlatformApplicationDisabled", "Platform application is disabled")
    message = p["Message"]
    if len(message.encode()) > 256 * 1024:
        raise invalid("Message too long")
    if p.get("MessageStructure") == "json":
        try:
            doc = json.loads(message)
        except ValueError:
            doc = None
        key = platform_of(endpoint["EndpointArn"])
        if not isinstance(doc, dict) or not ("default" in doc or key in doc):
            raise invalid(f"Message Structure - JSON message body failed to parse, or has no default or {key} key")
        message = doc.get(key, doc.get("default"))
        message = message if isinstance(message, str) else json.dumps(message)
    message_id = str(uuid.uuid4())
    keep(ctx.kumo, ctx.scope, endpoint["EndpointArn"], message_id, message, ctx.now())
    return {"MessageId": message_id}


def keep(kumo, scope: str, endpoint_arn: str, message_id: str, message: str, now: float) -> bool:
    """Keep a message on an enabled endpoint (a direct publish, or a topic's fan-out); whether it was kept."""
    endpoints = kumo.store.table(scope, ENDPOINT)
    endpoint = endpoints.get(endpoint_arn)
    if endpoint is None or endpoint["Attributes"].get("Enabled") != "true":
        return False  # AWS drops deliveries to a disabled endpoint
    kept = endpoint.setdefault("_messages", [])
    kept.append({"MessageId": message_id, "Message": message, "Timestamp": now})
    del kept[:-MAX_KEPT]
    endpoints.put(endpoint_arn, endpoint)
    return True


def kept(kumo, endpoint_arn: str) -> list[dict]:
    """The messages kept on an endpoint, oldest first."""
    parsed = parse_arn(endpoint_arn or "")
    if parsed is None:
        return []
    endpoint = kumo.store.table(f"{parsed.account}/{parsed.region}", ENDPOINT).get(endpoint_arn)
    return list((endpoint or {}).get("_messages") or [])
