"""Secrets Manager's operations; the gateway finds each by its snake_case name."""

from .lifecycle import create_secret, delete_secret, describe_secret, restore_secret, update_secret  # noqa: F401
from .listing import batch_get_secret_value, list_secrets  # noqa: F401
from .password import get_random_password  # noqa: F401
from .policy import (  # noqa: F401
    delete_resource_policy, get_resource_policy, put_resource_policy, validate_resource_policy,
)
from .replication import (  # noqa: F401
    remove_regions_from_replication, replicate_secret_to_regions, stop_replication_to_replica,
)
from .rotation import cancel_rotate_secret, rotate_secret  # noqa: F401
from .tagging import tag_resource, untag_resource  # noqa: F401
from .versions import (  # noqa: F401
    get_secret_value, list_secret_version_ids, put_secret_value, update_secret_version_stage,
)
