"""Security groups and their rules (stored; kumo's loopback network does not filter traffic yet)."""

from __future__ import annotations

import ipaddress

from ...aws.errors import AwsError
from .model import apply_filters, find, find_many, invalid, new_id, page, table, tag_specs

_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1", "-1": "-1"}


def _sg_record(ctx, vpc_id: str, name: str, description: str, tags: list) -> dict:
    group_id = new_id("sg")
    return {
        "GroupId": group_id,
        "GroupName": name,
        "Description": description,
        "VpcId": vpc_id,
        "OwnerId": ctx.account,
        "SecurityGroupArn": ctx.arn(f"security-group/{group_id}", service="ec2"),
        "Tags": tags,
        "_rules": [],
    }


def _rule(group: dict, egress: bool, protocol: str, from_port, to_port, **target) -> dict:
    rule = {"SecurityGroupRuleId": new_id("sgr"), "GroupId": group["GroupId"], "GroupOwnerId": group["OwnerId"],
            "IsEgress": egress, "IpProtocol": protocol, "Tags": []}
    if protocol != "-1":
        rule["FromPort"], rule["ToPort"] = from_port, to_port
    else:
        rule["FromPort"], rule["ToPort"] = -1, -1
    rule.update({k: v for k, v in target.items() if v is not None})
    for key, version in (("CidrIpv4", 4), ("CidrIpv6", 6)):
        if key in rule:
            _check_cidr(rule[key], version)
    return rule


def _check_cidr(cidr, version: int) -> None:
    try:
        ok = ipaddress.ip_network(str(cidr), strict=False).version == version
    except ValueError:
        ok = False
    if not ok:
        raise AwsError("InvalidParameterValue", f"CIDR block {cidr} is malformed")


def create_default_group(ctx, vpc_id: str) -> dict:
    group = _sg_record(ctx, vpc_id, "default", "default VPC security group", [])
    group["_rules"] = [
        _rule(group, False, "-1", None, None,
              ReferencedGroupInfo={"GroupId": group["GroupId"], "UserId": ctx.account}),
        _rule(group, True, "-1", None, None, CidrIpv4="0.0.0.0/0"),
    ]
    table(ctx, "sg").put(group["GroupId"], group)
    return group


def create_security_group(ctx, p):
    from .defaults import default_vpc

    vpc_id = p.get("VpcId") or (default_vpc(ctx) or {}).get("VpcId")
    if not vpc_id:
        raise AwsError("VPCIdNotSpecified", "No default VPC for this user")
    find(ctx, "vpc", vpc_id)
    name = p["GroupName"]
    if name == "default":
        raise AwsError("InvalidGroup.Reserved", "The security group 'default' is reserved")
    if name.lower().startswith("sg-"):
        raise invalid("Group names may not be in the format sg-*.")
    if any(g["GroupName"] == name and g["VpcId"] == vpc_id for g in table(ctx, "sg").values()):
        raise AwsError("InvalidGroup.Duplicate", f"The security group '{name}' already exists for VPC '{vpc_id}'")
    group = _sg_record(ctx, vpc_id, name, p["Description"], tag_specs(p, "security-group"))
    group["_rules"].append(_rule(group, True, "-1", None, None, CidrIpv4="0.0.0.0/0"))
    table(ctx, "sg").put(group["GroupId"], group)
    return {"GroupId": group["GroupId"], "Tags": group["Tags"], "SecurityGroupArn": group["SecurityGroupArn"]}


def find_group(ctx, group_id: str | None, group_name: str | None) -> dict:
    if group_id:
        return find(ctx, "sg", group_id)
    from .defaults import default_vpc

    vpc = default_vpc(ctx)
    for g in table(ctx, "sg").values():
        if g["GroupName"] == group_name and vpc and g["VpcId"] == vpc["VpcId"]:
            return g
    raise AwsError("InvalidGroup.NotFound",
                   f"The security group '{group_name}' does not exist in default VPC '{vpc and vpc['VpcId']}'")


def _protocol(value) -> str:
    text = str(value).lower()
    return _PROTOCOLS.get(text, text)


