"""SNS's operations; the gateway finds each by its snake_case name."""

from .publish import publish, publish_batch  # noqa: F401
from .subscriptions import (  # noqa: F401
    confirm_subscription, get_subscription_attributes, list_subscriptions, list_subscriptions_by_topic,
    set_subscription_attributes, subscribe, unsubscribe,
)
from .topics import (  # noqa: F401
    add_permission, create_topic, delete_topic, get_topic_attributes, list_tags_for_resource, list_topics,
    remove_permission, set_topic_attributes, tag_resource, untag_resource,
)
