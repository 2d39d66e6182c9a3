"""EC2's records and the rules its calls share: ids, lookups, errors, tags, filters, pages.

Records are dicts shaped like EC2's own structures (Vpc, Subnet, Instance ...),
so Describe calls return them as they are; internal fields start with ``_``.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from ...aws.errors import AwsError
from ...core import filters as _filters
from ...core import pagination
from ...core import tags as tagging
from ...core.ids import hex_id

# resource id prefix -> store kind
KINDS = {
    "vpc": "ec2.vpc",
    "subnet": "ec2.subnet",
    "sg": "ec2.security-group",
    "igw": "ec2.internet-gateway",
    "rtb": "ec2.route-table",
    "eni": "ec2.network-interface",
    "ami": "ec2.image",
    "lt": "ec2.launch-template",
    "i": "ec2.instance",
    "vol": "ec2.volume",
    "snap": "ec2.snapshot",
    "key": "ec2.key-pair",
    "acl": "ec2.network-acl",
    "dopt": "ec2.dhcp-options",
}
# EC2's tag "resource-type" for each prefix
RESOURCE_TYPES = {
    "vpc": "vpc", "subnet": "subnet", "sg": "security-group", "igw": "internet-gateway", "rtb": "route-table",
    "eni": "network-interface", "ami": "image", "lt": "launch-template", "i": "instance", "vol": "volume",
    "snap": "snapshot", "key": "key-pair", "acl": "network-acl", "dopt": "dhcp-options",
}
_ID = re.compile(r"^([a-z]+)-([0-9a-f]{8}|[0-9a-f]{17})$")


def new_id(prefix: str) -> str:
    return hex_id(prefix, 17)


def table(ctx, prefix: str):
    return ctx.table(KINDS[prefix].split(".", 1)[1], service="ec2")


def well_formed(resource_id: str, prefix: str) -> bool:
    m = _ID.match(resource_id or "")
    return bool(m) and m.group(1) == prefix


# -- errors in EC2's words ------------------------------------------------------------------

_NOT_FOUND_NAMES = {
    "vpc": ("InvalidVpcID.NotFound", "The vpc ID '{}' does not exist"),
    "subnet": ("InvalidSubnetID.NotFound", "The subnet ID '{}' does not exist"),
    "sg": ("InvalidGroup.NotFound", "The security group '{}' does not exist"),
    "igw": ("InvalidInternetGatewayID.NotFound", "The internetGateway ID '{}' does not exist"),
    "rtb": ("InvalidRouteTableID.NotFound", "The routeTable ID '{}' does not exist"),
    "eni": ("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '{}' does not exist"),
    "ami": ("InvalidAMIID.NotFound", "The image id '[{}]' does not exist"),
    "i": ("InvalidInstanceID.NotFound", "The instance ID '{}' does not exist"),
    "vol": ("InvalidVolume.NotFound", "The volume '{}' does not exist."),
    "snap": ("InvalidSnapshot.NotFound", "The snapshot '{}' does not exist."),
    "lt": ("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID {}, does not exist."),
    "acl": ("InvalidNetworkAclID.NotFound", "The network ACL '{}' does not exist"),
}
_MALFORMED_NAMES = {
    "vpc": "InvalidVpcID.Malformed", "subnet": "InvalidSubnetID.Malformed", "sg": "InvalidGroupId.Malformed",
    "igw": "InvalidInternetGatewayID.Malformed", "rtb": "InvalidRouteTableID.Malformed",
    "eni": "InvalidNetworkInterfaceID.Malformed", "ami": "InvalidAMIID.Malformed",
    "i": "InvalidInstanceID.Malformed", "vol": "InvalidVolumeID.Malformed", "snap": "InvalidSnapshotID.Malformed",
    "lt": "InvalidLaunchTemplateId.Malformed",
}


def not_found(prefix: str, resource_id: str) -> AwsError:
    code, message = _NOT_FOUND_NAMES[prefix]
    return AwsError(code, message.format(resource_id))


def malformed(prefix: str, resource_id: str) -> AwsError:
    return AwsError(_MALFORMED_NAMES.get(prefix, "InvalidID"), f'Invalid id: "{resource_id}"')


def invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterValue", message)


def find(ctx, prefix: str, resource_id: str) -> dict:
    if not well_formed(resource_id, prefix):
        raise malformed(prefix, resource_id)
    record = table(ctx, prefix).get(resource_id)
    if record is None:
        raise not_found(prefix, resource_id)
    return record


def find_many(ctx, prefix: str, ids: list[str] | None) -> list[dict] | None:
    """Records for explicit ids (all must exist, as EC2 insists), or None when no ids were given."""
    if not ids:
        return None
    return [find(ctx, prefix, i) for i in ids]


def save(ctx, prefix: str, record: dict, key_field: str) -> dict:
    return table(ctx, prefix).put(record[key_field], record)


# -- tags ------------------------------------------------------------------------------------


def keyed(tags: list | None, where: str = "Tag") -> list:
    """A request's tags, each with its Key: the model leaves Key optional, EC2 requires it."""
    for i, t in enumerate(tags or [], 1):
        if t.get("Key") is None:
            raise AwsError("MissingParameter", f"The request must contain the parameter {where}.{i}.Key")
    return tags or []


def tag_specs(params: dict, resource_type: str) -> list[dict]:
    """Tags from TagSpecifications for one resource type."""
    tags: dict[str, str] = {}
    for n, spec in enumerate(params.get("TagSpecifications") or [], 1):
        given = keyed(spec.get("Tags"), f"TagSpecification.{n}.Tag")
        if spec.get("ResourceType") in (resource_type, None):
            tags.update(tagging.to_dict(given))
    check_tags(tags)
    return tagging.to_list(tags)


def check_tags(tags: dict[str, str], existing: dict | None = None) -> None:
    try:
        tagging.validate(tags, existing)
    except tagging.TagError as exc:
        code = "TagLimitExceeded" if "exceeds" in str(exc) else "InvalidParameterValue"
        raise AwsError(code, str(exc))


def merge_tags(existing: list | None, new: list | None) -> list[dict]:
    merged = tagging.to_dict(existing)
    added = tagging.to_dict(keyed(new))
    check_tags(added, merged)
    merged.update(added)
    return tagging.to_list(merged)


# -- listing ----------------------------------------------------------------------------------


def apply_filters(records: list, params: dict, accessors: dict[str, Callable[[Any], Any]],
                  tags: Callable[[Any], dict] = _filters.tags_of) -> list:
    try:
        return _filters.apply(records, params.get("Filters"), accessors, tags=tags)
    except _filters.UnknownFilter as exc:
        raise AwsError("InvalidParameterValue", f"The filter '{exc.name}' is invalid")


def page(items: list, params: dict, key: Callable[[Any], str], result_key: str, context: str,
         min_results: int = 5, max_results: int = 1000) -> dict:
    """EC2's MaxResults / NextToken pages (MaxResults cannot be combined with explicit ids)."""
    limit = params.get("MaxResults")
    if limit is not None and not (min_results <= limit <= max_results):
        raise invalid(f"Value ( {limit} ) for parameter maxResults is invalid. "
                      f"Expecting a value greater than {min_results - 1}.")
    try:
        chunk, token = pagination.paginate(items, limit, params.get("NextToken"), key, context,
                                           default_limit=max(len(items), 1) if limit is None else limit)
    except pagination.InvalidToken:
        raise AwsError("InvalidNextToken", "The token provided is invalid.")
    out: dict[str, Any] = {result_key: chunk}
    if token:
        out["NextToken"] = token
    return out


def bool_filter(value: Any) -> str:
    return "true" if value else "false"
