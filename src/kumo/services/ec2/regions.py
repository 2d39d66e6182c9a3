"""Regions and Availability Zones, with AWS's names."""

from __future__ import annotations

# region -> (zone letters, zone-id prefix).  Zone ids differ per account on AWS; kumo keeps one mapping.
REGIONS: dict[str, tuple[str, str]] = {
    "us-east-1": ("abcdef", "use1"),
    "us-east-2": ("abc", "use2"),
    "us-west-1": ("bc", "usw1"),
    "us-west-2": ("abcd", "usw2"),
    "ca-central-1": ("abd", "cac1"),
    "sa-east-1": ("abc", "sae1"),
    "eu-west-1": ("abc", "euw1"),
    "eu-west-2": ("abc", "euw2"),
    "eu-west-3": ("abc", "euw3"),
    "eu-central-1": ("abc", "euc1"),
    "eu-north-1": ("abc", "eun1"),
    "ap-south-1": ("abc", "aps1"),
    "ap-northeast-1": ("acd", "apne1"),
    "ap-northeast-2": ("abcd", "apne2"),
    "ap-southeast-1": ("abc", "apse1"),
    "ap-southeast-2": ("abc", "apse2"),
}


def known(region: str) -> bool:
    return region in REGIONS


def zones(region: str) -> list[dict]:
    letters, prefix = REGIONS.get(region, ("abc", region.replace("-", "")[:6]))
    return [
        {
            "ZoneName": f"{region}{letter}",
            "ZoneId": f"{prefix}-az{i}",
            "State": "available",
            "OptInStatus": "opt-in-not-required",
            "Messages": [],
            "RegionName": region,
            "GroupName": region,
            "NetworkBorderGroup": region,
            "ZoneType": "availability-zone",
        }
        for i, letter in enumerate(letters, 1)
    ]


def zone_names(region: str) -> list[str]:
    return [z["ZoneName"] for z in zones(region)]


def zone_id(region: str, zone_name: str) -> str:
    for z in zones(region):
        if z["ZoneName"] == zone_name:
            return z["ZoneId"]
    return ""


def endpoint(region: str) -> str:
    return f"ec2.{region}.amazonaws.com"


def internal_domain(region: str) -> str:
    """The domain of private DNS names: ec2.internal in us-east-1, <region>.compute.internal elsewhere."""
    return "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"


def public_domain(region: str) -> str:
    return "compute-1.amazonaws.com" if region == "us-east-1" else f"{region}.compute.amazonaws.com"
