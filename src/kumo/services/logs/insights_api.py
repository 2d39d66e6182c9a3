"""Logs Insights: StartQuery, GetQueryResults, StopQuery, DescribeQueries, query definitions, GetLogGroupFields
and GetLogRecord.

StartQuery parses the query (a syntax error is refused at once, MalformedQueryException as on AWS) and
stores it Scheduled; a task then marks it Running, reads the stored events of its groups in [startTime,
endTime] in chunks on the loop, evaluates the query in a worker thread and stores it Complete with its rows
and statistics (or Failed; StopQuery meanwhile leaves it Cancelled).  GetQueryResults of a query a restart
left Scheduled or Running runs it then.  Each result row carries an @ptr
that GetLogRecord reads back.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid

from ...aws.errors import AwsError
from ...core import pagination
from . import insights
from .insights_funcs import QueryError, show, timestamp
from .model import group_name, groups, invalid, need_group
from .runtime import service

log = logging.getLogger("kumo.logs")
QUERY_KIND, DEFINITION_KIND = "logs.query", "logs.querydefinition"
MAX_GROUPS = 50
MAX_SCAN = 1_000_000
SCAN_CHUNK = 10_000
DEFAULT_LIMIT = 10_000
KEEP_QUERIES = 7 * 86400  # AWS keeps results for 7 days


def _ptr(scope: str, group: str, event_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([scope, group, event_id]).encode()).decode()


def _flatten(doc, prefix: str, out: dict) -> None:
    if isinstance(doc, dict):
        for k, v in doc.items():
            _flatten(v, f"{prefix}{k}.", out)
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            _flatten(v, f"{prefix}{i}.", out)
    else:
        out[prefix[:-1]] = doc


def record_of(account: str, scope: str, group: str, row) -> dict:
    event_id, stream, ts, ingested, message = row
    rec = {"@timestamp": ts, "@message": message, "@logStream": stream, "@log": f"{account}:{group}",
           "@ingestionTime": ingested, "@ptr": _ptr(scope, group, event_id)}
    text = message.strip()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            fields: dict = {}
            _flatten(doc, "", fields)
            for k, v in fields.items():
                rec.setdefault(k, v)
    return rec


def _cell(name: str, value) -> str:
    if name in ("@timestamp", "@ingestionTime") and isinstance(value, (int, float)):
        return timestamp(int(value))
    return show(value)


def _group_names(ctx, p) -> list[str]:
    given = [k for k in ("logGroupName", "logGroupNames", "logGroupIdentifiers") if p.get(k)]
    if len(given) != 1:
        raise invalid("Exactly one of logGroupName, logGroupNames or logGroupIdentifiers must be specified.")
    if p.get("logGroupName"):
        names = [p["logGroupName"]]
    elif p.get("logGroupNames"):
        names = list(p["logGroupNames"])
    else:
        names = [group_name(ctx, {"logGroupIdentifier": i}) for i in p["logGroupIdentifiers"]]
    if len(names) > MAX_GROUPS:
        raise invalid(f"A query can search at most {MAX_GROUPS} log groups.")
    for name in names:
        if name not in groups(ctx):
            raise AwsError("ResourceNotFoundException", f"Log group '{name}' does not exist for account ID "
                                                        f"'{ctx.account}'")
    return names


def start_query(ctx, p):
    if (p.get("queryLanguage") or "CWLI") != "CWLI":
        raise invalid(f"kumo runs Logs Insights QL queries; {p['queryLanguage']} is not supported.")
    names = _group_names(ctx, p)
    if p["endTime"] < p["startTime"]:
        raise invalid("End time should not be before the start time")
    try:
        insights.parse(p["queryString"])
    except QueryError as exc:
        raise AwsError("MalformedQueryException", str(exc),
                       fields={"queryCompileError": {"location": {"startCharOffset": 0, "endCharOffset": 0},
                                                     "message": str(exc)}})
    qid = str(uuid.uuid4())
    record = {"queryId": qid, "queryString": p["queryString"], "status": "Scheduled",
              "createTime": int(ctx.now() * 1000), "logGroupName": names[0], "_groups": names,
              "_start": p["startTime"] * 1000, "_end": p["endTime"] * 1000 + 999,
              "_limit": p.get("limit") or DEFAULT_LIMIT, "queryLanguage": "CWLI"}
    ctx.table("query").put(qid, record)
    logs = service(ctx)
    task = asyncio.ensure_future(_run_task(ctx.kumo, ctx.scope, ctx.account, qid))
    logs.query_tasks.add(task)
    task.add_done_callback(logs.query_tasks.discard)
    return {"queryId": qid}


async def _run_task(kumo, scope: str, account: str, qid: str) -> None:
    """Scheduled -> Running -> Complete: events read in chunks on the loop, the query evaluated in a worker
    thread (a big query does not hold the loop), the answer stored unless StopQuery came first."""
    table = kumo.store.table(scope, QUERY_KIND)
    with kumo.store.transaction():
        record = table.get(qid)
        if record is None or record["status"] != "Scheduled":
            return
        record["status"] = "Running"
        table.put(qid, record)
    running = kumo.services["logs"].running_queries
    running.add(qid)
    try:
        events = kumo.services["logs"].events
        records, scanned, size = [], 0, 0
        for name in record["_groups"]:
            after = None
            while scanned < MAX_SCAN:
                rows = events.group_scan(scope, name, None, record["_start"], record["_end"], after, SCAN_CHUNK)
                scanned += len(rows)
                size += sum(len(r[4].encode()) for r in rows)
                records += [record_of(account, scope, name, row) for row in rows]
                if len(rows) < SCAN_CHUNK:
                    break
                after = (rows[-1][2], rows[-1][0])
                await asyncio.sleep(0)  # let other requests in between chunks
        done = await asyncio.get_running_loop().run_in_executor(None, _evaluate, record, records, scanned, size)
    except Exception:
        log.exception("Logs Insights query %s failed", qid)
        done = _evaluate(record, [], 0, 0, failed=True)
    finally:
        running.discard(qid)
    with kumo.store.transaction():
        current = table.get(qid)
        if current is not None and current["status"] == "Running":
            table.put(qid, done)


def _run(kumo, scope: str, account: str, record: dict) -> dict:
    """The whole query at once, on the caller's thread (a query a restart left unfinished)."""
    events = kumo.services["logs"].events
    records, scanned, size = [], 0, 0
    for name in record["_groups"]:
        rows = events.scan(scope, name, record["_start"], record["_end"], MAX_SCAN)
        scanned += len(rows)
        size += sum(len(r[4].encode()) for r in rows)
        records += [record_of(account, scope, name, row) for row in rows]
    return _evaluate(record, records, scanned, size)


