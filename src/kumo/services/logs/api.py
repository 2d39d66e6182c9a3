"""CloudWatch Logs' operations; the gateway finds each by its snake_case name."""

from .exports import cancel_export_task, create_export_task, describe_export_tasks  # noqa: F401
from .event_api import filter_log_events, get_log_events, put_log_events  # noqa: F401
from .groups import (  # noqa: F401
    associate_kms_key, create_log_group, delete_log_group, delete_retention_policy, describe_log_groups,
    disassociate_kms_key, list_log_groups, list_tags_for_resource, list_tags_log_group, put_retention_policy,
    tag_log_group, tag_resource, untag_log_group, untag_resource,
)
from .streams import create_log_stream, delete_log_stream, describe_log_streams  # noqa: F401
from .destinations import (  # noqa: F401
    delete_destination, describe_destinations, put_destination, put_destination_policy,
)
from .metric_filters import (  # noqa: F401
    delete_metric_filter, describe_metric_filters, put_metric_filter, test_metric_filter,
)
from .policies import (  # noqa: F401
    delete_data_protection_policy, delete_index_policy, delete_resource_policy, describe_field_indexes,
    describe_index_policies, describe_resource_policies, get_data_protection_policy, put_data_protection_policy,
    put_index_policy, put_log_group_deletion_protection, put_resource_policy,
)
from .subscriptions import (  # noqa: F401
    delete_subscription_filter, describe_subscription_filters, put_subscription_filter,
)
from .insights_api import (  # noqa: F401
    delete_query_definition, describe_queries, describe_query_definitions, get_log_group_fields, get_log_record,
    get_query_results, put_query_definition, start_query, stop_query,
)
from .policies import delete_account_policy, describe_account_policies, put_account_policy  # noqa: F401
