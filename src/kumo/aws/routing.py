"""Which service and operation a request is for, and in which protocol.

In order of reliability:

1. ``X-Amz-Target: <TargetPrefix>.<Operation>`` (json protocol);
2. ``/service/<TargetPrefix>/operation/<Operation>`` with ``smithy-protocol``
   (smithy-rpc-v2-cbor);
3. the SigV4 credential scope's service (signing name); services sharing one
   (classic ELB and ELBv2, API Gateway v1 and v2) are told apart by the
   query ``Version`` field or by path;
4. unsigned requests: the ``Host`` name, then the query ``Version`` field.

Then query/ec2 requests name their operation in ``Action``; rest requests are
matched against the URI templates of the service's operations.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl

from . import specs
from .auth import Signature
from .errors import AwsError
from .protocols import cbor as cbor_protocol
from .protocols import query as query_protocol
from .protocols import rest as rest_protocol
from .protocols.base import HttpRequest


@dataclass
class Route:
    spec: specs.ServiceSpec
    model: object  # botocore ServiceModel
    operation: object  # botocore OperationModel
    protocol: str
    labels: dict = field(default_factory=dict)
    pairs: list | None = None  # decoded form fields of query/ec2 requests


@dataclass
class PreRoute:
    """What can be known from the request line and headers, before the body is read."""

    spec: specs.ServiceSpec | None
    protocol: str | None
    operation: str | None = None


def _is_form(headers) -> bool:
    return "x-www-form-urlencoded" in headers.get("Content-Type", "")


def guess_protocol(headers, path: str) -> str:
    """The protocol to answer an error in when the service is unknown."""
    if "X-Amz-Target" in headers:
        return "json"
    if headers.get("smithy-protocol") == "rpc-v2-cbor" or cbor_protocol.split_path(path):
        return "smithy-rpc-v2-cbor"
    if _is_form(headers):
        return "query"
    return "rest-json"


def _unknown_service(what: str) -> AwsError:
    return AwsError("UnknownServiceException", f"kumo does not know the service {what}.", status=400)


# S3's virtual-hosted names: <bucket>.s3.localhost, <bucket>.s3.<region>.localhost, and AWS's own
# <bucket>.s3[.-<region>].amazonaws.com (through a proxy or /etc/hosts).
_S3_HOST = re.compile(r"^(?P<bucket>.+?)\.s3(?:[.-](?P<region>[a-z0-9-]+))?\.(?:localhost|amazonaws\.com)$")


def virtual_bucket(host: str) -> str | None:
    """The bucket a virtual-hosted S3 host name names, or None."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    m = _S3_HOST.match(name.lower())
    if m is None or m.group("bucket") == "s3":
        return None
    return m.group("bucket")


def virtual_hosted_path(host: str, path: str) -> str:
    """A virtual-hosted request's path as path-style (``/key`` at ``b.s3.localhost`` -> ``/b/key``)."""
    bucket = virtual_bucket(host)
    if bucket is None:
        return path
    return f"/{bucket}{path}" if path != "/" else f"/{bucket}"


def _anonymous_s3(method: str, query: str, headers) -> bool:
    """An unsigned request that names no other service: S3's anonymous and SigV2-presigned requests.

    Query-protocol calls name their Action in the query or in a form POST; anything else is S3's."""
    if "Action=" in query:
        return False
    return not (method == "POST" and _is_form(headers))


def _host_service(host: str) -> specs.ServiceSpec | None:
    if virtual_bucket(host) is not None:
        return specs.SERVICES["s3"]
    first = host.split(":")[0].split(".")[0].lower()
    for spec in specs.SERVICES.values():
        if first in (spec.name, spec.signing_name) and len(specs.BY_SIGNING_NAME.get(spec.signing_name, [])) == 1:
            return spec
    return None


