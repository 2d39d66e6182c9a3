"""DescribeParameters and GetParametersByPath: filters (ParameterStringFilter, the older ParametersFilter) and pages."""

from __future__ import annotations

import json

from ...aws.errors import AwsError
from ...core import pagination
from . import model, names, public, secure
from .names import validation

_TYPES = ["String", "StringList", "SecureString"]
_TIERS = ["Standard", "Advanced", "Intelligent-Tiering"]
_DATA_TYPES = ["text", "aws:ec2:image", "aws:ssm:integration"]
_DESCRIBE_KEYS = ("Name", "Type", "KeyId", "Path", "Tier", "DataType")
_BY_PATH_KEYS = ("Type", "KeyId", "Label", "DataType")


def _filter_error(code: str, message: str) -> AwsError:
    return AwsError(code, message)


def _check_filters(filters: list[dict], by_path: bool) -> None:
    seen = set()
    for f in filters:
        key, option, given = f["Key"], f.get("Option"), f.get("Values") or []
        allowed_keys = _BY_PATH_KEYS if by_path else _DESCRIBE_KEYS
        if not key.startswith("tag:") and key not in allowed_keys:
            listed = ", ".join(allowed_keys)
            raise _filter_error("InvalidFilterKey", f"The following filter key is not valid: {key}. Valid filter keys "
                                                    f"include: [{listed}].")
        if key in seen:
            raise _filter_error("InvalidFilterKey", f"The following filter is duplicated in the request: {key}. A "
                                                    f"request can contain only one occurrence of a specific filter.")
        seen.add(key)
        if key == "Path":
            options = ["Recursive", "OneLevel"]
        elif key == "Name":
            options = ["BeginsWith", "Equals", "Contains"]
        elif key in ("Type", "Tier", "DataType", "Label"):
            options = ["Equals"]
        else:
            options = ["BeginsWith", "Equals"]
        if option is not None and option not in options:
            raise _filter_error("InvalidFilterOption", f"The following filter option is not valid: {option}. Valid "
                                                       f"options include: [{', '.join(options)}].")
        if not given and not key.startswith("tag:"):
            raise _filter_error("InvalidFilterValue", f"The following filter values are missing : null for filter "
                                                      f"key {key}.")
        for value, choices in ((v, {"Type": _TYPES, "Tier": _TIERS, "DataType": _DATA_TYPES}.get(key)) for v in given):
            if choices and value not in choices:
                raise _filter_error("InvalidFilterValue", f"The following filter value is not valid: {value}. Valid "
                                                          f"values include: [{', '.join(choices)}].")
        if key == "Path":
            for value in given:
                if names.is_reserved(value):
                    raise validation("Filters for common parameters can't be prefixed with \"aws\" or \"ssm\" "
                                     "(case-insensitive). When using global parameters, please specify within a "
                                     "global namespace.")
                names.check_path(value)


def _slashed(text: str) -> str:
    return "/" + text.lstrip("/")


def _matches(record: dict, version: dict, f: dict) -> bool:
    key, given = f["Key"], f.get("Values") or []
    option = f.get("Option") or ("OneLevel" if key == "Path" else "Equals")
    if key == "Path":
        return any(names.under(_slashed(record["Name"]), names.check_path(v), option == "Recursive") for v in given)
    if key == "Label":
        return bool(set(version.get("Labels") or []) & set(given))
    if key.startswith("tag:"):
        have = [t["Value"] for t in record.get("_tags") or [] if t["Key"] == key[4:]]
        if not have:
            return False
        if not given:
            return True
    elif key == "Name":
        have = [_slashed(record["Name"])]
        given = [v if option == "Contains" else _slashed(v) for v in given]
    elif key == "KeyId":
        have = [version.get("KeyId")] if version.get("KeyId") else []
    elif key == "Tier":
        have = [record["Tier"]]
    elif key == "DataType":
        have = [version.get("DataType") or "text"]
    else:
        have = [version["Type"]]
    if option == "BeginsWith":
        return any(h.startswith(v) for h in have for v in given)
    if option == "Contains":
        return any(v in h for h in have for v in given)
    return any(h == v for h in have for v in given)


def _legacy_matches(record: dict, filters: list[dict]) -> bool:
    version = model.latest(record)
    for f in filters:
        given = f.get("Values") or []
        if f["Key"] == "Name" and not any(record["Name"].startswith(v) for v in given):
            return False
        if f["Key"] == "Type" and version["Type"] not in given:
            return False
        if f["Key"] == "KeyId" and version.get("KeyId") not in given:
            return False
    return True


def _page(items: list, p: dict, default: int, context: list, answer_key: str):
    digest = json.dumps(context, sort_keys=True, default=str)
    try:
        page, token = pagination.paginate(items, p.get("MaxResults"), p.get("NextToken"), lambda i: i["Name"], digest,
                                          default_limit=default)
    except pagination.InvalidToken:
        raise AwsError("InvalidNextToken", "The specified token isn't valid.")
    out = {answer_key: page}
    if token:
        out["NextToken"] = token
    return out


def describe_parameters(ctx, p):
    if p.get("Filters") and p.get("ParameterFilters"):
        raise validation("You can use either Filters or ParameterFilters in a single request.")
    filters = p.get("ParameterFilters") or []
    _check_filters(filters, by_path=False)
    if p.get("Shared"):
        records = []  # parameters other accounts share through AWS RAM: kumo has no sharing
    else:
        records = model.table(ctx).values()
    records = [r for r in records if _legacy_matches(r, p.get("Filters") or [])
               and all(_matches(r, model.latest(r), f) for f in filters)]
    records.sort(key=lambda r: r["Name"])
    items = [model.metadata_view(r) for r in records]
    return _page(items, p, 50, [ctx.account, ctx.region, p.get("Filters"), filters, p.get("Shared")],
                 "Parameters")


def get_parameters_by_path(ctx, p):
    path = names.check_path(p["Path"])
    recursive = bool(p.get("Recursive"))
    filters = p.get("ParameterFilters") or []
    _check_filters(filters, by_path=True)
    if names.is_public(path + "/"):
        records = public.under(ctx.region, path, recursive)
    else:
        records = [r for r in model.table(ctx).values() if names.under(r["Name"], path, recursive)]
    label = next((f for f in filters if f["Key"] == "Label"), None)
    chosen = []
    for record in sorted(records, key=lambda r: r["Name"]):
        if label is not None:
            version = next((v for v in reversed(record["_versions"])
                            if set(v.get("Labels") or []) & set(label.get("Values") or [])), None)
        else:
            version = model.latest(record)
        if version is not None and all(_matches(record, version, f) for f in filters):
            chosen.append((record, version))
    context = [ctx.account, ctx.region, path, recursive, filters, bool(p.get("WithDecryption"))]
    out = _page([{"Name": r["Name"], "_pair": (r, v)} for r, v in chosen], p, 10, context, "Parameters")
    decrypt = bool(p.get("WithDecryption"))
    answers = []
    for item in out["Parameters"]:
        record, version = item["_pair"]
        value = secure.decrypt(ctx, version["Value"], record["ARN"]) \
            if decrypt and version["Type"] == "SecureString" else None
        answers.append(model.parameter_view(record, version, value=value))
    out["Parameters"] = answers
    return out
