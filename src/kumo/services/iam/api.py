"""IAM's operations; the gateway finds each by its snake_case name."""

from .policies import (  # noqa: F401
    create_policy, create_policy_version, delete_policy, delete_policy_version, get_policy, get_policy_version,
    list_entities_for_policy, list_policies, list_policy_tags, list_policy_versions, set_default_policy_version,
    tag_policy, untag_policy,
)
from .profiles import (  # noqa: F401
    add_role_to_instance_profile, create_instance_profile, delete_instance_profile, get_instance_profile,
    list_instance_profile_tags, list_instance_profiles, list_instance_profiles_for_role,
    remove_role_from_instance_profile, tag_instance_profile, untag_instance_profile,
)
from .roles import (  # noqa: F401
    attach_role_policy, create_role, delete_role, delete_role_policy, detach_role_policy, get_role,
    get_role_policy, list_attached_role_policies, list_role_policies, list_role_tags, list_roles, put_role_policy,
    tag_role, untag_role, update_assume_role_policy, put_role_permissions_boundary,
    delete_role_permissions_boundary, update_role, update_role_description,
)
from .users import (  # noqa: F401
    attach_user_policy, create_access_key, create_user, delete_access_key, delete_user, delete_user_policy,
    detach_user_policy, get_access_key_last_used, get_user, get_user_policy, list_access_keys,
    list_attached_user_policies, list_user_policies, list_user_tags, list_users, put_user_policy, tag_user,
    untag_user, update_access_key, update_user, put_user_permissions_boundary,
    delete_user_permissions_boundary,
)
from .simulate import (  # noqa: F401
    get_context_keys_for_custom_policy, get_context_keys_for_principal_policy, simulate_custom_policy,
    simulate_principal_policy,
)
