"""KMS's records, errors, key lookup and key states.

A key is one record per key id in the ``kms.key`` table of its account and region, shaped like
KMS's KeyMetadata.  Its material lives in internal fields that serializers never send:
``_material`` (symmetric keys: the list of 32-byte AES keys, one per rotation, the newest last) or
``_private`` (asymmetric keys: the PKCS#8 DER private key).  The store is SQLite on the local disk,
so the material survives kill -9 and restarts (not an HSM; see docs/kms.md).  An alias is one record
per alias name in ``kms.alias``.
"""

from __future__ import annotations

import re
import uuid

from ...aws.errors import AwsError
from ...core.arns import arn as make_arn
from ...core.arns import parse_arn

KEY = "kms.key"
ALIAS = "kms.alias"

# The services whose AWS managed key (alias/aws/<service>) kumo creates on first use.
MANAGED_SERVICES = frozenset({
    "acm", "backup", "cloudtrail", "codecommit", "dynamodb", "ebs", "ecr", "elasticfilesystem", "es",
    "glue", "kinesis", "lambda", "logs", "rds", "redshift", "s3", "secretsmanager", "sns", "sqs", "ssm",
})

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MRK = re.compile(r"mrk-[0-9a-f]{32}")


class KmsError(AwsError):
    """An error in KMS's own words (code as on the wire); other services map it to theirs."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(code, message)


def scope(account: str, region: str) -> str:
    return f"{account}/{region}"


def key_arn(account: str, region: str, key_id: str) -> str:
    return make_arn("kms", region, account, f"key/{key_id}")


def alias_arn(account: str, region: str, name: str) -> str:
    return make_arn("kms", region, account, name)


def new_key_id() -> str:
    return str(uuid.uuid4())


# -- errors -------------------------------------------------------------------------------------


def not_found(message: str) -> KmsError:
    return KmsError("NotFoundException", message)


def invalid_state(message: str) -> KmsError:
    return KmsError("KMSInvalidStateException", message)


def validation(message: str) -> KmsError:
    return KmsError("ValidationException", message)


# -- lookup -------------------------------------------------------------------------------------


class Finder:
    """Key and alias lookup for one caller (account, region) over the store."""

    def __init__(self, kumo, account: str, region: str):
        self.kumo, self.account, self.region = kumo, account, region

    def keys(self, account: str | None = None):
        return self.kumo.store.table(scope(account or self.account, self.region), KEY)

    def aliases(self, account: str | None = None):
        return self.kumo.store.table(scope(account or self.account, self.region), ALIAS)

    def key(self, key_id: str, *, aliases: bool = True, other_accounts: bool = True) -> dict:
        """The key record ``key_id`` names: id, key ARN, alias name or alias ARN (when ``aliases``)."""
        if not isinstance(key_id, str) or not key_id:
            raise not_found(f"Invalid keyId '{key_id}'")
        if key_id.startswith("alias/"):
            if not aliases:
                raise not_found(f"Invalid keyId '{key_id}'")
            return self._by_alias(self.account, key_id)
        if key_id.startswith("arn:"):
            parts = parse_arn(key_id)
            if parts is None or parts.service != "kms" or not parts.account:
                raise not_found(f"Invalid arn {key_id}")
            if parts.resource.startswith("alias/"):
                if not aliases:
                    raise not_found(f"Invalid keyId '{key_id}'")
                if parts.region != self.region:
                    raise not_found(f"Alias {key_id} is not found.")
                return self._by_alias(parts.account, parts.resource)
            if not parts.resource.startswith("key/"):
                raise not_found(f"Invalid arn {key_id}")
            if parts.region != self.region or (parts.account != self.account and not other_accounts):
                raise not_found(f"Key '{key_id}' does not exist")
            record = self.keys(parts.account).get(parts.resource[4:])
            if record is None:
                raise not_found(f"Key '{key_id}' does not exist")
            return record
        if not (_UUID.fullmatch(key_id) or _MRK.fullmatch(key_id)):
            raise not_found(f"Invalid keyId '{key_id}'")
        record = self.keys().get(key_id)
        if record is None:
            raise not_found(f"Key '{key_arn(self.account, self.region, key_id)}' does not exist")
        return record

    def _by_alias(self, account: str, name: str) -> dict:
        alias = self.aliases(account).get(name)
        if alias is None and account == self.account and name.startswith("alias/aws/") \
                and name[len("alias/aws/"):] in MANAGED_SERVICES:
            from .managed import create_managed_key
            alias = create_managed_key(self, name)
        if alias is None:
            raise not_found(f"Alias {alias_arn(account, self.region, name)} is not found.")
        record = self.keys(account).get(alias["TargetKeyId"])
        if record is None:
            raise not_found(f"Alias {alias_arn(account, self.region, name)} is not found.")
        return record

    def save(self, record: dict) -> None:
        self.keys(record["AWSAccountId"]).put(record["KeyId"], record)


def finder(ctx) -> Finder:
    return Finder(ctx.kumo, ctx.account, ctx.region)


# -- states -------------------------------------------------------------------------------------


def state_error(record: dict) -> KmsError:
    """KMSInvalidStateException naming the key's state, as KMS words it."""
    state = record["KeyState"]
    words = {"PendingDeletion": "pending deletion", "Disabled": "disabled"}.get(state, state)
    return invalid_state(f"{record['Arn']} is {words}.")


def check_usable(record: dict) -> None:
    """A key used for cryptography must be Enabled."""
    state = record["KeyState"]
    if state == "Enabled":
        return
    if state == "Disabled":
        raise KmsError("DisabledException", f"{record['Arn']} is disabled.")
    raise state_error(record)


def dry_run(p) -> None:
    """Called once every check passed: a dry run stops there, as AWS's does."""
    if p.get("DryRun"):
        raise KmsError("DryRunOperationException", "The request would have succeeded, but the DryRun option is set.")


def check_usage(record: dict, usage: str, operation: str) -> None:
    if record["KeyUsage"] != usage:
        raise KmsError("InvalidKeyUsageException",
                       f"{record['Arn']} key usage is {record['KeyUsage']} which is not valid for {operation}.")


def check_customer_managed(record: dict, operation: str) -> None:
    if record["KeyManager"] == "AWS":
        raise KmsError("UnsupportedOperationException",
                       f"{record['Arn']} is an AWS managed key. You cannot perform {operation} on it.")


def metadata(record: dict) -> dict:
    """KeyMetadata as DescribeKey returns it: the record without its internal fields."""
    return {k: v for k, v in record.items() if not k.startswith("_")}
