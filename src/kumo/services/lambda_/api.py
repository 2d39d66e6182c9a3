"""Lambda's operations; the gateway finds each by its snake_case name.  Operations missing here
(code signing, capacity providers, durable executions, recursion and scaling configs, runtime management,
response streaming) answer 501 NotImplemented."""

from .asyncq import (  # noqa: F401
    delete_function_event_invoke_config, get_function_event_invoke_config, list_function_event_invoke_configs,
    put_function_event_invoke_config, update_function_event_invoke_config,
)
from .concurrency import (  # noqa: F401
    delete_function_concurrency, delete_provisioned_concurrency_config, get_account_settings,
    get_function_concurrency, get_provisioned_concurrency_config, list_provisioned_concurrency_configs,
    put_function_concurrency, put_provisioned_concurrency_config,
)
from .esm import (  # noqa: F401
    create_event_source_mapping, delete_event_source_mapping, get_event_source_mapping, list_event_source_mappings,
    update_event_source_mapping,
)
from .functions import (  # noqa: F401
    create_function, delete_function, get_function, get_function_configuration, list_functions,
    update_function_code, update_function_configuration,
)
from .invoke import invoke, invoke_async  # noqa: F401
from .layers import (  # noqa: F401
    add_layer_version_permission, delete_layer_version, get_layer_version, get_layer_version_by_arn,
    get_layer_version_policy, list_layer_versions, list_layers, publish_layer_version,
    remove_layer_version_permission,
)
from .policy import add_permission, get_policy, remove_permission  # noqa: F401
from .tagging import list_tags, tag_resource, untag_resource  # noqa: F401
from .urls import (  # noqa: F401
    create_function_url_config, delete_function_url_config, get_function_url_config, list_function_url_configs,
    update_function_url_config,
)
from .versions import (  # noqa: F401
    create_alias, delete_alias, get_alias, list_aliases, list_versions_by_function, publish_version, update_alias,
)
