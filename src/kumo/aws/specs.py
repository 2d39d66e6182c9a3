"""The AWS services kumo routes, and their botocore models.

Routing needs a few facts per service before its model is loaded (signing
name, JSON target prefix, query API version), so they sit in a small table
here; tests/edge/test_specs.py checks the table against the installed
botocore.  Models themselves load lazily on first use, because the EC2 model
alone takes a few hundred milliseconds to read and startup must stay fast.

A model read from botocore's JSON is kept in kumo's cache directory
(``KUMO_CACHE_DIR``, default ``~/.cache/kumo``) in marshal form, with plain
dicts for botocore's OrderedDicts: EC2's loads in 13 ms instead of 111 and
takes 8.5 MB instead of 13, STS's in 0.2 ms instead of 16.  The cache is
per botocore version and Python version, and is not used when models may
come from elsewhere (``AWS_DATA_PATH``, ``~/.aws/models``).
"""

from __future__ import annotations

import copy
import importlib
import marshal
import os
import sys
import threading
from dataclasses import dataclass
from functools import lru_cache

import botocore
from botocore.model import ServiceModel


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # botocore's service name
    package: str  # kumo.services.<package>
    signing_name: str
    target_prefix: str | None = None  # json / rpc-v2-cbor
    api_version: str | None = None  # query / ec2 Version field
    global_service: bool = False  # state per account, not per region
    path_prefix: str | None = None  # disambiguates rest services sharing a signing name
    max_body: int | None = 10 * 1024 * 1024  # None: the service streams big bodies itself (aws/streaming.py)
    # Still answers the query protocol its current model dropped (older SDKs, awscli 1.x): the
    # package's ``query_names.apply(model_dict)`` restores the query wire names.
    legacy_query: bool = False
    # The services this one calls (their facades, or the metric store for the datapoints it measures): set
    # up with it, since it may call them inside a transaction (tests/unit/test_service_needs.py).
    needs: tuple[str, ...] = ()


SERVICES: dict[str, ServiceSpec] = {
    s.name: s
    for s in [
        ServiceSpec("sts", "sts", "sts", api_version="2011-06-15", needs=("iam",)),
        ServiceSpec("iam", "iam", "iam", api_version="2010-05-08", global_service=True),
        ServiceSpec("ec2", "ec2", "ec2", api_version="2016-11-15", needs=("iam", "logs", "cloudwatch", "ssm")),
        ServiceSpec("autoscaling", "autoscaling", "autoscaling", api_version="2011-01-01",
                    needs=("cloudwatch", "ec2", "elb", "elbv2", "sns", "sqs")),
        ServiceSpec("elb", "elb", "elasticloadbalancing", api_version="2012-06-01",
                    needs=("acm", "ec2", "cloudwatch")),
        ServiceSpec("elbv2", "elbv2", "elasticloadbalancing", api_version="2015-12-01",
                    needs=("acm", "ec2", "cloudwatch", "lambda")),
        ServiceSpec("cloudwatch", "cloudwatch", "monitoring", target_prefix="GraniteServiceVersion20100801",
                    api_version="2010-08-01"),
        ServiceSpec("logs", "logs", "logs", target_prefix="Logs_20140328", needs=("cloudwatch", "kms")),
        ServiceSpec("events", "events", "events", target_prefix="AWSEvents", needs=("lambda", "sns", "sqs")),
        ServiceSpec("sqs", "sqs", "sqs", target_prefix="AmazonSQS", api_version="2012-11-05", legacy_query=True,
                    needs=("kms",)),
        ServiceSpec("sns", "sns", "sns", api_version="2010-03-31", needs=("events", "kms", "lambda", "sqs")),
        # Lambda takes zip files inline: 50 MB zipped is about 67 MB once base64-encoded.
        ServiceSpec("lambda", "lambda_", "lambda", max_body=70 * 1024 * 1024,
                    needs=("cloudwatch", "events", "iam", "logs", "s3", "sns", "sqs")),
        ServiceSpec("apigateway", "apigateway", "apigateway"),
        ServiceSpec("apigatewayv2", "apigatewayv2", "apigateway", path_prefix="/v2/"),
        ServiceSpec("route53", "route53", "route53", global_service=True),
        ServiceSpec("ecs", "ecs", "ecs", target_prefix="AmazonEC2ContainerServiceV20141113"),
        ServiceSpec("ecr", "ecr", "ecr", target_prefix="AmazonEC2ContainerRegistry_V20150921"),
        ServiceSpec("acm", "acm", "acm", target_prefix="CertificateManager"),
        # S3 reads its own bodies, streaming uploads to disk (aws/streaming.py); other bodies get the default cap.
        ServiceSpec("s3", "s3", "s3", max_body=None, needs=("lambda", "sns", "sqs")),
        ServiceSpec("ssm", "ssm", "ssm", target_prefix="AmazonSSM", needs=("ec2", "kms")),
        ServiceSpec("secretsmanager", "secretsmanager", "secretsmanager", target_prefix="secretsmanager",
                    needs=("kms", "lambda")),
        ServiceSpec("kms", "kms", "kms", target_prefix="TrentService"),
    ]
}