def pre_route(method: str, path: str, query: str, headers, signature: Signature | None) -> PreRoute:
    target = headers.get("X-Amz-Target")
    if target:
        prefix, _, op = target.rpartition(".")
        spec = specs.BY_TARGET_PREFIX.get(prefix)
        if spec is None:
            raise _unknown_service(f"with target prefix {prefix!r}")
        return PreRoute(spec, "json", op)
    rpc = cbor_protocol.split_path(path)
    if rpc and (headers.get("smithy-protocol") == "rpc-v2-cbor" or "cbor" in headers.get("Content-Type", "")):
        spec = specs.BY_TARGET_PREFIX.get(rpc[0])
        if spec is None:
            raise _unknown_service(rpc[0])
        return PreRoute(spec, "smithy-rpc-v2-cbor", rpc[1])
    candidates: list[specs.ServiceSpec] = []
    if signature is not None and signature.service:
        candidates = specs.BY_SIGNING_NAME.get(signature.service, [])
        if not candidates:
            raise _unknown_service(repr(signature.service))
    else:
        host_spec = _host_service(headers.get("Host", ""))
        if host_spec is not None:
            candidates = [host_spec]
        elif _anonymous_s3(method, query, headers):
            candidates = [specs.SERVICES["s3"]]
    if len(candidates) > 1:
        with_prefix = [c for c in candidates if c.path_prefix and path.startswith(c.path_prefix)]
        if with_prefix:
            candidates = with_prefix
        elif all(c.path_prefix is None or not path.startswith(c.path_prefix) for c in candidates):
            plain = [c for c in candidates if not c.path_prefix]
            if len(plain) == 1:
                candidates = plain
    if len(candidates) == 1:
        return PreRoute(candidates[0], None)
    return PreRoute(None, None)


def route(request: HttpRequest, pre: PreRoute, signature: Signature | None) -> Route:
    spec = pre.spec
    if pre.protocol in ("json", "smithy-rpc-v2-cbor"):
        model = specs.service_model(spec.name)
        if pre.protocol not in specs.protocols_of(model):
            raise AwsError("UnknownOperationException", f"{spec.name} does not speak {pre.protocol}.")
        return Route(spec, model, _operation(model, pre.operation, "UnknownOperationException"), pre.protocol)

    form = _is_form(request.headers) or "Action=" in request.query
    pairs = query_protocol.form_params(request) if form else []
    if spec is None:
        spec = _spec_from_version(pairs or [], signature)
    elif len(specs.BY_SIGNING_NAME.get(spec.signing_name, [])) > 1 and pairs:
        spec = _spec_from_version(pairs, signature, among=specs.BY_SIGNING_NAME[spec.signing_name]) or spec
    model = specs.service_model(spec.name)
    protocols = specs.protocols_of(model)
    if spec.legacy_query and pairs and any(k == "Action" for k, _ in pairs):
        model, protocols = specs.query_model(spec.name), ["query"]  # built once: compiled writers are per model
    if "query" in protocols or "ec2" in protocols:
        protocol = "ec2" if "ec2" in protocols else "query"
        action = next((v for k, v in (pairs or []) if k == "Action"), None)
        if not action:
            raise AwsError("MissingAction", "The request must contain the parameter Action.", status=400)
        return Route(spec, model, _operation(model, action, "InvalidAction"), protocol, pairs=pairs)
    protocol = next((p for p in protocols if p in ("rest-json", "rest-xml")), None)
    if protocol is None:
        # A json (or cbor) service reached without X-Amz-Target or an RPCv2 path: nothing names the operation.
        raise AwsError("UnknownOperationException", f"The request does not name an operation of {spec.name} "
                       "(no X-Amz-Target header).", status=400)
    operation, labels = _match_rest(spec.name, model, request)
    return Route(spec, model, operation, protocol, labels=labels)


def _spec_from_version(pairs, signature, among=None) -> specs.ServiceSpec:
    version = next((v for k, v in pairs if k == "Version"), None)
    options = [s for s in specs.BY_API_VERSION.get(version or "", []) if among is None or s in among]
    if len(options) == 1:
        return options[0]
    if among:
        return None
    raise _unknown_service("of this request (no signature, Host or Version names one)")


