"""EventBridge's operations; the gateway finds each by its snake_case name."""

from .buses import (  # noqa: F401
    create_event_bus, delete_event_bus, describe_event_bus, list_event_buses, list_tags_for_resource,
    tag_resource, untag_resource, update_event_bus,
)
from .routing import put_events, test_event_pattern  # noqa: F401
from .rules import (  # noqa: F401
    delete_rule, describe_rule, disable_rule, enable_rule, list_rule_names_by_target, list_rules,
    list_targets_by_rule, put_rule, put_targets, remove_targets,
)
from .apidestinations import (  # noqa: F401
    create_api_destination, delete_api_destination, describe_api_destination, list_api_destinations,
    update_api_destination,
)
from .archives import create_archive, delete_archive, describe_archive, list_archives, update_archive  # noqa: F401
from .connections import (  # noqa: F401
    create_connection, deauthorize_connection, delete_connection, describe_connection, list_connections,
    update_connection,
)
from .permissions import put_permission, remove_permission  # noqa: F401
from .replays import cancel_replay, describe_replay, list_replays, start_replay  # noqa: F401
from .partners import (  # noqa: F401
    activate_event_source, create_partner_event_source, deactivate_event_source, delete_partner_event_source,
    describe_event_source, describe_partner_event_source, list_event_sources, list_partner_event_source_accounts,
    list_partner_event_sources, put_partner_events,
)
