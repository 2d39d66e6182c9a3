"""EC2's operations; the gateway finds each by its snake_case name.

Every EC2 operation takes DryRun: a request that would have succeeded answers
DryRunOperation (412) instead, after the same checks.
"""

from __future__ import annotations

import functools

from ...aws.errors import AwsError
from . import (
    defaults, gateways, images, instance_ops, instance_types, instance_view, instances, interfaces, keypairs,
    launch_templates, route_tables, security_groups, subnets, tagging, vpcs, zones,
)


def _dry_run(fn):
    @functools.wraps(fn)
    def wrapper(ctx, p):
        if p.get("DryRun"):
            raise AwsError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", status=412)
        return fn(ctx, p)
    return wrapper


_HANDLERS = {
    vpcs: ["create_vpc", "describe_vpcs", "delete_vpc", "modify_vpc_attribute", "describe_vpc_attribute"],
    subnets: ["create_subnet", "describe_subnets", "delete_subnet", "modify_subnet_attribute"],
    gateways: ["create_internet_gateway", "attach_internet_gateway", "detach_internet_gateway",
               "delete_internet_gateway", "describe_internet_gateways"],
    route_tables: ["create_route_table", "delete_route_table", "create_route", "replace_route", "delete_route",
                   "associate_route_table", "disassociate_route_table", "replace_route_table_association",
                   "describe_route_tables"],
    zones: ["describe_availability_zones", "describe_regions"],
    defaults: ["describe_account_attributes"],
    security_groups: ["create_security_group", "describe_security_groups", "delete_security_group",
                      "authorize_security_group_ingress", "authorize_security_group_egress",
                      "revoke_security_group_ingress", "revoke_security_group_egress",
                      "describe_security_group_rules", "modify_security_group_rules"],
    keypairs: ["create_key_pair", "import_key_pair", "describe_key_pairs", "delete_key_pair"],
    interfaces: ["create_network_interface", "delete_network_interface", "describe_network_interfaces",
                 "modify_network_interface_attribute"],
    tagging: ["create_tags", "delete_tags", "describe_tags"],
    instance_types: ["describe_instance_types", "describe_instance_type_offerings"],
    images: ["describe_images", "create_image", "register_image", "deregister_image", "describe_snapshots",
             "delete_snapshot", "describe_volumes"],
    launch_templates: ["create_launch_template", "create_launch_template_version", "modify_launch_template",
                       "delete_launch_template", "describe_launch_templates", "describe_launch_template_versions",
                       "delete_launch_template_versions"],
    instances: ["run_instances"],
    instance_view: ["describe_instances"],
    instance_ops: ["start_instances", "stop_instances", "terminate_instances", "reboot_instances",
                   "modify_instance_attribute", "describe_instance_attribute", "modify_instance_metadata_options",
                   "get_console_output", "describe_instance_status", "describe_instance_credit_specifications",
                   "modify_instance_credit_specification"],
}

for _module, _names in _HANDLERS.items():
    for _name in _names:
        globals()[_name] = _dry_run(getattr(_module, _name))
