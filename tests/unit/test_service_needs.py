"""Every service comes up with the services it calls (``ServiceSpec.needs``, used by kumo/registry.py).

Services load on first use; one that calls another's facade inside a transaction must find it set up
already (setting a service up creates its tables, which must not happen inside someone's transaction).
So ``needs`` must name every service whose ``internal`` a service imports, and CloudWatch for every
service that measures datapoints (``kumo.metrics.put``).
"""

from __future__ import annotations

from kumo.aws import specs
from kumo.registry import BY_PACKAGE, closure

from .test_import_rules import ROOT, imports, module_name, service_of


def _calls() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in (ROOT / "services").rglob("*.py"):
        module = module_name(path)
        mine = service_of(module)
        if mine not in BY_PACKAGE:
            continue
        source = path.read_text()
        for _line, name in imports(source, module, path.name == "__init__.py"):
            other = service_of(name)
            if other and other != mine and other in BY_PACKAGE:
                out.setdefault(mine, set()).add(other)
        if "metrics.put(" in source and mine != "cloudwatch":
            out.setdefault(mine, set()).add("cloudwatch")
    return out


def test_needs_name_every_service_a_service_calls():
    missing = {}
    for package, called in _calls().items():
        needed = {specs.SERVICES[n].package for n in BY_PACKAGE[package].needs}
        if called - needed:
            missing[package] = sorted(called - needed)
    assert missing == {}


def test_needs_name_known_services():
    for spec in specs.SERVICES.values():
        assert all(n in specs.SERVICES for n in spec.needs), spec.name


def test_closure_keeps_the_registry_order():
    assert closure(["sts"]) == ["sts", "iam"]
    # EC2 resolves resolve:ssm: image ids through Parameter Store, which encrypts with KMS (issue 15). Logs
    # reaches Lambda through kumo.functions, so writing logs does not bring Lambda and its needs up.
    assert closure(["ec2"]) == ["iam", "ec2", "cloudwatch", "logs", "ssm", "kms"]
