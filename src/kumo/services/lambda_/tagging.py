"""Tags on functions and event source mappings (TagResource, UntagResource, ListTags)."""

from __future__ import annotations

from .model import ESM, FUNCTION, function_not_found, invalid, not_found, parse_function, scope

def _tagged(ctx, arn: str) -> tuple[object, str, dict]:
    if ":event-source-mapping:" in arn:
        uuid = arn.rsplit(":", 1)[-1]
        table = ctx.kumo.store.table(ctx.scope, ESM)
        esm = table.get(uuid)
        if esm is None or esm.get("EventSourceMappingArn") != arn:
            raise not_found(f"Event source mapping not found: {arn}")
        return table, uuid, esm
    ref = parse_function(ctx.account, ctx.region, arn)
    if not arn.startswith("arn:"):
        raise invalid(f"The resource you requested does not exist. {arn}")
    if ref.qualifier:
        raise invalid("Tags on function aliases and versions are not supported. Please specify a function ARN.")
    table = ctx.kumo.store.table(scope(ref.account, ref.region), FUNCTION)
    fn = table.get(ref.name) if ref.account == ctx.account else None
    if fn is None:
        raise function_not_found(arn)
    return table, ref.name, fn


def list_tags(ctx, p):
    _table, _key, record = _tagged(ctx, p["Resource"])
    return {"Tags": dict(record.get("_tags") or {})}


def tag_resource(ctx, p):
    table, key, record = _tagged(ctx, p["Resource"])
    tags = dict(record.get("_tags") or {})
    tags.update(p.get("Tags") or {})
    if len(tags) > 50:
        raise invalid("Number of tags exceeds resource tag limit.")
    record["_tags"] = tags
    table.put(key, record)
    return {}


def untag_resource(ctx, p):
    table, key, record = _tagged(ctx, p["Resource"])
    tags = dict(record.get("_tags") or {})
    for k in p.get("TagKeys") or []:
        tags.pop(k, None)
    record["_tags"] = tags
    table.put(key, record)
    return {}
