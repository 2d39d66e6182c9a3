"""SNS's operations; the gateway finds each by its snake_case name."""

from .data_protection import get_data_protection_policy, put_data_protection_policy  # noqa: F401
from .platform import (  # noqa: F401
    create_platform_application, create_platform_endpoint, delete_endpoint, delete_platform_application,
    get_endpoint_attributes, get_platform_application_attributes, list_endpoints_by_platform_application,
    list_platform_applications, set_endpoint_attributes, set_platform_application_attributes,
)
from .publish import publish, publish_batch  # noqa: F401
from .sms import (  # noqa: F401
    check_if_phone_number_is_opted_out, create_sms_sandbox_phone_number, delete_sms_sandbox_phone_number,
    get_sms_attributes, get_sms_sandbox_account_status, list_origination_numbers, list_phone_numbers_opted_out,
    list_sms_sandbox_phone_numbers, opt_in_phone_number, set_sms_attributes, verify_sms_sandbox_phone_number,
)
from .subscriptions import (  # noqa: F401
    confirm_subscription, get_subscription_attributes, list_subscriptions, list_subscriptions_by_topic,
    set_subscription_attributes, subscribe, unsubscribe,
)
from .topics import (  # noqa: F401
    add_permission, create_topic, delete_topic, get_topic_attributes, list_tags_for_resource, list_topics,
    remove_permission, set_topic_attributes, tag_resource, untag_resource,
)
