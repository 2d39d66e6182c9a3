"""PutParameter, GetParameter(s), DeleteParameter(s): the parameter's life, version by version."""

from __future__ import annotations

from ...aws.errors import AwsError
from ...core import tags as core_tags
from . import model, names, policies, secure, values
from .names import validation

MAX_STANDARD_PARAMETERS = 10_000



def _tier(requested: str | None, existing: dict | None, value: str, has_policies: bool) -> str:
    current = existing["Tier"] if existing else None
    tier = requested or current or "Standard"
    if tier == "Intelligent-Tiering":
        # Advanced only when a Standard parameter could not hold it: a large value, or policies.
        big = len(value.encode()) > values.STANDARD_MAX
        tier = "Advanced" if big or has_policies or current == "Advanced" else "Standard"
    if current == "Advanced" and tier == "Standard":
        raise validation("This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the "
                         "advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the "
                         "advanced parameter and recreate it as a standard parameter.")
    return tier


def _check_version_room(record: dict) -> None:
    if len(record["_versions"]) >= model.MAX_VERSIONS and record["_versions"][0].get("Labels"):
        oldest = record["_versions"][0]["Version"]
        raise AwsError("ParameterMaxVersionLimitExceeded",
                       f"You attempted to create a new version of {record['Name']} by calling the PutParameter API "
                       f"with the overwrite flag. Version {oldest}, the oldest version, can't be deleted because it "
                       f"has a label associated with it. Move the label to another version of the parameter, and "
                       f"try again.")


def put_parameter(ctx, p):
    name = names.check_name(p["Name"], ctx.region, ctx.account)
    records = model.table(ctx)
    existing = records.get(name)
    overwrite = bool(p.get("Overwrite"))
    if existing is not None and not overwrite:
        raise AwsError("ParameterAlreadyExists", "The parameter already exists. To overwrite this request value, set "
                                                 "the overwrite option in the request to true.")
    if overwrite and p.get("Tags"):
        raise validation("Invalid request: tags and overwrite can't be used together. To create a parameter with "
                         "tags, please remove overwrite flag. To update tags for an existing parameter, please use "
                         "AddTagsToResource or RemoveTagsFromResource.")
    if ctx.table("pending").get(name) is not None:
        raise AwsError("TooManyUpdates", f"The aws:ec2:image value of {name} is still being validated. Try again "
                                         f"after its validation completes.")
    before = model.latest(existing) if existing else {}
    kind = p.get("Type") or before.get("Type")
    if kind is None:
        raise validation("A parameter type is required when you create a parameter.")
    if existing is not None and p.get("Type") and p["Type"] != existing["Type"]:
        raise AwsError("HierarchyTypeMismatchException",
                       "Parameter Store does not support changing a parameter type in a hierarchy. For example, you "
                       "can't change a parameter from a String type to a SecureString type. You must create a new, "
                       "unique parameter.")
    value = p["Value"]
    if value == "":
        raise validation("1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must "
                         "have length greater than or equal to 1.")
    data_type = p.get("DataType") or before.get("DataType") or "text"
    values.check_data_type(data_type, kind, name)
    if p.get("KeyId") and kind != "SecureString":
        raise validation("KeyId is required for SecureString type parameter only.")
    now = ctx.now()
    if p.get("Policies") is not None:
        new_policies = policies.parse(p["Policies"], now)
    else:
        new_policies = policies.renewed(list(existing.get("_policies") or [])) if existing else []
    tier = _tier(p.get("Tier"), existing, value, bool(new_policies))
    if new_policies and tier != "Advanced":
        raise validation("Parameter policies are supported only for parameters in the advanced-parameter tier. "
                         "Choose the Advanced tier, or remove the policies.")
    values.check_size(value, tier)
    pattern = p["AllowedPattern"] if p.get("AllowedPattern") is not None else before.get("AllowedPattern")
    values.check_pattern(value, pattern)
    if existing is not None:
        _check_version_room(existing)
    elif tier == "Standard":
        standard = sum(1 for r in records.values() if r["Tier"] == "Standard")
        if standard >= MAX_STANDARD_PARAMETERS:
            raise AwsError("ParameterLimitExceeded", "You have exceeded the number of parameters for this AWS "
                                                     "account. Delete one or more parameters and try again.")
    tags = core_tags.to_list(_checked_tags(p.get("Tags"))) if p.get("Tags") else []
    arn = existing["ARN"] if existing else names.arn(ctx.region, ctx.account, name)
    key_id = None
    if kind == "SecureString":
        key_id = p.get("KeyId") or before.get("KeyId") or secure.DEFAULT_KEY
        value = secure.encrypt(ctx, key_id, value, arn, envelope=tier == "Advanced")
    number = (existing["_counter"] if existing else 0) + 1
    version = {"Name": name, "Type": kind, "Value": value, "Version": number, "LastModifiedDate": now,
               "LastModifiedUser": ctx.identity.arn, "Tier": tier, "DataType": data_type, "Labels": [],
               "Policies": model.policies_view(new_policies)}
    description = p["Description"] if p.get("Description") is not None else before.get("Description")
    for key, given in (("KeyId", key_id), ("Description", description), ("AllowedPattern", pattern)):
        if given:
            version[key] = given
    change = {"version": version, "policies": new_policies, "tags": tags, "arn": arn}
    if existing is not None:
        existing["_counter"] = number
        records.put(name, existing)
    if data_type == "aws:ec2:image":
        # AWS validates the image asynchronously: the version number is handed out now, the version becomes
        # visible (or is dropped, with a failure event) once the image has been checked.
        ctx.table("pending").put(name, {**change, "_counter": number, "_operation": "Update" if existing else "Create"})
        ctx.controllers.enqueue("ssm.images", (ctx.scope, name))
    else:
        commit(ctx.kumo, ctx.scope, name, change, "Update" if existing else "Create")
    return {"Version": number, "Tier": tier}


