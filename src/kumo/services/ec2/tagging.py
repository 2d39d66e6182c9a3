"""CreateTags, DeleteTags and DescribeTags over every taggable EC2 resource."""

from __future__ import annotations

from ...aws.errors import AwsError
from ...core import tags as core_tags
from .images import BUILTIN
from .model import KINDS, RESOURCE_TYPES, _ID, apply_filters, keyed, merge_tags, table

_ID_FIELDS = {"vpc": "VpcId", "subnet": "SubnetId", "sg": "GroupId", "igw": "InternetGatewayId",
              "rtb": "RouteTableId", "eni": "NetworkInterfaceId", "ami": "ImageId", "lt": "LaunchTemplateId",
              "i": "InstanceId", "vol": "VolumeId", "snap": "SnapshotId", "key": "KeyPairId"}


def _tag_field(prefix: str) -> str:
    return "TagSet" if prefix == "eni" else "Tags"


def _resource(ctx, resource_id: str) -> tuple[str, dict]:
    m = _ID.match(resource_id or "")
    prefix = m.group(1) if m else (resource_id or "").split("-", 1)[0]
    if not m or prefix not in KINDS:
        raise AwsError("InvalidID", f"The ID '{resource_id}' is not valid")
    if prefix == "ami" and resource_id in BUILTIN:
        raise AwsError("AuthFailure", f"Not authorized for image:{resource_id}", status=403)
    record = table(ctx, prefix).get(resource_id)
    if record is None:
        from .model import not_found

        if prefix in ("key",):
            raise AwsError("InvalidKeyPairId.NotFound", f"The key pair '{resource_id}' does not exist")
        raise not_found(prefix, resource_id)
    return prefix, record


def create_tags(ctx, p):
    found = [_resource(ctx, r) for r in p["Resources"]]
    for prefix, record in found:
        field = _tag_field(prefix)
        record[field] = merge_tags(record.get(field), p.get("Tags"))
        table(ctx, prefix).put(record[_ID_FIELDS[prefix]], record)
    return {}


def delete_tags(ctx, p):
    found = [_resource(ctx, r) for r in p["Resources"]]
    for prefix, record in found:
        field = _tag_field(prefix)
        doomed = p.get("Tags")
        if doomed is None:  # no tags named: all of them go
            record[field] = []
        else:
            kept = core_tags.to_dict(record.get(field))
            for t in keyed(doomed):
                if t["Key"] in kept and ("Value" not in t or t.get("Value") is None or kept[t["Key"]] == t["Value"]):
                    del kept[t["Key"]]
            record[field] = core_tags.to_list(kept)
        table(ctx, prefix).put(record[_ID_FIELDS[prefix]], record)
    return {}


def describe_tags(ctx, p):
    rows = []
    for prefix, field in _ID_FIELDS.items():
        for record in table(ctx, prefix).values():
            for t in record.get(_tag_field(prefix)) or []:
                rows.append({"ResourceId": record[field], "ResourceType": RESOURCE_TYPES[prefix], "Key": t["Key"],
                             "Value": t.get("Value", "")})
    rows = apply_filters(rows, p, {"resource-id": lambda r: r["ResourceId"], "resource-type": lambda r: r["ResourceType"],
                                   "key": lambda r: r["Key"], "value": lambda r: r["Value"],
                                   "tag-key": lambda r: r["Key"], "tag-value": lambda r: r["Value"]},
                         tags=lambda r: {r["Key"]: r["Value"]})
    from .model import page

    return page(rows, p, lambda r: f"{r['ResourceId']}/{r['Key']}", "Tags", f"tags/{ctx.account}")
