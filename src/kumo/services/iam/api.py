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
from .groups import (  # noqa: F401
    add_user_to_group, attach_group_policy, create_group, delete_group, delete_group_policy, detach_group_policy,
    get_group, get_group_policy, list_attached_group_policies, list_group_policies, list_groups,
    list_groups_for_user, put_group_policy, remove_user_from_group, update_group,
)
from .providers import (  # noqa: F401
    add_client_id_to_open_id_connect_provider, create_open_id_connect_provider, create_saml_provider,
    delete_open_id_connect_provider, delete_saml_provider, get_open_id_connect_provider, get_saml_provider,
    list_open_id_connect_provider_tags, list_open_id_connect_providers, list_saml_provider_tags,
    list_saml_providers, remove_client_id_from_open_id_connect_provider, tag_open_id_connect_provider,
    tag_saml_provider, untag_open_id_connect_provider, untag_saml_provider,
    update_open_id_connect_provider_thumbprint, update_saml_provider,
)
from .mfa import (  # noqa: F401
    create_virtual_mfa_device, deactivate_mfa_device, delete_virtual_mfa_device, enable_mfa_device, get_mfa_device,
    list_mfa_device_tags, list_mfa_devices, list_virtual_mfa_devices, resync_mfa_device, tag_mfa_device,
    untag_mfa_device,
)
from .service_roles import (  # noqa: F401
    create_service_linked_role, delete_service_linked_role, get_service_linked_role_deletion_status,
)
from .logins import (  # noqa: F401
    change_password, create_login_profile, delete_account_password_policy, delete_login_profile,
    get_account_password_policy, get_login_profile, update_account_password_policy, update_login_profile,
)
from .certificates import (  # noqa: F401
    delete_server_certificate, delete_signing_certificate, delete_ssh_public_key, get_server_certificate,
    get_ssh_public_key, list_server_certificate_tags, list_server_certificates, list_signing_certificates,
    list_ssh_public_keys, tag_server_certificate, untag_server_certificate, update_server_certificate,
    update_signing_certificate, update_ssh_public_key, upload_server_certificate, upload_signing_certificate,
    upload_ssh_public_key,
)
from .account import (  # noqa: F401
    create_account_alias, delete_account_alias, generate_credential_report, get_account_authorization_details,
    get_account_summary, get_credential_report, list_account_aliases,
)
from .service_access import (  # noqa: F401
    create_service_specific_credential, delete_service_specific_credential, list_policies_granting_service_access,
    list_service_specific_credentials, reset_service_specific_credential, set_security_token_service_preferences,
    update_service_specific_credential,
)
from .outbound import (  # noqa: F401
    disable_outbound_web_identity_federation, enable_outbound_web_identity_federation,
    get_outbound_web_identity_federation_info,
)
from .last_accessed import (  # noqa: F401
    generate_service_last_accessed_details, get_service_last_accessed_details,
    get_service_last_accessed_details_with_entities,
)
