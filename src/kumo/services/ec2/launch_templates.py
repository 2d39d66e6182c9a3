"""Launch templates and their versions."""

from __future__ import annotations

import copy

from ...aws.errors import AwsError
from . import image_aliases
from .model import apply_filters, new_id, page, table, tag_specs, well_formed


def _templates(ctx):
    return table(ctx, "lt")


def find_template(ctx, template_id: str | None = None, name: str | None = None) -> dict:
    if template_id:
        if not well_formed(template_id, "lt"):
            raise AwsError("InvalidLaunchTemplateId.Malformed",
                           f"The specified launch template ID '{template_id}' is malformed.")
        lt = _templates(ctx).get(template_id)
        if lt is None:
            raise AwsError("InvalidLaunchTemplateId.NotFound",
                           f"The specified launch template, with template ID {template_id}, does not exist.")
        return lt
    if name:
        for lt in _templates(ctx).values():
            if lt["LaunchTemplateName"] == name:
                return lt
        raise AwsError("InvalidLaunchTemplateName.NotFoundException",
                       f"The specified launch template, with template name {name}, does not exist.")
    raise AwsError("MissingParameter", "The request must contain the parameter launchTemplateName or launchTemplateId")


def _version_number(lt: dict, version: str | int | None) -> int:
    if version in (None, "", "$Default"):
        return lt["DefaultVersionNumber"]
    if version == "$Latest":
        return lt["LatestVersionNumber"]
    try:
        return int(version)
    except (TypeError, ValueError):
        raise AwsError("InvalidParameterValue",
                       f"The version '{version}' is not valid.")


def resolve(ctx, spec: dict) -> tuple[dict, dict]:
    """(template, version) for a LaunchTemplateSpecification (id or name, version or $Default)."""
    lt = find_template(ctx, spec.get("LaunchTemplateId"), spec.get("LaunchTemplateName"))
    number = _version_number(lt, spec.get("Version"))
    for v in lt["_versions"]:
        if v["VersionNumber"] == number:
            return lt, v
    raise AwsError("InvalidLaunchTemplateId.VersionNotFound",
                   f"Could not find launch template version {number} for template {lt['LaunchTemplateId']}.")


def view(lt: dict) -> dict:
    return {k: v for k, v in lt.items() if not k.startswith("_")}


def _version(ctx, lt: dict, number: int, data: dict, description: str | None) -> dict:
    v = {"LaunchTemplateId": lt["LaunchTemplateId"], "LaunchTemplateName": lt["LaunchTemplateName"],
         "VersionNumber": number, "CreateTime": ctx.now(), "CreatedBy": ctx.identity.arn,
         "DefaultVersion": False, "LaunchTemplateData": data}
    if description:
        v["VersionDescription"] = description
    return v


def _check_data(ctx, data: dict) -> dict | None:
    """Refuses what AWS refuses at once; an image that does not resolve is only a warning, as on AWS (the
    launch fails), so the answer's ``Warning`` (a ValidationWarning) names it."""
    from . import instance_types
    from .images import find_image

    if data.get("InstanceType") and not instance_types.exists(data["InstanceType"]):
        raise AwsError("InvalidParameterValue", f"Invalid instance type: {data['InstanceType']}")
    image_id = data.get("ImageId")
    if image_aliases.is_alias(image_id):
        image_aliases.resolve(ctx, image_id, for_template=True)  # AWS checks the parameter at once
    elif image_id:
        try:
            find_image(ctx, image_id)
        except AwsError as exc:
            return {"Errors": [{"Code": exc.code, "Message": exc.message}]}
    return None


