"""Event source mappings: Lambda polling SQS queues for its functions.

Each enabled mapping has a poller on kumo's event loop.  It long-polls the
queue (kumo's own SQS, woken the moment a message arrives), gathers up to
BatchSize messages or until MaximumBatchingWindowInSeconds of kumo's clock
has passed, and invokes the function synchronously with AWS's SQS event,
several batches at a time (5, AWS's starting concurrency, or
ScalingConfig.MaximumConcurrency).  A successful batch is deleted from the
queue; a failed one is left to reappear after the queue's visibility timeout,
so the queue's redrive policy moves messages that keep failing to its
dead-letter queue.  With FunctionResponseTypes ReportBatchItemFailures only
the messages the function names in ``batchItemFailures`` stay (an invalid
response fails the whole batch, as on AWS).  FilterCriteria use
EventBridge's pattern language; messages that match no filter are deleted.

Kinesis, DynamoDB Streams, Kafka, MQ and DocumentDB sources answer
InvalidParameterValueException: kumo polls SQS only.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid

from ...aws.errors import AwsError
from ...core.arns import parse_arn
from ...core.controllers import Controller
from ..events import internal as events
from ..sqs import internal as sqs
from .functions import paginate, ref_of, require
from .model import ESM, conflict, invalid, not_found, scope

log = logging.getLogger("kumo.lambda")
NAME = "lambda-esm"
DEFAULT_CONCURRENCY = 5
POLL_WAIT = 20.0


def _source_kind(arn: str) -> str:
    parsed = parse_arn(arn or "")
    if parsed is None:
        raise invalid(f"Invalid event source ARN: {arn}")
    if parsed.service == "sqs":
        return "sqs"
    names = {"kinesis": "Kinesis streams", "dynamodb": "DynamoDB Streams", "kafka": "Amazon MSK clusters",
             "mq": "Amazon MQ brokers", "rds": "DocumentDB change streams", "docdb": "DocumentDB change streams"}
    what = names.get(parsed.service, f"{parsed.service} sources")
    raise invalid(f"kumo does not poll {what} yet: event source mappings support Amazon SQS queues only.")


def _queue(kumo, arn: str) -> sqs.QueueInfo:
    queue = sqs.describe(kumo, arn)
    if queue is None:
        raise invalid("Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. "
                      "SQS Error Message: The specified queue does not exist or you do not have access to it.")
    return queue


def _check_settings(kumo, rec: dict, queue: sqs.QueueInfo, fn_config: dict) -> None:
    fifo = queue.fifo
    batch = rec["BatchSize"]
    window = rec.get("MaximumBatchingWindowInSeconds") or 0
    if not 1 <= batch <= (10 if fifo else 10000):
        raise invalid(f"BatchSize must be between 1 and {10 if fifo else 10000} for {'FIFO' if fifo else 'standard'} "
                      "queues.")
    if batch > 10 and window < 1:
        raise invalid("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
    if fifo and window:
        raise invalid("Batching window is not supported for FIFO queues")
    visibility = queue.visibility_timeout
    if visibility < fn_config.get("Timeout", 3):
        raise invalid(f"Queue visibility timeout: {visibility} seconds is less than Function timeout: "
                      f"{fn_config.get('Timeout', 3)} seconds")
    concurrency = (rec.get("ScalingConfig") or {}).get("MaximumConcurrency")
    if concurrency is not None and not 2 <= concurrency <= 1000:
        raise invalid("MaximumConcurrency must be between 2 and 1000")
    for f in (rec.get("FilterCriteria") or {}).get("Filters") or []:
        try:
            events.check_pattern(events.parse_pattern(f.get("Pattern") or ""))
        except (AwsError, ValueError, TypeError) as exc:
            raise invalid(f"Invalid filter pattern definition. {getattr(exc, 'message', exc)}")


def create_event_source_mapping(ctx, p):
    ref = ref_of(ctx, p)
    fn = require(ctx, ref)
    arn = p.get("EventSourceArn")
    if not arn:
        raise invalid("Unrecognized event source, must be kinesis, dynamodb stream, sqs, msk, mq or docdb.")
    _source_kind(arn)
    queue = _queue(ctx.kumo, arn)
    table = ctx.store.table(ctx.scope, ESM)
    target = ref.arn(ref.qualifier)
    for other in table.values():
        if other["EventSourceArn"] == arn and other["FunctionArn"] == target:
            raise conflict(f'An event source mapping with SQS arn (" {arn} ") and function (" {ref.name} ") already '
                           f"exists. Please update or delete the existing mapping with UUID {other['UUID']}")
    key = str(uuid.uuid4())
    rec = {
        "UUID": key, "BatchSize": p.get("BatchSize") or 10,
        "MaximumBatchingWindowInSeconds": p.get("MaximumBatchingWindowInSeconds") or 0,
        "EventSourceArn": arn, "FunctionArn": target, "LastModified": ctx.now(),
        "State": "Creating", "StateTransitionReason": "USER_INITIATED",
        "FunctionResponseTypes": list(p.get("FunctionResponseTypes") or []),
        "EventSourceMappingArn": f"arn:aws:lambda:{ctx.region}:{ctx.account}:event-source-mapping:{key}",
        "_enabled": p.get("Enabled", True), "_tags": dict(p.get("Tags") or {}),
    }
    if p.get("ScalingConfig"):
        rec["ScalingConfig"] = dict(p["ScalingConfig"])
    if p.get("FilterCriteria"):
        rec["FilterCriteria"] = p["FilterCriteria"]
    _check_settings(ctx.kumo, rec, queue, fn)
    table.put(key, rec)
    ctx.controllers.enqueue(NAME, (ctx.scope, key))
    return rec


def _mapping(ctx, p) -> dict:
    rec = ctx.store.table(ctx.scope, ESM).get(p["UUID"])
    if rec is None:
        raise not_found("The resource you requested does not exist.")
    return rec


def get_event_source_mapping(ctx, p):
    return _mapping(ctx, p)


def update_event_source_mapping(ctx, p):
    rec = _mapping(ctx, p)
    if rec["State"] in ("Creating", "Updating", "Deleting"):
        raise AwsError("ResourceInUseException",
                       f"Cannot update the event source mapping because it is in use (state {rec['State']}).",
                       fields={"Type": "User"})
    if p.get("FunctionName"):
        ref = ref_of(ctx, p)
        require(ctx, ref)
        rec["FunctionArn"] = ref.arn(ref.qualifier)
    for key in ("BatchSize", "MaximumBatchingWindowInSeconds", "FunctionResponseTypes", "FilterCriteria",
                "ScalingConfig"):
        if key in p:
            rec[key] = p[key]
    if "Enabled" in p:
        rec["_enabled"] = bool(p["Enabled"])
    account, region, name, qualifier = _function_of(rec)
    fn = ctx.store.table(scope(account, region), "lambda.function").get(name) or {}
    _check_settings(ctx.kumo, rec, _queue(ctx.kumo, rec["EventSourceArn"]), fn)
    rec.update(State="Updating", StateTransitionReason="USER_INITIATED", LastModified=ctx.now())
    ctx.store.table(ctx.scope, ESM).put(rec["UUID"], rec)
    ctx.controllers.enqueue(NAME, (ctx.scope, rec["UUID"]))
    return rec


def delete_event_source_mapping(ctx, p):
    rec = _mapping(ctx, p)
    rec.update(State="Deleting", StateTransitionReason="USER_INITIATED")
    ctx.store.table(ctx.scope, ESM).put(rec["UUID"], rec)
    ctx.controllers.enqueue(NAME, (ctx.scope, rec["UUID"]))
    return rec


def list_event_source_mappings(ctx, p):
    items = sorted(ctx.store.table(ctx.scope, ESM).values(), key=lambda r: r["UUID"])
    if p.get("EventSourceArn"):
        items = [r for r in items if r["EventSourceArn"] == p["EventSourceArn"]]
    if p.get("FunctionName"):
        ref = ref_of(ctx, p)
        items = [r for r in items if _function_of(r)[2] == ref.name]
    page, marker = paginate(items, p.get("Marker"), p.get("MaxItems"), limit=100)
    out = {"EventSourceMappings": page}
    if marker:
        out["NextMarker"] = marker
    return out


def _function_of(rec: dict) -> tuple[str, str, str, str | None]:
    from .model import parse_arn_function

    return parse_arn_function(rec["FunctionArn"])


# -- the SQS event ---------------------------------------------------------------------------------------


def sqs_record(message: dict, queue_arn: str, region: str) -> dict:
    attrs = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        item = {"stringListValues": [], "binaryListValues": [], "dataType": value.get("DataType")}
        if value.get("StringValue") is not None:
            item["stringValue"] = value["StringValue"]
        if value.get("BinaryValue") is not None:
            item["binaryValue"] = base64.b64encode(bytes(value["BinaryValue"])).decode()
        attrs[name] = item
    out = {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
           "attributes": dict(message.get("Attributes") or {}), "messageAttributes": attrs,
           "md5OfBody": message["MD5OfBody"]}
    if message.get("MD5OfMessageAttributes"):
        out["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    out.update(eventSource="aws:sqs", eventSourceARN=queue_arn, awsRegion=region)
    return out


def matches_filters(rec: dict, record: dict) -> bool:
    filters = (rec.get("FilterCriteria") or {}).get("Filters") or []
    if not filters:
        return True
    candidate = dict(record)
    try:
        candidate["body"] = json.loads(record["body"])
    except ValueError:
        pass
    return any(events.matches(events.parse_pattern(f["Pattern"]), candidate) for f in filters if f.get("Pattern"))


def failed_items(response: bytes, ids: set[str]) -> set[str] | None:
    """The message ids a ReportBatchItemFailures response names; None when the response fails the whole batch."""
    try:
        doc = json.loads(response) if response else None
    except ValueError:
        return None
    if doc is None or doc == {} or (isinstance(doc, dict) and not doc.get("batchItemFailures")):
        return set() if isinstance(doc, (dict, type(None))) else None
    if not isinstance(doc, dict) or not isinstance(doc.get("batchItemFailures"), list):
        return None
    out = set()
    for item in doc["batchItemFailures"]:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not ident or ident not in ids:
            return None
        out.add(ident)
    return out


# -- pollers ----------------------------------------------------------------------------------------------


class Poller:
    def __init__(self, service, sc: str, key: str):
        self.service = service
        self.kumo = service.kumo
        self.scope = sc
        self.key = key
        self.task: asyncio.Task | None = None
        self.batches: set[asyncio.Task] = set()

    def record(self) -> dict | None:
        return self.kumo.store.table(self.scope, ESM).get(self.key)

    def start(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        tasks = [t for t in [self.task, *self.batches] if t is not None and not t.done()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.task = None
        self.batches.clear()

    async def _run(self) -> None:
        clock = self.kumo.clock
        while True:
            rec = self.record()
            if rec is None or rec["State"] != "Enabled":
                return
            limit = (rec.get("ScalingConfig") or {}).get("MaximumConcurrency") or DEFAULT_CONCURRENCY
            if len(self.batches) >= limit:
                await asyncio.wait(self.batches, return_when=asyncio.FIRST_COMPLETED)
                continue
            account, region, name, _q = _function_of(rec)
            if name not in self.kumo.store.table(scope(account, region), "lambda.function"):
                await clock.sleep(1.0)  # the function is gone: the mapping waits, as AWS's does
                continue
            queue = rec["EventSourceArn"]
            want = rec["BatchSize"]
            try:
                messages = await sqs.receive_wait(self.kumo, queue, min(10, want), POLL_WAIT)
                window = rec.get("MaximumBatchingWindowInSeconds") or 0
                deadline = clock.now() + window
                while messages and len(messages) < want and clock.now() < deadline:
                    more = await sqs.receive_wait(self.kumo, queue, min(10, want - len(messages)),
                                                  deadline - clock.now())
                    if not more:
                        break
                    messages += more
            except sqs.QueueNotFound:
                await clock.sleep(10.0)
                continue
            if not messages:
                continue
            task = asyncio.get_running_loop().create_task(self._process(rec, messages))
            self.batches.add(task)
            task.add_done_callback(self.batches.discard)

    async def _process(self, rec: dict, messages: list[dict]) -> None:
        from .invoke import Throttled

        queue = rec["EventSourceArn"]
        region = rec["EventSourceArn"].split(":")[3]
        records = [sqs_record(m, queue, region) for m in messages]
        keep = [r for r in records if matches_filters(rec, r)]
        dropped = [r["receiptHandle"] for r in records if r not in keep]
        if dropped:
            sqs.delete_many(self.kumo, queue, dropped)
        if not keep:
            return
        account, fregion, name, qualifier = _function_of(rec)
        engine = self.service.engine
        try:
            r = engine.resolve(account, fregion, name, qualifier)
            engine.check_state(r)
            outcome = await engine.run(r, json.dumps({"Records": keep}).encode(), str(uuid.uuid4()))
        except Throttled:
            await self.kumo.clock.sleep(1.0)
            return  # the messages come back after their visibility timeout
        except AwsError as exc:
            log.info("event source mapping %s could not invoke %s: %s", rec["UUID"], name, exc.message)
            return
        if outcome.failed:
            return
        if "ReportBatchItemFailures" in (rec.get("FunctionResponseTypes") or []):
            failed = failed_items(outcome.payload, {r["messageId"] for r in keep})
            if failed is None:
                return
            done = [r["receiptHandle"] for r in keep if r["messageId"] not in failed]
        else:
            done = [r["receiptHandle"] for r in keep]
        if done:
            sqs.delete_many(self.kumo, queue, done)


class Mappings(Controller):
    """Moves mappings through Creating/Updating/Deleting and keeps a poller running for each enabled one."""

    name = NAME
    resync_interval = 60.0

    def __init__(self, service):
        self.service = service
        self.kumo = service.kumo
        self.pollers: dict[tuple, Poller] = {}

    def keys(self):
        return [(sc, key) for sc, key, _ in self.kumo.store.all(ESM)]

    async def reconcile(self, key):
        sc, uuid_ = key
        store = self.kumo.store
        table = store.table(sc, ESM)
        rec = table.get(uuid_)
        poller = self.pollers.get(key)
        if rec is None or rec["State"] == "Deleting":
            if poller is not None:
                del self.pollers[key]
                await poller.stop()
            if rec is not None:
                with store.transaction():
                    table.delete(uuid_)
            return None
        want = "Enabled" if rec.get("_enabled", True) else "Disabled"
        if rec["State"] != want:
            with store.transaction():
                rec["State"] = want
                table.put(uuid_, rec)
        if want == "Enabled":
            if poller is None:
                poller = self.pollers[key] = Poller(self.service, sc, uuid_)
            poller.start()
        elif poller is not None:
            del self.pollers[key]
            await poller.stop()
        return None

    async def stop(self) -> None:
        pollers, self.pollers = list(self.pollers.values()), {}
        for poller in pollers:
            await poller.stop()