BY_TARGET_PREFIX = {s.target_prefix: s for s in SERVICES.values() if s.target_prefix}
BY_SIGNING_NAME: dict[str, list[ServiceSpec]] = {}
for _s in SERVICES.values():
    BY_SIGNING_NAME.setdefault(_s.signing_name, []).append(_s)
BY_API_VERSION: dict[str, list[ServiceSpec]] = {}
for _s in SERVICES.values():
    if _s.api_version:
        BY_API_VERSION.setdefault(_s.api_version, []).append(_s)

_lock = threading.Lock()
_loader = None


def _botocore_model(name: str) -> dict:
    global _loader
    with _lock:
        if _loader is None:
            import botocore.loaders

            _loader = botocore.loaders.Loader()
        return _loader.load_service_model(name, "service-2")


def _cache_path(name: str) -> str | None:
    if os.environ.get("AWS_DATA_PATH") or os.path.isdir(os.path.expanduser("~/.aws/models")):
        return None  # botocore would read models kumo cannot tell changed
    root = os.environ.get("KUMO_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "kumo")
    tag = f"botocore-{botocore.__version__}-py{sys.version_info[0]}{sys.version_info[1]}-m{marshal.version}"
    return os.path.join(root, "models", tag, f"{name}.marshal")


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _raw_model(name: str) -> dict:
    """botocore's model of ``name`` as plain dicts, from kumo's cache when it holds it."""
    path = _cache_path(name)
    if path is not None:
        try:
            with open(path, "rb") as fh:
                data = marshal.loads(fh.read())  # one read: marshal.load reads a file piece by piece
            if isinstance(data, dict) and "operations" in data and "shapes" in data:
                return data
        except (OSError, EOFError, ValueError, TypeError):
            pass  # not cached yet, or unreadable: read botocore's and cache it again
    data = _plain(_botocore_model(name))
    if path is not None:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as fh:
                fh.write(marshal.dumps(data))
            os.replace(tmp, path)  # whole or not at all, whoever else writes it meanwhile
        except OSError:
            pass  # a read-only home: models are read from botocore each time
    return data


@lru_cache(maxsize=None)
def _model(name: str) -> ServiceModel:
    data = _raw_model(name)
    spec = SERVICES.get(name)
    if spec is not None and spec.legacy_query:
        # The json model also lost the query error codes, which AWS still sends in
        # x-amzn-query-error (SQS: AWS.SimpleQueueService.NonExistentQueue for QueueDoesNotExist).
        data = copy.deepcopy(data)
        _legacy_names(spec).apply_to_json(data)
    return ServiceModel(data, service_name=name)


def _legacy_names(spec: ServiceSpec):
    return importlib.import_module(f"kumo.services.{spec.package}.query_names")


_loaded: set[str] = set()


def service_model(name: str) -> ServiceModel:
    model = _model(name)
    _loaded.add(name)
    return model


def loaded() -> set[str]:
    return set(_loaded)


@lru_cache(maxsize=None)
def query_model(name: str) -> ServiceModel:
    """The model of a ``legacy_query`` service as its query protocol names things."""
    spec = SERVICES[name]
    data = copy.deepcopy(_raw_model(name))
    _legacy_names(spec).apply(data)
    data["metadata"]["protocol"] = "query"
    data["metadata"]["protocols"] = ["query"]
    return ServiceModel(data, service_name=name)


def protocols_of(model: ServiceModel) -> list[str]:
    md = model.metadata
    return list(md.get("protocols") or [md["protocol"]])