def create_launch_template(ctx, p):
    name = p["LaunchTemplateName"]
    if any(lt["LaunchTemplateName"] == name for lt in _templates(ctx).values()):
        raise AwsError("InvalidLaunchTemplateName.AlreadyExistsException",
                       "Launch template name already in use.")
    data = copy.deepcopy(p.get("LaunchTemplateData") or {})
    warning = _check_data(ctx, data)
    lt = {"LaunchTemplateId": new_id("lt"), "LaunchTemplateName": name, "CreateTime": ctx.now(),
          "CreatedBy": ctx.identity.arn, "DefaultVersionNumber": 1, "LatestVersionNumber": 1,
          "Tags": tag_specs(p, "launch-template"), "_versions": []}
    first = _version(ctx, lt, 1, data, p.get("VersionDescription"))
    first["DefaultVersion"] = True
    lt["_versions"].append(first)
    _templates(ctx).put(lt["LaunchTemplateId"], lt)
    return {"LaunchTemplate": view(lt), **({"Warning": warning} if warning else {})}


def create_launch_template_version(ctx, p):
    lt = find_template(ctx, p.get("LaunchTemplateId"), p.get("LaunchTemplateName"))
    data = copy.deepcopy(p.get("LaunchTemplateData") or {})
    if p.get("SourceVersion"):
        _, source = resolve(ctx, {"LaunchTemplateId": lt["LaunchTemplateId"], "Version": p["SourceVersion"]})
        merged = copy.deepcopy(source["LaunchTemplateData"])
        merged.update(data)  # the new version's data overrides the source's, member by member
        data = merged
    warning = _check_data(ctx, data)
    number = lt["LatestVersionNumber"] + 1
    version = _version(ctx, lt, number, data, p.get("VersionDescription"))
    lt["_versions"].append(version)
    lt["LatestVersionNumber"] = number
    _templates(ctx).put(lt["LaunchTemplateId"], lt)
    return {"LaunchTemplateVersion": version, **({"Warning": warning} if warning else {})}


def modify_launch_template(ctx, p):
    lt = find_template(ctx, p.get("LaunchTemplateId"), p.get("LaunchTemplateName"))
    if p.get("DefaultVersion"):
        number = _version_number(lt, p["DefaultVersion"])
        if not any(v["VersionNumber"] == number for v in lt["_versions"]):
            raise AwsError("InvalidLaunchTemplateId.VersionNotFound",
                           f"Could not find launch template version {number} for template {lt['LaunchTemplateId']}.")
        lt["DefaultVersionNumber"] = number
        for v in lt["_versions"]:
            v["DefaultVersion"] = v["VersionNumber"] == number
    _templates(ctx).put(lt["LaunchTemplateId"], lt)
    return {"LaunchTemplate": view(lt)}


def delete_launch_template(ctx, p):
    lt = find_template(ctx, p.get("LaunchTemplateId"), p.get("LaunchTemplateName"))
    _templates(ctx).delete(lt["LaunchTemplateId"])
    return {"LaunchTemplate": view(lt)}


def describe_launch_templates(ctx, p):
    if p.get("LaunchTemplateIds"):
        lts = [find_template(ctx, i) for i in p["LaunchTemplateIds"]]
    elif p.get("LaunchTemplateNames"):
        lts = [find_template(ctx, name=n) for n in p["LaunchTemplateNames"]]
    else:
        lts = _templates(ctx).values()
    lts = apply_filters(lts, p, {"launch-template-name": lambda t: t["LaunchTemplateName"],
                                 "create-time": lambda t: t["CreateTime"]})
    return page([view(t) for t in lts], p, lambda t: t["LaunchTemplateId"], "LaunchTemplates", f"lt/{ctx.account}",
                min_results=1, max_results=200)