def _evaluate(record: dict, records: list[dict], scanned: int, size: int, failed: bool = False) -> dict:
    stats = {"recordsMatched": 0.0, "recordsScanned": float(scanned), "bytesScanned": float(size)}
    if not failed:
        try:
            rows, matched = insights.parse(record["queryString"]).run(records)
        except (QueryError, TypeError, ValueError) as exc:
            log.warning("query %s failed: %s", record["queryId"], exc)
            failed = True
    if failed:
        return {**record, "status": "Failed", "_results": [], "_statistics": stats}
    rows = rows[:record["_limit"]]
    return {**record, "status": "Complete",
            "_results": [[{"field": k, "value": _cell(k, v)} for k, v in row] for row in rows],
            "_statistics": {**stats, "recordsMatched": float(matched)}}


def get_query_results(ctx, p):
    table = ctx.table("query")
    record = table.get(p["queryId"])
    if record is None:
        raise AwsError("ResourceNotFoundException", "The specified query does not exist.")
    if record["status"] == "Scheduled" or (record["status"] == "Running" and
                                            record["queryId"] not in service(ctx).running_queries):
        record = _run(ctx.kumo, ctx.scope, ctx.account, record)  # what a restart left unfinished
        table.put(record["queryId"], record)
    stats = record.get("_statistics") or {"recordsMatched": 0.0, "recordsScanned": 0.0, "bytesScanned": 0.0}
    return {"queryLanguage": "CWLI", "results": record.get("_results", []), "statistics": stats,
            "status": record["status"]}


def stop_query(ctx, p):
    table = ctx.table("query")
    record = table.get(p["queryId"])
    if record is None:
        raise AwsError("ResourceNotFoundException", "The specified query does not exist.")
    if record["status"] not in ("Scheduled", "Running"):
        return {"success": False}
    record["status"] = "Cancelled"
    table.put(record["queryId"], record)
    return {"success": True}