def _rules_from(ctx, group: dict, p: dict, egress: bool) -> list[dict]:
    perms = list(p.get("IpPermissions") or [])
    if p.get("IpProtocol") or p.get("CidrIp") or p.get("SourceSecurityGroupName"):
        simple = {"IpProtocol": p.get("IpProtocol") or "-1", "FromPort": p.get("FromPort"), "ToPort": p.get("ToPort")}
        if p.get("CidrIp"):
            simple["IpRanges"] = [{"CidrIp": p["CidrIp"]}]
        if p.get("SourceSecurityGroupName"):
            src = find_group(ctx, None, p["SourceSecurityGroupName"])
            simple["UserIdGroupPairs"] = [{"GroupId": src["GroupId"]}]
        perms.append(simple)
    rules = []
    for perm in perms:
        proto = _protocol(perm.get("IpProtocol", "-1"))
        if proto in ("tcp", "udp") and (perm.get("FromPort") is None or perm.get("ToPort") is None):
            raise AwsError("InvalidParameterValue", f"Invalid value 'null' for portRange. Must specify both from "
                                                    f"and to ports with TCP/UDP.")
        lo, hi = perm.get("FromPort"), perm.get("ToPort")
        for r in perm.get("IpRanges") or []:
            rules.append(_rule(group, egress, proto, lo, hi, CidrIpv4=r.get("CidrIp"), Description=r.get("Description")))
        for r in perm.get("Ipv6Ranges") or []:
            rules.append(_rule(group, egress, proto, lo, hi, CidrIpv6=r.get("CidrIpv6"),
                               Description=r.get("Description")))
        for r in perm.get("UserIdGroupPairs") or []:
            ref = find_group(ctx, r.get("GroupId"), r.get("GroupName"))
            rules.append(_rule(group, egress, proto, lo, hi, Description=r.get("Description"),
                               ReferencedGroupInfo={"GroupId": ref["GroupId"], "UserId": r.get("UserId") or ctx.account}))
        for r in perm.get("PrefixListIds") or []:
            rules.append(_rule(group, egress, proto, lo, hi, PrefixListId=r.get("PrefixListId"),
                               Description=r.get("Description")))
    if not rules:
        raise AwsError("MissingParameter", "No source or destination was specified for the rule.")
    return rules


def _same(a: dict, b: dict) -> bool:
    keys = ("IsEgress", "IpProtocol", "FromPort", "ToPort", "CidrIpv4", "CidrIpv6", "PrefixListId")
    return all(a.get(k) == b.get(k) for k in keys) and \
        (a.get("ReferencedGroupInfo") or {}).get("GroupId") == (b.get("ReferencedGroupInfo") or {}).get("GroupId")


def _authorize(ctx, p, egress: bool):
    group = find_group(ctx, p.get("GroupId"), p.get("GroupName"))
    new = _rules_from(ctx, group, p, egress)
    for rule in new:
        if any(_same(rule, old) for old in group["_rules"]):
            raise AwsError("InvalidPermission.Duplicate",
                           f"the specified rule \"peer: {rule.get('CidrIpv4') or rule.get('CidrIpv6') or 'sg'}, "
                           f"{rule['IpProtocol'].upper()}, from port: {rule['FromPort']}, to port: {rule['ToPort']}, "
                           f"ALLOW\" already exists")
    group["_rules"].extend(new)
    table(ctx, "sg").put(group["GroupId"], group)
    return {"Return": True, "SecurityGroupRules": [_rule_view(r) for r in new]}


def _revoke(ctx, p, egress: bool):
    group = find_group(ctx, p.get("GroupId"), p.get("GroupName"))
    if p.get("SecurityGroupRuleIds"):
        ids = set(p["SecurityGroupRuleIds"])
        missing = ids - {r["SecurityGroupRuleId"] for r in group["_rules"]}
        if missing:
            raise AwsError("InvalidSecurityGroupRuleId.NotFound",
                           f"The security group rule ID '{sorted(missing)[0]}' does not exist")
        group["_rules"] = [r for r in group["_rules"] if r["SecurityGroupRuleId"] not in ids]
    else:
        for rule in _rules_from(ctx, group, p, egress):
            match = next((old for old in group["_rules"] if _same(rule, old)), None)
            if match is None:
                raise AwsError("InvalidPermission.NotFound",
                               "The specified rule does not exist in this security group.")
            group["_rules"].remove(match)
    table(ctx, "sg").put(group["GroupId"], group)
    return {"Return": True}


def authorize_security_group_ingress(ctx, p):
    return _authorize(ctx, p, False)


def authorize_security_group_egress(ctx, p):
    return _authorize(ctx, p, True)


def revoke_security_group_ingress(ctx, p):
    return _revoke(ctx, p, False)


def revoke_security_group_egress(ctx, p):
    return _revoke(ctx, p, True)


def _permissions(group: dict, egress: bool) -> list[dict]:
    grouped: dict[tuple, dict] = {}
    for r in group["_rules"]:
        if r["IsEgress"] != egress:
            continue
        key = (r["IpProtocol"], r["FromPort"], r["ToPort"])
        perm = grouped.get(key)
        if perm is None:
            perm = {"IpProtocol": r["IpProtocol"], "IpRanges": [], "Ipv6Ranges": [], "UserIdGroupPairs": [],
                    "PrefixListIds": []}
            if r["IpProtocol"] != "-1":
                perm["FromPort"], perm["ToPort"] = r["FromPort"], r["ToPort"]
            grouped[key] = perm
        desc = {"Description": r["Description"]} if r.get("Description") else {}
        if r.get("CidrIpv4"):
            perm["IpRanges"].append({"CidrIp": r["CidrIpv4"], **desc})
        elif r.get("CidrIpv6"):
            perm["Ipv6Ranges"].append({"CidrIpv6": r["CidrIpv6"], **desc})
        elif r.get("ReferencedGroupInfo"):
            perm["UserIdGroupPairs"].append({**r["ReferencedGroupInfo"], **desc})
        elif r.get("PrefixListId"):
            perm["PrefixListIds"].append({"PrefixListId": r["PrefixListId"], **desc})
    return list(grouped.values())


