"""Regions and availability zones as EC2 describes them."""

from __future__ import annotations

from . import regions
from .model import apply_filters, invalid


def describe_availability_zones(ctx, p):
    zones = regions.zones(ctx.region)
    names, ids = p.get("ZoneNames"), p.get("ZoneIds")
    for name in names or []:
        if name not in [z["ZoneName"] for z in zones]:
            raise invalid(f"The zone '{name}' does not exist.")
    if names:
        zones = [z for z in zones if z["ZoneName"] in names]
    if ids:
        zones = [z for z in zones if z["ZoneId"] in ids]
    zones = apply_filters(zones, p, {
        "zone-name": lambda z: z["ZoneName"], "zone-id": lambda z: z["ZoneId"], "state": lambda z: z["State"],
        "region-name": lambda z: z["RegionName"], "zone-type": lambda z: z["ZoneType"],
        "group-name": lambda z: z["GroupName"], "opt-in-status": lambda z: z["OptInStatus"],
    })
    return {"AvailabilityZones": zones}


def describe_regions(ctx, p):
    out = [{"RegionName": r, "Endpoint": regions.endpoint(r), "OptInStatus": "opt-in-not-required"}
           for r in regions.REGIONS]
    if p.get("RegionNames"):
        unknown = [r for r in p["RegionNames"] if not regions.known(r)]
        if unknown:
            raise invalid(f"Invalid region names: {', '.join(unknown)}")
        out = [r for r in out if r["RegionName"] in p["RegionNames"]]
    out = apply_filters(out, p, {"region-name": lambda r: r["RegionName"], "endpoint": lambda r: r["Endpoint"],
                                 "opt-in-status": lambda r: r["OptInStatus"]})
    return {"Regions": out}
