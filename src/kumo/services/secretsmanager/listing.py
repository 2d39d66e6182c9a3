"""ListSecrets (filters, sorting, pagination, secrets scheduled for deletion) and BatchGetSecretValue."""

from __future__ import annotations

import json

from ...aws.errors import AwsError
from ...core import pagination
from .model import find, invalid_parameter, list_entry
from .versions import read

# How each filter key matches, as AWS documents it: prefix matches, case-sensitive but for description and all.
_CASELESS = {"description", "all"}


def _fields(record: dict, key: str) -> list[str]:
    tags = record.get("Tags") or []
    if key == "name":
        return [record["Name"]]
    if key == "description":
        return [record.get("Description") or ""]
    if key == "tag-key":
        return [t["Key"] for t in tags]
    if key == "tag-value":
        return [t.get("Value", "") for t in tags]
    if key == "primary-region":
        return [record["PrimaryRegion"]] if record.get("PrimaryRegion") else []
    if key == "owning-service":
        return [record["OwningService"]] if record.get("OwningService") else []
    # "all": every word of every attribute above
    words = []
    for k in ("name", "description", "tag-key", "tag-value", "primary-region", "owning-service"):
        for text in _fields(record, k):
            words += [text, *text.replace("/", " ").replace("-", " ").replace("_", " ").split()]
    return words


def _value_matches(record: dict, key: str, value: str) -> bool:
    negate = value.startswith("!")
    wanted = value[1:] if negate else value
    fields = _fields(record, key)
    if key in _CASELESS:
        wanted, fields = wanted.lower(), [f.lower() for f in fields]
    hit = any(f.startswith(wanted) for f in fields)
    return not hit if negate else hit


def matches(record: dict, filters: list[dict]) -> bool:
    """Every filter holds (AND); within a filter, any of its values (OR), a negated value must hold too."""
    for f in filters:
        vals = f.get("Values") or []
        if not vals:
            continue
        plain = [v for v in vals if not v.startswith("!")]
        negated = [v for v in vals if v.startswith("!")]
        if plain and not any(_value_matches(record, f["Key"], v) for v in plain):
            return False
        if not all(_value_matches(record, f["Key"], v) for v in negated):
            return False
    return True


def check_filters(filters: list[dict]) -> None:
    for f in filters:
        if not f.get("Key"):
            raise invalid_parameter("Invalid filter key")
        if f["Key"] != "all" and not f.get("Values"):
            raise invalid_parameter(f"Invalid filter values for key: {f['Key']}")


_SORT = {"created-date": "CreatedDate", "last-accessed-date": "LastAccessedDate",
         "last-changed-date": "LastChangedDate", "name": "Name"}


def _order_key(sort_by: str, descending: bool):
    member = _SORT[sort_by]

    def key(record: dict) -> str:
        if member == "Name":
            head = "".join(chr(0x10FFFF - ord(c)) for c in record["Name"]) if descending else record["Name"]
        else:
            t = record.get(member) or 0.0
            head = f"{(1e11 - t) if descending else t:020.6f}"
        return f"{head}|{record['ARN']}"
    return key


def _select(ctx, p: dict, deleted: bool) -> list[dict]:
    filters = p.get("Filters") or []
    check_filters(filters)
    records = [r for r in ctx.table("secret").values()
               if (deleted or r.get("DeletedDate") is None) and matches(r, filters)]
    key = _order_key(p.get("SortBy") or "created-date", (p.get("SortOrder") or "desc") == "desc")
    records.sort(key=key)
    return records


def _page(ctx, p: dict, items: list[dict], key, default: int) -> tuple[list[dict], str | None]:
    context = json.dumps([ctx.account, ctx.region, ctx.operation, p.get("Filters"), p.get("SortBy"),
                          p.get("SortOrder"), p.get("IncludePlannedDeletion")], sort_keys=True)
    try:
        return pagination.paginate(items, p.get("MaxResults"), p.get("NextToken"), key, context,
                                   default_limit=default)
    except pagination.InvalidToken as exc:
        raise AwsError("InvalidNextTokenException", str(exc)) from None


def list_secrets(ctx, p):
    records = _select(ctx, p, bool(p.get("IncludePlannedDeletion")))
    key = _order_key(p.get("SortBy") or "created-date", (p.get("SortOrder") or "desc") == "desc")
    page, token = _page(ctx, p, records, key, 100)
    out = {"SecretList": [list_entry(r) for r in page]}
    if token:
        out["NextToken"] = token
    return out


def batch_get_secret_value(ctx, p):
    ids, filters = p.get("SecretIdList"), p.get("Filters")
    if ids and filters:
        raise invalid_parameter("Either 'SecretIdList' or 'Filters' must be provided, but not both.")
    if not ids and not filters:
        raise invalid_parameter("Either 'SecretIdList' or 'Filters' must be provided.")
    if ids:
        if len(ids) > 20:
            raise invalid_parameter("SecretIdList can contain at most 20 secret ids.")
        if p.get("MaxResults") or p.get("NextToken"):
            raise invalid_parameter("MaxResults and NextToken apply only with Filters.")
        found, errors = [], []
        for secret_id in ids:
            try:
                found.append(read(ctx, find(ctx, secret_id), None, None))
            except AwsError as exc:
                errors.append({"SecretId": secret_id, "ErrorCode": exc.code, "Message": exc.message})
        return {"SecretValues": found, "Errors": errors}
    records = _select(ctx, p, False)
    page, token = _page(ctx, p, records, _order_key("created-date", True), 20)
    found, errors = [], []
    for record in page:
        try:
            found.append(read(ctx, record, None, None))
        except AwsError as exc:
            errors.append({"SecretId": record["ARN"], "ErrorCode": exc.code, "Message": exc.message})
    out = {"SecretValues": found, "Errors": errors}
    if token:
        out["NextToken"] = token
    return out
