"""ACM's operations; the gateway finds each by its snake_case name."""

from .certificates import (  # noqa: F401
    delete_certificate, describe_certificate, export_certificate, get_certificate, list_certificates,
)
from .imported import import_certificate  # noqa: F401
from .issued import request_certificate  # noqa: F401
from .tagging import add_tags_to_certificate, list_tags_for_certificate, remove_tags_from_certificate  # noqa: F401
from .manage import (  # noqa: F401
    get_account_configuration, put_account_configuration, renew_certificate, revoke_certificate,
    update_certificate_options,
)
