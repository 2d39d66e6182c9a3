"""GetParameterHistory, and labels on versions (LabelParameterVersion, UnlabelParameterVersion).

AWS's label rules: at most 10 labels per version; a label names one version of a parameter at a time, so
labelling another version moves it; a label is at most 100 characters of letters, numbers, ``.``, ``-`` and
``_``, and cannot start with a number or with ``aws``/``ssm`` (such labels come back in InvalidLabels).
"""

from __future__ import annotations

import re

from ...aws.errors import AwsError
from ...core import pagination
from . import model, names, public, secure

MAX_LABELS = 10
_LABEL = re.compile(r"^[a-zA-Z0-9_.\-]{1,100}$")


def _record(ctx, name: str) -> dict:
    if names.is_public(name):
        record = public.record(ctx.region, name)
        if record is None:
            raise model.not_found(f"Parameter {name} not found.")
        return record
    return model.find(ctx, name)


def get_parameter_history(ctx, p):
    record = _record(ctx, p["Name"])
    decrypt = bool(p.get("WithDecryption"))
    versions = record["_versions"]
    try:
        page, token = pagination.paginate(versions, p.get("MaxResults"), p.get("NextToken"),
                                          lambda v: f"{v['Version']:020d}", f"{ctx.scope}|{record['Name']}|{decrypt}",
                                          default_limit=50)
    except pagination.InvalidToken:
        raise AwsError("InvalidNextToken", "The specified token isn't valid.")
    out = []
    for v in page:
        value = secure.decrypt(ctx, v["Value"], record["ARN"]) if decrypt and v["Type"] == "SecureString" else None
        out.append(model.history_view(record, v, value))
    answer = {"Parameters": out}
    if token:
        answer["NextToken"] = token
    return answer


def _valid_label(label: str) -> bool:
    lower = label.lower()
    return bool(_LABEL.match(label)) and not label[0].isdigit() and not lower.startswith(("aws", "ssm"))


def _version(record: dict, number: int | None) -> dict:
    if number is None:
        return model.latest(record)
    for v in record["_versions"]:
        if v["Version"] == number:
            return v
    raise AwsError("ParameterVersionNotFound", f"Systems Manager could not find version {number} of "
                                               f"{record['Name']}. Verify the version and try again.")


def _writable(ctx, name: str) -> dict:
    if names.is_public(name):
        raise names.reserved_error(name)
    return model.find(ctx, name)


def label_parameter_version(ctx, p):
    record = _writable(ctx, p["Name"])
    target = _version(record, p.get("ParameterVersion"))
    invalid = [label for label in p["Labels"] if not _valid_label(label)]
    wanted = [label for label in dict.fromkeys(p["Labels"]) if label not in invalid]
    labels = list(target.get("Labels") or [])
    adding = [label for label in wanted if label not in labels]
    if len(labels) + len(adding) > MAX_LABELS:
        raise AwsError("ParameterVersionLabelLimitExceeded", "A parameter version can have maximum 10 labels.Move one "
                                                             "or more labels to another version and try again.")
    if adding:
        for v in record["_versions"]:
            if v is not target and set(v.get("Labels") or []) & set(adding):
                v["Labels"] = [label for label in v["Labels"] if label not in adding]
        target["Labels"] = labels + adding
        model.table(ctx).put(record["Name"], record)
        model.publish_change(ctx.kumo, ctx.account, ctx.region, record, "LabelParameterVersion")
    return {"InvalidLabels": invalid, "ParameterVersion": target["Version"]}


def unlabel_parameter_version(ctx, p):
    record = _writable(ctx, p["Name"])
    target = _version(record, p["ParameterVersion"])
    labels = list(target.get("Labels") or [])
    removed = [label for label in dict.fromkeys(p["Labels"]) if label in labels]
    invalid = [label for label in dict.fromkeys(p["Labels"]) if label not in labels]
    if removed:
        target["Labels"] = [label for label in labels if label not in removed]
        model.table(ctx).put(record["Name"], record)
    return {"RemovedLabels": removed, "InvalidLabels": invalid}
