"""ELBv2's operations (Application and Network Load Balancers)."""

from .extras import (  # noqa: F401
    describe_capacity_reservation, describe_listener_attributes, modify_capacity_reservation,
    modify_listener_attributes,
)
from .listeners import (  # noqa: F401
    add_listener_certificates, create_listener, create_rule, delete_listener, delete_rule, describe_listener_certificates,
    describe_listeners, describe_rules, describe_ssl_policies, modify_listener, modify_rule,
    remove_listener_certificates, set_rule_priorities,
)
from .loadbalancers import (  # noqa: F401
    add_tags, create_load_balancer, delete_load_balancer, describe_load_balancer_attributes, describe_load_balancers,
    describe_tags, modify_load_balancer_attributes, remove_tags, set_ip_address_type, set_security_groups, set_subnets,
)
from .targetgroups import (  # noqa: F401
    create_target_group, delete_target_group, deregister_targets, describe_target_group_attributes,
    describe_target_groups, describe_target_health, modify_target_group, modify_target_group_attributes,
    register_targets,
)


def describe_account_limits(ctx, p):
    limits = {"application-load-balancers": 50, "network-load-balancers": 50, "target-groups": 3000,
              "listeners-per-application-load-balancer": 50, "listeners-per-network-load-balancer": 50,
              "rules-per-application-load-balancer": 100, "targets-per-application-load-balancer": 1000,
              "targets-per-network-load-balancer": 3000, "certificates-per-application-load-balancer": 25,
              "target-groups-per-application-load-balancer": 100, "targets-per-target-group": 1000}
    return {"Limits": [{"Name": k, "Max": str(v)} for k, v in limits.items()]}
