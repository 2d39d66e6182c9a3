"""Auto Scaling's operations (the gateway finds each by its snake_case name).

Warm pools, predictive scaling forecasts and LaunchInstances have no handler
here, so they answer NotImplemented in Auto Scaling's own error shape.
"""

from .activities import describe_scaling_activities  # noqa: F401
from .attachments import (  # noqa: F401
    attach_load_balancer_target_groups, attach_load_balancers, attach_traffic_sources,
    describe_load_balancer_target_groups, describe_load_balancers, describe_traffic_sources,
    detach_load_balancer_target_groups, detach_load_balancers, detach_traffic_sources,
)
from .catalogues import (  # noqa: F401
    describe_account_limits, describe_adjustment_types, describe_termination_policy_types,
)
from .groups import (  # noqa: F401
    create_auto_scaling_group, delete_auto_scaling_group, describe_auto_scaling_groups, set_desired_capacity,
    update_auto_scaling_group,
)
from .hooks import (  # noqa: F401
    complete_lifecycle_action, delete_lifecycle_hook, describe_lifecycle_hook_types, describe_lifecycle_hooks,
    put_lifecycle_hook, record_lifecycle_action_heartbeat,
)
from .launch_configs import (  # noqa: F401
    create_launch_configuration, delete_launch_configuration, describe_launch_configurations,
)
from .members import (  # noqa: F401
    attach_instances, describe_auto_scaling_instances, detach_instances, enter_standby, exit_standby,
    set_instance_health, set_instance_protection, terminate_instance_in_auto_scaling_group,
)
from .notifications import (  # noqa: F401
    delete_notification_configuration, describe_auto_scaling_notification_types,
    describe_notification_configurations, put_notification_configuration,
)
from .processes import (  # noqa: F401
    describe_metric_collection_types, describe_scaling_process_types, disable_metrics_collection,
    enable_metrics_collection, resume_processes, suspend_processes,
)
from .policies import delete_policy, describe_policies, execute_policy, put_scaling_policy  # noqa: F401
from .refresh import (  # noqa: F401
    cancel_instance_refresh, describe_instance_refreshes, rollback_instance_refresh, start_instance_refresh,
)
from .schedules import (  # noqa: F401
    batch_delete_scheduled_action, batch_put_scheduled_update_group_action, delete_scheduled_action,
    describe_scheduled_actions, put_scheduled_update_group_action,
)
from .tags import create_or_update_tags, delete_tags, describe_tags  # noqa: F401