def describe_queries(ctx, p):
    now = ctx.now() * 1000
    table = ctx.table("query")
    for qid, q in list(table.items()):
        if q["createTime"] < now - KEEP_QUERIES * 1000:
            table.delete(qid)
    items = [q for q in table.values()
             if (not p.get("logGroupName") or p["logGroupName"] in q["_groups"])
             and (not p.get("status") or q["status"] == p["status"])]
    items.sort(key=lambda q: (-q["createTime"], q["queryId"]))
    try:
        page, token = pagination.paginate(items, p.get("maxResults") or 1000, p.get("nextToken"),
                                          key=lambda q: f"{10**15 - q['createTime']:016d}{q['queryId']}",
                                          context=repr((p.get("logGroupName"), p.get("status"))))
    except pagination.InvalidToken:
        raise invalid("The specified nextToken is invalid.")
    out = {"queries": [{k: v for k, v in q.items() if not k.startswith("_")} for q in page]}
    if token:
        out["nextToken"] = token
    return out


# -- query definitions ------------------------------------------------------------------------------


def put_query_definition(ctx, p):
    table = ctx.table("querydefinition")
    qid = p.get("queryDefinitionId")
    if qid and qid not in table:
        raise AwsError("ResourceNotFoundException", "The specified query definition does not exist.")
    qid = qid or str(uuid.uuid4())
    record = {"queryDefinitionId": qid, "name": p["name"], "queryString": p["queryString"],
              "lastModified": int(ctx.now() * 1000), "logGroupNames": list(p.get("logGroupNames") or []),
              "queryLanguage": p.get("queryLanguage") or "CWLI"}
    if p.get("parameters"):
        record["parameters"] = p["parameters"]
    table.put(qid, record)
    return {"queryDefinitionId": qid}


def describe_query_definitions(ctx, p):
    prefix = p.get("queryDefinitionNamePrefix") or ""
    items = sorted((d for d in ctx.table("querydefinition").values() if d["name"].startswith(prefix)),
                   key=lambda d: (d["name"], d["queryDefinitionId"]))
    if p.get("queryLanguage"):
        items = [d for d in items if d["queryLanguage"] == p["queryLanguage"]]
    try:
        page, token = pagination.paginate(items, p.get("maxResults") or 1000, p.get("nextToken"),
                                          key=lambda d: f"{d['name']}\0{d['queryDefinitionId']}", context=prefix)
    except pagination.InvalidToken:
        raise invalid("The specified nextToken is invalid.")
    out = {"queryDefinitions": [dict(d) for d in page]}
    if token:
        out["nextToken"] = token
    return out


def delete_query_definition(ctx, p):
    table = ctx.table("querydefinition")
    if p["queryDefinitionId"] not in table:
        raise AwsError("ResourceNotFoundException", "The specified query definition does not exist.")
    table.delete(p["queryDefinitionId"])
    return {"success": True}


# -- fields and records -------------------------------------------------------------------------------


def get_log_group_fields(ctx, p):
    name = group_name(ctx, p)
    need_group(ctx, name)
    at = int((p.get("time") or ctx.now()) * 1000)
    rows = service(ctx).events.scan(ctx.scope, name, at - 15 * 60 * 1000, at, 10_000)
    counts: dict[str, int] = {}
    for row in rows:
        for field in record_of(ctx.account, ctx.scope, name, row):
            if field != "@ptr":
                counts[field] = counts.get(field, 0) + 1
    total = len(rows) or 1
    return {"logGroupFields": [{"name": k, "percent": round(100 * v / total)} for k, v in counts.items()]}


def get_log_record(ctx, p):
    try:
        scope, group, event_id = json.loads(base64.urlsafe_b64decode(p["logRecordPointer"].encode()))
        event_id = int(event_id)
    except (ValueError, TypeError):
        raise invalid("The specified log record pointer is invalid.")
    row = service(ctx).events.get(event_id) if scope == ctx.scope else None
    if row is None or row[1] != group:
        raise AwsError("ResourceNotFoundException", "The specified log record does not exist.")
    _scope, _group, stream, ts, ingested, message = row
    rec = record_of(ctx.account, scope, group, (event_id, stream, ts, ingested, message))
    rec.pop("@ptr")
    return {"logRecord": {k: _cell(k, v) for k, v in rec.items() if v is not None}}