def view(group: dict) -> dict:
    out = {k: v for k, v in group.items() if not k.startswith("_")}
    out["IpPermissions"] = _permissions(group, False)
    out["IpPermissionsEgress"] = _permissions(group, True)
    return out


def _rule_view(rule: dict) -> dict:
    return dict(rule)


SG_FILTERS = {
    "group-id": lambda g: g["GroupId"],
    "group-name": lambda g: g["GroupName"],
    "vpc-id": lambda g: g["VpcId"],
    "description": lambda g: g["Description"],
    "owner-id": lambda g: g["OwnerId"],
    "ip-permission.protocol": lambda g: [r["IpProtocol"] for r in g["_rules"] if not r["IsEgress"]],
    "ip-permission.from-port": lambda g: [r["FromPort"] for r in g["_rules"] if not r["IsEgress"]],
    "ip-permission.to-port": lambda g: [r["ToPort"] for r in g["_rules"] if not r["IsEgress"]],
    "ip-permission.cidr": lambda g: [r.get("CidrIpv4") for r in g["_rules"] if not r["IsEgress"]],
    "egress.ip-permission.cidr": lambda g: [r.get("CidrIpv4") for r in g["_rules"] if r["IsEgress"]],
}


def describe_security_groups(ctx, p):
    from .defaults import ensure_defaults

    ensure_defaults(ctx)
    groups = find_many(ctx, "sg", p.get("GroupIds"))
    if groups is None and p.get("GroupNames"):
        groups = [find_group(ctx, None, name) for name in p["GroupNames"]]
    if groups is None:
        groups = table(ctx, "sg").values()
    groups = apply_filters(groups, p, SG_FILTERS)
    return page([view(g) for g in groups], p, lambda g: g["GroupId"], "SecurityGroups", f"sg/{ctx.account}")


def describe_security_group_rules(ctx, p):
    from .defaults import ensure_defaults

    ensure_defaults(ctx)
    rules = [r for g in table(ctx, "sg").values() for r in g["_rules"]]
    if p.get("SecurityGroupRuleIds"):
        rules = [r for r in rules if r["SecurityGroupRuleId"] in p["SecurityGroupRuleIds"]]
    rules = apply_filters(rules, p, {"group-id": lambda r: r["GroupId"],
                                     "security-group-rule-id": lambda r: r["SecurityGroupRuleId"]})
    return page(rules, p, lambda r: r["SecurityGroupRuleId"], "SecurityGroupRules", f"sgr/{ctx.account}")


def delete_security_group(ctx, p):
    group = find_group(ctx, p.get("GroupId"), p.get("GroupName"))
    if group["GroupName"] == "default":
        raise AwsError("CannotDelete", f"the specified group: \"{group['GroupId']}\" name: \"default\" cannot be "
                                       f"deleted by a user")
    for eni in table(ctx, "eni").values():
        if any(g["GroupId"] == group["GroupId"] for g in eni["Groups"]):
            raise AwsError("DependencyViolation", f"resource {group['GroupId']} has a dependent object")
    for other in table(ctx, "sg").values():
        if other["GroupId"] != group["GroupId"] and any(
                (r.get("ReferencedGroupInfo") or {}).get("GroupId") == group["GroupId"] for r in other["_rules"]):
            raise AwsError("DependencyViolation", f"resource {group['GroupId']} has a dependent object")
    table(ctx, "sg").delete(group["GroupId"])
    return {"Return": True, "GroupId": group["GroupId"]}


def modify_security_group_rules(ctx, p):
    group = find(ctx, "sg", p["GroupId"])
    by_id = {r["SecurityGroupRuleId"]: r for r in group["_rules"]}
    for update in p["SecurityGroupRules"]:
        rule = by_id.get(update["SecurityGroupRuleId"])
        if rule is None:
            raise AwsError("InvalidSecurityGroupRuleId.NotFound",
                           f"The security group rule ID '{update['SecurityGroupRuleId']}' does not exist")
        new = update.get("SecurityGroupRule") or {}
        proto = _protocol(new.get("IpProtocol", rule["IpProtocol"]))
        changed = _rule(group, rule["IsEgress"], proto, new.get("FromPort", rule["FromPort"]),
                        new.get("ToPort", rule["ToPort"]), CidrIpv4=new.get("CidrIpv4"), CidrIpv6=new.get("CidrIpv6"),
                        PrefixListId=new.get("PrefixListId"), Description=new.get("Description"))
        if new.get("ReferencedGroupId"):
            changed["ReferencedGroupInfo"] = {"GroupId": find(ctx, "sg", new["ReferencedGroupId"])["GroupId"],
                                              "UserId": ctx.account}
        changed["SecurityGroupRuleId"] = rule["SecurityGroupRuleId"]
        # By id, not by the record: a rule named twice in one request was already replaced once.
        at = next(i for i, r in enumerate(group["_rules"]) if r["SecurityGroupRuleId"] == rule["SecurityGroupRuleId"])
        group["_rules"][at] = changed
        by_id[rule["SecurityGroupRuleId"]] = changed
    table(ctx, "sg").put(group["GroupId"], group)
    return {"Return": True}
