"""SQS's operations; the gateway finds each by its snake_case name."""

from .admin import (  # noqa: F401
    add_permission, create_queue, delete_queue, get_queue_attributes, get_queue_url, list_queue_tags, list_queues,
    purge_queue, remove_permission, set_queue_attributes, tag_queue, untag_queue,
)
from .messages import (  # noqa: F401
    change_message_visibility, change_message_visibility_batch, delete_message, delete_message_batch,
    receive_message, send_message, send_message_batch,
)
from .redrive import (  # noqa: F401
    cancel_message_move_task, list_dead_letter_source_queues, list_message_move_tasks, start_message_move_task,
)
