"""KMS's operations; the gateway finds each by its snake_case name."""

from .aliases import create_alias, delete_alias, list_aliases, update_alias  # noqa: F401
from .asymmetric import get_public_key, sign, verify  # noqa: F401
from .keys import (  # noqa: F401
    cancel_key_deletion, create_key, describe_key, disable_key, enable_key, list_keys, schedule_key_deletion,
    update_key_description,
)
from .policies import get_key_policy, list_key_policies, put_key_policy  # noqa: F401
from .rotation import (  # noqa: F401
    disable_key_rotation, enable_key_rotation, get_key_rotation_status, list_key_rotations, rotate_key_on_demand,
)
from .symmetric import (  # noqa: F401
    decrypt, encrypt, generate_data_key, generate_data_key_without_plaintext, generate_random, re_encrypt,
)
from .tagging import list_resource_tags, tag_resource, untag_resource  # noqa: F401
from .grants import create_grant, list_grants, list_retirable_grants, retire_grant, revoke_grant  # noqa: F401
from .datakeypairs import generate_data_key_pair, generate_data_key_pair_without_plaintext  # noqa: F401
from .mac import generate_mac, verify_mac  # noqa: F401
