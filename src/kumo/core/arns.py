"""Amazon Resource Names."""

from __future__ import annotations

from dataclasses import dataclass

PARTITION = "aws"
# Regions outside the commercial partition, by prefix (botocore's endpoints.json; longest prefixes first).
_PARTITIONS = (("us-isob-", "aws-iso-b"), ("us-isof-", "aws-iso-f"), ("eu-isoe-", "aws-iso-e"),
               ("us-iso-", "aws-iso"), ("us-gov-", "aws-us-gov"), ("cn-", "aws-cn"), ("eusc-", "aws-eusc"))


def partition(region: str | None) -> str:
    """The partition a region belongs to (``cn-north-1`` -> ``aws-cn``); ``aws`` for a global (empty) region."""
    for prefix, name in _PARTITIONS:
        if region and region.startswith(prefix):
            return name
    return PARTITION


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def arn(service: str, region: str, account: str, resource: str, partition_name: str | None = None) -> str:
    """An ARN in the region's own partition, unless ``partition_name`` names one (a global service's ARN has
    no region to tell it)."""
    return f"arn:{partition_name or partition(region)}:{service}:{region}:{account}:{resource}"


def parse_arn(text: str) -> Arn | None:
    """Split an ARN into its parts; None if ``text`` is not an ARN."""
    if not isinstance(text, str) or not text.startswith("arn:"):
        return None
    parts = text.split(":", 5)
    if len(parts) != 6 or not parts[1] or not parts[2]:
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])
