"""Classic Load Balancer operations (botocore service ``elb``, API version 2012-06-01).

Operations without a handler here answer 501 NotImplemented: DescribeLoadBalancerPolicyTypes and
SetLoadBalancerPoliciesForBackendServer (see docs/elb-classic.md).
"""

from .attributes import (  # noqa: F401
    describe_account_limits, describe_load_balancer_attributes, modify_load_balancer_attributes,
)
from .instances import (  # noqa: F401
    configure_health_check, deregister_instances_from_load_balancer, describe_instance_health,
    register_instances_with_load_balancer,
)
from .listeners import (  # noqa: F401
    create_load_balancer_listeners, delete_load_balancer_listeners, set_load_balancer_listener_ssl_certificate,
)
from .loadbalancers import (  # noqa: F401
    apply_security_groups_to_load_balancer, attach_load_balancer_to_subnets, create_load_balancer,
    delete_load_balancer, describe_load_balancers, detach_load_balancer_from_subnets,
    disable_availability_zones_for_load_balancer, enable_availability_zones_for_load_balancer,
)
from .policies import (  # noqa: F401
    create_app_cookie_stickiness_policy, create_lb_cookie_stickiness_policy, create_load_balancer_policy,
    delete_load_balancer_policy, describe_load_balancer_policies, set_load_balancer_policies_of_listener,
)
from .tags import add_tags, describe_tags, remove_tags  # noqa: F401
