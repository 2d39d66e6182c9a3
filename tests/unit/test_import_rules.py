"""Which module may import which (docs/architecture.md, "Who imports whom").

* A module under ``kumo/services/X/`` imports from another service ``Y`` only ``kumo.services.Y.internal``,
  the small typed facade ``Y`` keeps for the rest of kumo.
* ``kumo/core`` and ``kumo/dataplane`` import no service at all.

Every import counts: module-level or inside a function, absolute or relative, ``import a.b`` or
``from a import b``, and ``importlib.import_module("...")`` with a literal name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import kumo

ROOT = Path(kumo.__file__).resolve().parent  # .../src/kumo

# (importing module, imported module) -> why it is allowed.  Every entry needs its reason; aim for none.
ALLOWED: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module name) of every module ``source`` imports, wherever the import statement is."""
    package = module if is_package else module.rpartition(".")[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                parent = ".".join(base + ([node.module] if node.module else []))
            else:
                parent = node.module or ""
            # `from a import b` imports a.b when b is a module, or a name out of a: both reach into a.b / a.
            out += [(node.lineno, f"{parent}.{alias.name}") for alias in node.names if alias.name != "*"]
            if any(alias.name == "*" for alias in node.names):
                out.append((node.lineno, parent))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == \
                "import_module" and node.args and isinstance(node.args[0], ast.Constant) and \
                isinstance(node.args[0].value, str):
            out.append((node.lineno, node.args[0].value))
    return out


def service_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["kumo", "services"] else None


def violation(importer: str, target: str) -> str | None:
    """Why ``importer`` may not import ``target``; None when it may."""
    target_service = service_of(target)
    if target_service is None:
        return None
    if importer.startswith(("kumo.core.", "kumo.dataplane.")) or importer in ("kumo.core", "kumo.dataplane"):
        return "core/ and dataplane/ import no service"
    own = service_of(importer)
    if own is None or own == target_service:
        return None
    facade = f"kumo.services.{target_service}.internal"
    if target == facade or target.startswith(facade + "."):
        return None
    return f"services import another service only through its facade {facade}"


def violations() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        module = module_name(path)
        for line, target in imports(path.read_text(), module, path.name == "__init__.py"):
            why = violation(module, target)
            if why and (module, target) not in ALLOWED:
                found.append(f"{path.relative_to(ROOT.parent)}:{line}: {module} imports {target}: {why}")
    return found


def test_services_talk_only_through_facades_and_core_imports_no_service():
    found = violations()
    assert not found, "\n".join(found)


def test_every_allowed_exception_still_exists_and_says_why():
    for (importer, target), reason in ALLOWED.items():
        assert reason.strip(), f"{importer} -> {target} needs a reason"
        path = ROOT.parent.joinpath(*importer.split(".")).with_suffix(".py")
        if not path.exists():
            path = ROOT.parent.joinpath(*importer.split("."), "__init__.py")
        assert any(t == target for _, t in imports(path.read_text(), importer, path.name == "__init__.py")), \
            f"stale allow-list entry: {importer} no longer imports {target}"


def test_the_checker_sees_every_kind_of_import():
    source = '''
from ..ec2 import internal as ec2            # allowed: the facade
from ..ec2.internal import launch            # allowed: a name from the facade
from ..elbv2 import targetgroups             # a module of another service
from . import model                          # the service's own module
import kumo.services.iam.model               # absolute

def later():
    from ..cloudwatch.alarms import delete_alarms   # function-level
    importlib.import_module("kumo.services.sqs.queues")
'''
    found = [(line, target) for line, target in sorted(imports(source, "kumo.services.autoscaling.launching", False))
             if violation("kumo.services.autoscaling.launching", target)]
    assert [target for _, target in found] == [
        "kumo.services.elbv2.targetgroups", "kumo.services.iam.model", "kumo.services.cloudwatch.alarms.delete_alarms",
        "kumo.services.sqs.queues"]
    assert violation("kumo.core.store", "kumo.services.sqs.internal")
    assert violation("kumo.dataplane.lb.control", "kumo.services.elbv2.internal.register")
    assert violation("kumo.services.elb", "kumo.services.elbv2.model")  # a package's __init__ too
    assert not violation("kumo.aws.gateway", "kumo.services.sqs.queues")  # the edge dispatches to handlers
