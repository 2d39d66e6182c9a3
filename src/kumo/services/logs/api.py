"""CloudWatch Logs' operations; the gateway finds each by its snake_case name."""

from .exports import cancel_export_task, create_export_task, describe_export_tasks  # noqa: F401
from .event_api import filter_log_events, get_log_events, put_log_events  # noqa: F401
from .groups import (  # noqa: F401
    associate_kms_key, create_log_group, delete_log_group, delete_retention_policy, describe_log_groups,
    disassociate_kms_key, list_log_groups, list_tags_for_resource, list_tags_log_group, put_retention_policy,
    tag_log_group, tag_resource, untag_log_group, untag_resource,
)
from .streams import create_log_stream, delete_log_stream, describe_log_streams  # noqa: F401