def _checked_tags(given: list[dict]) -> dict[str, str]:
    tags = core_tags.to_dict(given)
    try:
        core_tags.validate(tags)
    except core_tags.TagError as exc:
        raise validation(str(exc))
    return tags


def commit(kumo, scope: str, name: str, change: dict, operation: str) -> dict:
    """Make a checked version the parameter's latest (dropping the oldest past 100), inside a transaction."""
    account, region = scope.split("/", 1)
    records = kumo.store.table(scope, model.KIND)
    record = records.get(name)
    version = change["version"]
    if record is None:
        record = {"Name": name, "ARN": change["arn"], "_versions": [], "_tags": change.get("tags") or [],
                  "_counter": version["Version"]}
    while len(record["_versions"]) >= model.MAX_VERSIONS:
        record["_versions"].pop(0)
    record["_versions"].append(version)
    record["_counter"] = max(record.get("_counter", 0), version["Version"])
    for key in ("Type", "Tier", "DataType", "Version", "LastModifiedDate"):
        record[key] = version[key]
    record["Description"] = version.get("Description")
    record["_policies"] = change["policies"]
    records.put(name, record)
    model.publish_change(kumo, account, region, record, operation)
    if change["policies"]:
        kumo.controllers.enqueue(policies.CONTROLLER, (scope, name))
    return record


def _answer(ctx, record: dict, version: dict, selector, decrypt: bool) -> dict:
    value = None
    if decrypt and version["Type"] == "SecureString":
        value = secure.decrypt(ctx, version["Value"], record["ARN"])
    return model.parameter_view(record, version, selector, value)


def get_parameter(ctx, p):
    record, version, selector = model.resolve(ctx, p["Name"])
    return {"Parameter": _answer(ctx, record, version, selector, bool(p.get("WithDecryption")))}


def get_parameters(ctx, p):
    found, invalid, seen = [], [], set()
    for raw in p["Names"]:
        if raw in seen:
            continue
        seen.add(raw)
        try:
            record, version, selector = model.resolve(ctx, raw)
        except AwsError as exc:
            if exc.code not in ("ParameterNotFound", "ParameterVersionNotFound"):
                raise
            invalid.append(raw)
            continue
        found.append(_answer(ctx, record, version, selector, bool(p.get("WithDecryption"))))
    return {"Parameters": found, "InvalidParameters": invalid}


def _delete(ctx, name: str) -> dict | None:
    records = model.table(ctx)
    record = model.lookup(records, name)
    ctx.table("pending").delete(name)
    if record is None:
        return None
    records.delete(record["Name"])
    model.publish_change(ctx.kumo, ctx.account, ctx.region, record, "Delete")
    return record


def delete_parameter(ctx, p):
    name = p["Name"]
    if names.is_public(name):
        raise names.reserved_error(name)
    if _delete(ctx, name) is None:
        raise model.not_found(f"Parameter {name} not found.")
    return {}


def delete_parameters(ctx, p):
    deleted, invalid = [], []
    for name in p["Names"]:
        if name in deleted or name in invalid:
            continue
        if not names.is_public(name) and _delete(ctx, name) is not None:
            deleted.append(name)
        else:
            invalid.append(name)
    return {"DeletedParameters": deleted, "InvalidParameters": invalid}