def describe_launch_template_versions(ctx, p):
    if not p.get("LaunchTemplateId") and not p.get("LaunchTemplateName"):
        return _latest_or_default_of_all(ctx, p)
    lt = find_template(ctx, p.get("LaunchTemplateId"), p.get("LaunchTemplateName"))
    versions = list(lt["_versions"])
    if p.get("Versions"):
        wanted = {_version_number(lt, v) for v in p["Versions"]}
        found = {v["VersionNumber"] for v in versions}
        missing = wanted - found
        if missing:
            raise AwsError("InvalidLaunchTemplateId.VersionNotFound",
                           f"Could not find launch template version {min(missing)} for template "
                           f"{lt['LaunchTemplateId']}.")
        versions = [v for v in versions if v["VersionNumber"] in wanted]
    if p.get("MinVersion"):
        versions = [v for v in versions if v["VersionNumber"] >= _version_number(lt, p["MinVersion"])]
    if p.get("MaxVersion"):
        versions = [v for v in versions if v["VersionNumber"] <= _version_number(lt, p["MaxVersion"])]
    versions = apply_filters(versions, p, {"is-default-version": lambda v: "true" if v["DefaultVersion"] else "false"})
    versions.sort(key=lambda v: -v["VersionNumber"])
    if p.get("ResolveAlias"):
        versions = [_resolved(ctx, v) for v in versions]
    return page(versions, p, lambda v: f"{v['VersionNumber']:08d}", "LaunchTemplateVersions", lt["LaunchTemplateId"],
                min_results=1, max_results=200)


def _latest_or_default_of_all(ctx, p):
    """Without a template, AWS lists the $Latest and/or $Default version of every template in the account."""
    wanted = set(p.get("Versions") or [])
    if not wanted or wanted - {"$Latest", "$Default"}:
        raise AwsError("MissingParameter", "The request must contain the parameter launchTemplateName or "
                                           "launchTemplateId")
    versions = []
    for lt in _templates(ctx).values():
        numbers = {_version_number(lt, v) for v in wanted}
        versions += [v for v in lt["_versions"] if v["VersionNumber"] in numbers]
    versions = apply_filters(versions, p, {"is-default-version": lambda v: "true" if v["DefaultVersion"] else "false"})
    versions.sort(key=lambda v: (v["LaunchTemplateId"], -v["VersionNumber"]))
    return page(versions, p, lambda v: f"{v['LaunchTemplateId']}/{v['VersionNumber']:08d}", "LaunchTemplateVersions",
                f"lt-versions/{ctx.account}", min_results=1, max_results=200)


def _resolved(ctx, version: dict) -> dict:
    """The version as ResolveAlias shows it: a resolve:ssm: ImageId replaced by the AMI id it names now."""
    image_id = version["LaunchTemplateData"].get("ImageId")
    if not image_aliases.is_alias(image_id):
        return version
    shown = copy.deepcopy(version)
    shown["LaunchTemplateData"]["ImageId"] = image_aliases.resolve(ctx, image_id)
    return shown


def delete_launch_template_versions(ctx, p):
    lt = find_template(ctx, p.get("LaunchTemplateId"), p.get("LaunchTemplateName"))
    deleted, failed = [], []
    for raw in p["Versions"]:
        number = _version_number(lt, raw)
        version = next((v for v in lt["_versions"] if v["VersionNumber"] == number), None)
        if version is None:
            failed.append({"LaunchTemplateId": lt["LaunchTemplateId"], "LaunchTemplateName": lt["LaunchTemplateName"],
                           "VersionNumber": number, "ResponseError": {"Code": "launchTemplateVersionDoesNotExist",
                                                                      "Message": "Version does not exist"}})
        elif version["DefaultVersion"]:
            failed.append({"LaunchTemplateId": lt["LaunchTemplateId"], "LaunchTemplateName": lt["LaunchTemplateName"],
                           "VersionNumber": number, "ResponseError": {"Code": "launchTemplateVersionIsDefault",
                                                                      "Message": "Cannot delete the default version"}})
        else:
            lt["_versions"].remove(version)
            deleted.append({"LaunchTemplateId": lt["LaunchTemplateId"], "LaunchTemplateName": lt["LaunchTemplateName"],
                            "VersionNumber": number})
    _templates(ctx).put(lt["LaunchTemplateId"], lt)
    return {"SuccessfullyDeletedLaunchTemplateVersions": deleted, "UnsuccessfullyDeletedLaunchTemplateVersions": failed}
