"""Concurrency: the account limit, reserved concurrency per function, provisioned concurrency, account settings.

Concurrency is the number of invocations in flight.  Each account and region
has ``--lambda-concurrency`` (1,000 by default, AWS's default quota);
functions with reserved concurrency may run that many at once and no more,
the others share what is left (the unreserved pool, never below 100, as on
AWS).  A synchronous invoke beyond its limit gets TooManyRequestsException
(429); an asynchronous event waits until it fits.  The counting (``Limiter``)
is in memory: it describes the running world, not durable state.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from ...aws.errors import AwsError
from .functions import ref_of, require
from .model import ALIAS, FUNCTION, LATEST, PROVISIONED, VERSION, invalid, not_found, scope, timestamp

MIN_UNRESERVED = 100
TOTAL_CODE_SIZE = 80530636800
PROVISIONING = "lambda-provisioned"


def account_limit(kumo) -> int:
    return int(kumo.settings.lambda_concurrency)


def reserved_total(store, account: str, region: str, skip: str | None = None) -> int:
    return sum(fn.get("_reserved") or 0 for name, fn in store.table(scope(account, region), FUNCTION).items()
               if name != skip and fn.get("_reserved") is not None)


def throttled(reason: str) -> AwsError:
    return AwsError("TooManyRequestsException", "Rate Exceeded.", fields={"Type": "User", "Reason": reason})


class Limiter:
    def __init__(self, kumo):
        self.kumo = kumo
        self.function = defaultdict(int)  # (account, region, name) -> in flight
        self.unreserved = defaultdict(int)  # (account, region) -> in flight of functions without reservation
        self.total = defaultdict(int)  # (account, region) -> in flight
        self._released: dict[tuple, asyncio.Event] = {}

    def try_acquire(self, account: str, region: str, name: str, reserved: int | None) -> str | None:
        """Count one invocation in, or say why it is throttled (AWS's ThrottleReason)."""
        key = (account, region, name)
        if reserved is not None:
            if self.function[key] >= reserved:
                return "ReservedFunctionConcurrentInvocationLimitExceeded"
        else:
            limit = account_limit(self.kumo) - reserved_total(self.kumo.store, account, region)
            if self.unreserved[(account, region)] >= limit:
                return "ConcurrentInvocationLimitExceeded"
            self.unreserved[(account, region)] += 1
        self.function[key] += 1
        self.total[(account, region)] += 1
        return None

    def release(self, account: str, region: str, name: str, reserved: int | None) -> None:
        key = (account, region, name)
        self.function[key] = max(0, self.function[key] - 1)
        if reserved is None:
            self.unreserved[(account, region)] = max(0, self.unreserved[(account, region)] - 1)
        self.total[(account, region)] = max(0, self.total[(account, region)] - 1)
        event = self._released.pop((account, region), None)
        if event is not None:
            event.set()

    def in_flight(self, account: str, region: str, name: str | None = None) -> int:
        if name is None:
            return self.total[(account, region)]
        return self.function[(account, region, name)]

    async def wait_release(self, account: str, region: str, timeout: float) -> None:
        """Until some invocation of the account and region ends (or ``timeout`` seconds of kumo's clock)."""
        event = self._released.get((account, region))
        if event is None:
            event = self._released[(account, region)] = asyncio.Event()
        try:
            await self.kumo.clock.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass


# -- the API ---------------------------------------------------------------------------------------------


def put_function_concurrency(ctx, p):
    ref = ref_of(ctx, p, allow_qualifier=False)
    fn = require(ctx, ref)
    value = p["ReservedConcurrentExecutions"]
    limit = account_limit(ctx.kumo)
    others = reserved_total(ctx.store, ctx.account, ctx.region, skip=ref.name)
    floor = min(MIN_UNRESERVED, limit)
    if limit - others - value < floor:
        raise invalid("Specified ReservedConcurrentExecutions for function decreases account's "
                      f"UnreservedConcurrentExecution below its minimum value of [{floor}].")
    fn["_reserved"] = int(value)
    ctx.table("function").put(ref.name, fn)
    return {"ReservedConcurrentExecutions": int(value)}


def get_function_concurrency(ctx, p):
    ref = ref_of(ctx, p, allow_qualifier=False)
    fn = require(ctx, ref)
    if fn.get("_reserved") is None:
        return {}
    return {"ReservedConcurrentExecutions": fn["_reserved"]}


def delete_function_concurrency(ctx, p):
    ref = ref_of(ctx, p, allow_qualifier=False)
    fn = require(ctx, ref)
    fn.pop("_reserved", None)
    ctx.table("function").put(ref.name, fn)
    return {}


def get_account_settings(ctx, p):
    from .model import LAYER_VERSION

    store = ctx.store
    fns = store.table(ctx.scope, FUNCTION).values()
    versions = store.table(ctx.scope, VERSION).values()
    layers = store.table(ctx.scope, LAYER_VERSION).values()
    total = sum(f["CodeSize"] for f in fns) + sum(v["CodeSize"] for v in versions) + sum(
        lv["Content"]["CodeSize"] for lv in layers)
    limit = account_limit(ctx.kumo)
    return {
        "AccountLimit": {"TotalCodeSize": TOTAL_CODE_SIZE, "CodeSizeUnzipped": 262144000, "CodeSizeZipped": 52428800,
                         "ConcurrentExecutions": limit,
                         "UnreservedConcurrentExecutions": limit - reserved_total(store, ctx.account, ctx.region)},
        "AccountUsage": {"TotalCodeSize": total, "FunctionCount": len(fns)},
    }


# -- provisioned concurrency -------------------------------------------------------------------------------


def _provisioned_target(ctx, p) -> tuple[str, str]:
    ref = ref_of(ctx, {"FunctionName": p["FunctionName"]}, allow_qualifier=False)
    require(ctx, ref)
    q = p["Qualifier"]
    if q == LATEST:
        raise invalid("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
    if q.isdigit():
        if f"{ref.name}:{q}" not in ctx.store.table(ctx.scope, VERSION):
            raise not_found(f"Function not found: {ref.arn(q)}")
    elif f"{ref.name}:{q}" not in ctx.store.table(ctx.scope, ALIAS):
        raise not_found(f"Cannot find alias arn: {ref.arn(q)}")
    return ref.name, q


def put_provisioned_concurrency_config(ctx, p):
    name, q = _provisioned_target(ctx, p)
    table = ctx.store.table(ctx.scope, PROVISIONED)
    key = f"{name}:{q}"
    other = [k for k, rec in table.items() if k.split(":", 1)[0] == name and k != key]
    wanted = p["ProvisionedConcurrentExecutions"]
    fn = ctx.table("function").get(name)
    if fn.get("_reserved") is not None:
        already = sum(table.get(k)["RequestedProvisionedConcurrentExecutions"] for k in other)
        if already + wanted > fn["_reserved"]:
            raise invalid(f"Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution"
                          f" for function: {fn['_reserved']}")
    rec = {"RequestedProvisionedConcurrentExecutions": wanted, "AvailableProvisionedConcurrentExecutions": 0,
           "AllocatedProvisionedConcurrentExecutions": 0, "Status": "IN_PROGRESS",
           "LastModified": timestamp(ctx.now()), "_function": name, "_qualifier": q}
    table.put(key, rec)
    ctx.controllers.enqueue(PROVISIONING, (ctx.scope, key))
    return {k: v for k, v in rec.items() if not k.startswith("_")}


def get_provisioned_concurrency_config(ctx, p):
    name, q = _provisioned_target(ctx, p)
    rec = ctx.store.table(ctx.scope, PROVISIONED).get(f"{name}:{q}")
    if rec is None:
        raise AwsError("ProvisionedConcurrencyConfigNotFoundException",
                       "No Provisioned Concurrency Config found for this function", status=404,
                       fields={"Type": "User"})
    return rec


def delete_provisioned_concurrency_config(ctx, p):
    name, q = _provisioned_target(ctx, p)
    table = ctx.store.table(ctx.scope, PROVISIONED)
    if f"{name}:{q}" not in table:
        raise AwsError("ProvisionedConcurrencyConfigNotFoundException",
                       "No Provisioned Concurrency Config found for this function", status=404,
                       fields={"Type": "User"})
    table.delete(f"{name}:{q}")
    ctx.controllers.enqueue(PROVISIONING, (ctx.scope, f"{name}:{q}"))
    return {}


def list_provisioned_concurrency_configs(ctx, p):
    from .functions import paginate

    ref = ref_of(ctx, p, allow_qualifier=False)
    require(ctx, ref)
    items = []
    for key, rec in sorted(ctx.store.table(ctx.scope, PROVISIONED).items()):
        if rec["_function"] == ref.name:
            items.append(dict({k: v for k, v in rec.items() if not k.startswith("_")},
                              FunctionArn=ref.arn(rec["_qualifier"])))
    page, marker = paginate(items, p.get("Marker"), p.get("MaxItems"))
    out = {"ProvisionedConcurrencyConfigs": page}
    if marker:
        out["NextMarker"] = marker
    return out