_OPERATIONS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _operation(model, name: str | None, error_code: str):
    names = _OPERATIONS.get(model)
    if names is None:
        names = _OPERATIONS[model] = frozenset(model.operation_names)  # a list: EC2's has 700 names
    if name and name in names:
        return model.operation_model(name)
    if error_code == "InvalidAction":
        raise AwsError("InvalidAction", f"The action {name} is not valid for this web service.", status=400)
    raise AwsError(error_code, f"Operation {name} is not known to {model.service_name}.", status=400)


@lru_cache(maxsize=None)
def _templates(service: str) -> list[tuple[str, object, str]]:
    model = specs.service_model(service)
    table = []
    for name in model.operation_names:
        op = model.operation_model(name)
        table.append((op.http.get("method", "POST").upper(), rest_protocol.template(op.http.get("requestUri", "/")), name))
    table.sort(key=lambda row: row[1].specificity, reverse=True)
    return table


@lru_cache(maxsize=None)
def _templates_by_method(service: str) -> dict[str, list[tuple[object, str]]]:
    table: dict[str, list[tuple[object, str]]] = {}
    for method, tpl, name in _templates(service):  # keeps the order of specificity
        table.setdefault(method, []).append((tpl, name))
    return table


def _match_rest(service: str, model, request: HttpRequest):
    keys = {k for k, _ in parse_qsl(request.query, keep_blank_values=True)} if request.query else set()
    # The most specific template of the request's method wins; only when none matches does it matter
    # whether another method's template does (405 rather than 404).
    for tpl, name in _templates_by_method(service).get(request.method, ()):
        labels = tpl.match(request.path, keys)
        if labels is not None:
            if service == "s3":
                name = _s3_operation(name, request, keys)
            return model.operation_model(name), labels
    form_post = request.method == "POST" and "multipart/form-data" in request.headers.get("Content-Type", "")
    if service == "s3" and form_post:
        from .errors import not_implemented

        raise not_implemented("s3", "PostObject")  # browser form uploads (presigned POST): not modeled by botocore
    if any(tpl.match(request.path, keys) is not None for _method, tpl, _name in _templates(service)):
        raise AwsError("MethodNotAllowedException", f"{request.method} is not allowed on {request.path}.", status=405)
    raise AwsError("UnknownOperationException", f"No {model.service_name} operation matches {request.method} {request.path}.",
                   status=404)


# S3 operations sharing a method and URI template, told apart as S3 does: by query keys and headers.
_S3_LISTS = {"GetBucketAnalyticsConfiguration": "ListBucketAnalyticsConfigurations",
             "GetBucketIntelligentTieringConfiguration": "ListBucketIntelligentTieringConfigurations",
             "GetBucketInventoryConfiguration": "ListBucketInventoryConfigurations",
             "GetBucketMetricsConfiguration": "ListBucketMetricsConfigurations"}
_S3_CURRENT = {"GetBucketLifecycle": "GetBucketLifecycleConfiguration", "PutBucketLifecycle":
               "PutBucketLifecycleConfiguration", "GetBucketNotification": "GetBucketNotificationConfiguration",
               "PutBucketNotification": "PutBucketNotificationConfiguration", "ListDirectoryBuckets": "ListBuckets"}


def _s3_operation(name: str, request: HttpRequest, keys: set[str]) -> str:
    upload = "uploadId" in keys
    if name in ("CopyObject", "PutObject", "UploadPart", "UploadPartCopy"):
        copy = "x-amz-copy-source" in request.headers
        if upload:
            return "UploadPartCopy" if copy else "UploadPart"
        return "CopyObject" if copy else "PutObject"
    if name in ("AbortMultipartUpload", "DeleteObject"):
        return "AbortMultipartUpload" if upload else "DeleteObject"
    if name in ("GetObject", "ListParts"):
        return "ListParts" if upload else "GetObject"
    for get, lst in _S3_LISTS.items():
        if name in (get, lst):
            return get if "id" in keys else lst
    return _S3_CURRENT.get(name, name)
