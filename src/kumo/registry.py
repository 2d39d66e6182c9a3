"""Services load when first needed: a request to one, state of one to resume, or a service that uses one.

Importing every service's handlers and starting every controller cost most of kumo's startup, though a
session often talks to two services.  ``Services`` is ``kumo.services``: the running services by package,
each set up (``kumo.services.<package>.setup(kumo)``) on first use:

* at start, the services that have durable state (records of their kinds, rows in their tables), so a
  restarted kumo still adopts its instances, runs its load balancer workers and evaluates its alarms;
* before the gateway runs a service's first request (``await load``), its controllers started;
* ``kumo.services[package]`` / ``.get(package)`` from code that needs a service now (a facade, a test);
* an alarm action whose ARN no loaded service owns, and datapoints with no metric store yet.

A service comes up with those it calls (``ServiceSpec.needs``, checked against the imports by
tests/unit/test_service_needs.py), so a facade call in the middle of a transaction never has to set a
service up (and create its tables) inside it.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import os
from typing import TYPE_CHECKING, Any, Iterable

from .aws import specs

if TYPE_CHECKING:  # pragma: no cover
    from .server import Kumo

log = logging.getLogger("kumo")

_SERVICES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "services")
BY_PACKAGE = {s.package: s for s in specs.SERVICES.values()}
# A service's own SQL tables are named <prefix>_...; the prefix is its name but for CloudWatch's.
TABLE_PREFIX = {"cw": "cloudwatch"}
# Alarm action ARNs whose service segment is not the owner's name (EC2's stop/terminate/reboot actions).
ARN_OWNER = {"automate": "ec2", "swf": "ec2"}
# The plain /_kumo paths services serve (``kumo.route``), by the package that adds them as it is set up.
ROUTE_OWNERS = (("/_kumo/faults/instances/", "ec2"), ("/_kumo/dataplane/lb/classic", "elb"),
                ("/_kumo/sns/", "sns"), ("/_kumo/lambda/", "lambda_"), ("/_kumo/sts/", "sts"))


def route_owner(path: str) -> str | None:
    return next((package for prefix, package in ROUTE_OWNERS if path.startswith(prefix)), None)


def implemented(package: str) -> bool:
    """Whether the service has handlers, without importing them."""
    return os.path.exists(os.path.join(_SERVICES_DIR, package, "api.py"))


def closure(packages: Iterable[str]) -> list[str]:
    """The packages and everything they need, in the registry's order (the order kumo always set up in)."""
    want, todo = set(), list(packages)
    while todo:
        package = todo.pop()
        if package in want or package not in BY_PACKAGE:
            continue
        want.add(package)
        todo += [specs.SERVICES[n].package for n in BY_PACKAGE[package].needs]
    return [s.package for s in specs.SERVICES.values() if s.package in want]


class Services(dict):
    """``kumo.services``: package -> what its ``setup`` returned; a missing service is set up on access."""

    def __init__(self, kumo: "Kumo"):
        super().__init__()
        self._kumo = kumo
        self._absent: set[str] = set()  # packages this kumo does not have
        self._loading: set[str] = set()
        self._starting: dict[str, asyncio.Future] = {}  # packages whose start a first request awaits

    # -- access -------------------------------------------------------------------------------------
    def __missing__(self, package: str) -> Any:
        if package not in BY_PACKAGE:
            raise KeyError(package)
        self.load_now(package)
        if not dict.__contains__(self, package):
            raise KeyError(package)
        return dict.__getitem__(self, package)

    def get(self, package: str, default: Any = None) -> Any:
        if dict.__contains__(self, package):
            return dict.__getitem__(self, package)
        if package not in BY_PACKAGE:
            return default
        self.load_now(package)
        return dict.get(self, package, default)

    def loaded(self, package: str) -> bool:
        return dict.__contains__(self, package) or package in self._absent

    # -- loading ------------------------------------------------------------------------------------
    def with_state(self) -> list[str]:
        """Packages with durable state: records of their kinds, or rows in their own tables."""
        store, found = self._kumo.store, set()
        for service in store.kind_prefixes() | {TABLE_PREFIX.get(p, p) for p in store.filled_table_prefixes()}:
            spec = specs.SERVICES.get(service)
            if spec is not None:
                found.add(spec.package)
        return sorted(found)

    def load_now(self, package: str) -> None:
        """Set a service (and what it needs) up now; from a running kumo its start work is scheduled."""
        kumo = self._kumo
        hooks = len(kumo._start_hooks)
        self._setup(closure([package]))
        if kumo.running:  # its controllers were scheduled to start as they registered
            for hook in kumo._start_hooks[hooks:]:
                result = hook()
                if inspect.isawaitable(result):
                    asyncio.ensure_future(result)

    async def load(self, package: str) -> None:
        """Set a service up and wait until its controllers and start hooks have started (the gateway).

        A second request arriving meanwhile waits for the same start, rather than finding the service set up
        but its controllers not started yet."""
        starting = self._starting.get(package)
        if starting is not None:
            await asyncio.shield(starting)
            return
        if self.loaded(package):
            return
        kumo = self._kumo
        hooks = len(kumo._start_hooks)
        packages = [p for p in closure([package]) if not self.loaded(p)]
        self._setup(packages)
        if not kumo.running:
            return
        task = asyncio.ensure_future(self._start(kumo, hooks))
        for p in packages:
            self._starting[p] = task
        try:
            await asyncio.shield(task)
        finally:
            for p in packages:
                if self._starting.get(p) is task:
                    del self._starting[p]

    @staticmethod
    async def _start(kumo, hooks: int) -> None:
        await asyncio.gather(*kumo.controllers.starting())
        for hook in kumo._start_hooks[hooks:]:
            result = hook()
            if inspect.isawaitable(result):
                await result

    def ready(self, package: str) -> bool:
        """Set up and started: the gateway's test before each request."""
        return self.loaded(package) and package not in self._starting

    def setup_all(self, packages: Iterable[str]) -> None:
        """At start, before the controllers start: set these up (and what they need)."""
        self._setup(closure(packages))

    def _setup(self, packages: list[str]) -> None:
        for package in packages:
            if self.loaded(package) or package in self._loading:
                continue
            self._loading.add(package)
            try:
                self._setup_one(package)
            finally:
                self._loading.discard(package)

    def _setup_one(self, package: str) -> None:
        try:
            module = importlib.import_module(f"kumo.services.{package}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(f"kumo.services.{package}"):
                self._absent.add(package)
                return
            raise
        setup = getattr(module, "setup", None)
        self[package] = setup(self._kumo) if setup else None
        log.debug("service %s loaded", package)

    async def owner_of(self, arn: str) -> None:
        """An alarm action no loaded service claims: load the service its ARN names."""
        parts = arn.split(":")
        if len(parts) > 2:
            service = ARN_OWNER.get(parts[2], parts[2])
            spec = specs.SERVICES.get(service)
            if spec is not None:
                await self.load(spec.package)
