"""Parameter Store's operations; the gateway finds each by its snake_case name.

Systems Manager's other capabilities (documents, Run Command, Session Manager, inventory ...) have no
handler here, so they answer AWS's NotImplemented shape naming the operation.
"""

from .history import get_parameter_history, label_parameter_version, unlabel_parameter_version  # noqa: F401
from .listing import describe_parameters, get_parameters_by_path  # noqa: F401
from .parameters import (  # noqa: F401
    delete_parameter, delete_parameters, get_parameter, get_parameters, put_parameter,
)
from .tagging import add_tags_to_resource, list_tags_for_resource, remove_tags_from_resource  # noqa: F401
