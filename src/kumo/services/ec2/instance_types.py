"""A catalogue of real instance types: families R, C, M, I, G, T2 and T3, current generations.

Figures are AWS's published ones (vCPUs, memory, instance storage, GPUs, network
performance, burstable baseline).  Each type becomes an ``InstanceTypeInfo``
as DescribeInstanceTypes returns it.
"""

from __future__ import annotations

from functools import lru_cache

SIZES_X = ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"]
VCPU = {"nano": 2, "micro": 2, "small": 2, "medium": 2, "large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16,
        "8xlarge": 32, "9xlarge": 36, "12xlarge": 48, "16xlarge": 64, "18xlarge": 72, "24xlarge": 96,
        "32xlarge": 128, "48xlarge": 192}

# Network performance of the Nitro general-purpose generations by size.
NET_5 = {"large": "Up to 10 Gigabit", "xlarge": "Up to 10 Gigabit", "2xlarge": "Up to 10 Gigabit",
         "4xlarge": "Up to 10 Gigabit", "8xlarge": "10 Gigabit", "12xlarge": "12 Gigabit", "16xlarge": "20 Gigabit",
         "24xlarge": "25 Gigabit"}
NET_6 = {"large": "Up to 12.5 Gigabit", "xlarge": "Up to 12.5 Gigabit", "2xlarge": "Up to 12.5 Gigabit",
         "4xlarge": "Up to 12.5 Gigabit", "8xlarge": "12.5 Gigabit", "12xlarge": "18.75 Gigabit",
         "16xlarge": "25 Gigabit", "24xlarge": "37.5 Gigabit", "32xlarge": "50 Gigabit", "48xlarge": "50 Gigabit"}

ENIS = {"nano": (2, 2), "micro": (2, 2), "small": (3, 4), "medium": (3, 6), "large": (3, 10), "xlarge": (4, 15),
        "2xlarge": (4, 15), "4xlarge": (8, 30), "8xlarge": (8, 30), "9xlarge": (8, 30), "12xlarge": (8, 30),
        "16xlarge": (15, 50), "18xlarge": (15, 50), "24xlarge": (15, 50), "32xlarge": (15, 50), "48xlarge": (15, 50)}


def _family(name, sizes, mem_per_vcpu, ghz, net, manufacturer="Intel"):
    return {f"{name}.{s}": {"vcpus": VCPU[s], "memory_gib": VCPU[s] * mem_per_vcpu, "ghz": ghz,
                            "network": net[s], "manufacturer": manufacturer} for s in sizes}


def _catalogue() -> dict[str, dict]:
    types: dict[str, dict] = {}
    # T2: one thread per core; baseline is per vCPU, as AWS lists it.
    t2 = [("nano", 1, 0.5, 5), ("micro", 1, 1, 10), ("small", 1, 2, 20), ("medium", 2, 4, 20),
          ("large", 2, 8, 30), ("xlarge", 4, 16, 22.5), ("2xlarge", 8, 32, 17)]
    for size, vcpus, mem, base in t2:
        types[f"t2.{size}"] = {"vcpus": vcpus, "memory_gib": mem, "ghz": 2.3, "threads": 1, "baseline": base,
                               "network": "Moderate" if size in ("xlarge", "2xlarge") else "Low to Moderate",
                               "hypervisor": "xen", "manufacturer": "Intel"}
    t3 = [("nano", 2, 0.5, 5), ("micro", 2, 1, 10), ("small", 2, 2, 20), ("medium", 2, 4, 20),
          ("large", 2, 8, 30), ("xlarge", 4, 16, 40), ("2xlarge", 8, 32, 40)]
    for size, vcpus, mem, base in t3:
        types[f"t3.{size}"] = {"vcpus": vcpus, "memory_gib": mem, "ghz": 2.5, "baseline": base,
                               "network": "Up to 5 Gigabit", "manufacturer": "Intel"}
    # The previous-generation type EC2 launches when a request names none.
    types["m1.small"] = {"vcpus": 1, "memory_gib": 1.7, "ghz": 2.0, "threads": 1, "network": "Low",
                         "hypervisor": "xen", "manufacturer": "Intel", "previous": True}
    types.update(_family("m5", SIZES_X, 4, 3.1, NET_5))
    types.update(_family("m6i", SIZES_X + ["32xlarge"], 4, 3.5, NET_6))
    types.update(_family("m7i", SIZES_X + ["48xlarge"], 4, 3.2, NET_6))
    c5 = ["large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge", "24xlarge"]
    net_c5 = dict(NET_5, **{"9xlarge": "12 Gigabit", "12xlarge": "12 Gigabit", "18xlarge": "25 Gigabit"})
    types.update(_family("c5", c5, 2, 3.4, net_c5))
    types.update(_family("c6i", SIZES_X + ["32xlarge"], 2, 3.5, NET_6))
    types.update(_family("c7i", SIZES_X + ["48xlarge"], 2, 3.2, NET_6))
    types.update(_family("r5", SIZES_X, 8, 3.1, NET_5))
    types.update(_family("r6i", SIZES_X + ["32xlarge"], 8, 3.5, NET_6))
    types.update(_family("r7i", SIZES_X + ["48xlarge"], 8, 3.2, NET_6))
    i3 = [("large", 15.25, 1, 475, "Up to 10 Gigabit"), ("xlarge", 30.5, 1, 950, "Up to 10 Gigabit"),
          ("2xlarge", 61, 1, 1900, "Up to 10 Gigabit"), ("4xlarge", 122, 2, 1900, "Up to 10 Gigabit"),
          ("8xlarge", 244, 4, 1900, "10 Gigabit"), ("16xlarge", 488, 8, 1900, "25 Gigabit")]
    for size, mem, count, disk, net in i3:
        types[f"i3.{size}"] = {"vcpus": VCPU[size], "memory_gib": mem, "ghz": 2.3, "network": net,
                               "disks": (count, disk), "hypervisor": "xen", "manufacturer": "Intel"}
    i4i = [("large", 1, 468, "Up to 10 Gigabit"), ("xlarge", 1, 937, "Up to 10 Gigabit"),
           ("2xlarge", 1, 1875, "Up to 12 Gigabit"), ("4xlarge", 1, 3750, "Up to 25 Gigabit"),
           ("8xlarge", 2, 3750, "18.75 Gigabit"), ("16xlarge", 4, 3750, "37.5 Gigabit"),
           ("32xlarge", 8, 3750, "75 Gigabit")]
    for size, count, disk, net in i4i:
        types[f"i4i.{size}"] = {"vcpus": VCPU[size], "memory_gib": VCPU[size] * 8, "ghz": 3.5, "network": net,
                                "disks": (count, disk), "manufacturer": "Intel"}
    g4dn = [("xlarge", 1, 125, "Up to 25 Gigabit"), ("2xlarge", 1, 225, "Up to 25 Gigabit"),
            ("4xlarge", 1, 225, "Up to 25 Gigabit"), ("8xlarge", 1, 900, "50 Gigabit"),
            ("12xlarge", 4, 900, "50 Gigabit"), ("16xlarge", 1, 900, "50 Gigabit")]
    for size, gpus, disk, net in g4dn:
        types[f"g4dn.{size}"] = {"vcpus": VCPU[size], "memory_gib": VCPU[size] * 4, "ghz": 2.5, "network": net,
                                 "disks": (1, disk), "gpus": (gpus, "T4", "NVIDIA", 16), "manufacturer": "Intel"}
    g5 = [("xlarge", 1, (1, 250), "Up to 10 Gigabit"), ("2xlarge", 1, (1, 450), "Up to 10 Gigabit"),
          ("4xlarge", 1, (1, 600), "Up to 25 Gigabit"), ("8xlarge", 1, (1, 900), "25 Gigabit"),
          ("12xlarge", 4, (1, 3800), "40 Gigabit"), ("16xlarge", 1, (1, 1900), "25 Gigabit"),
          ("24xlarge", 4, (1, 3800), "50 Gigabit"), ("48xlarge", 8, (2, 3800), "100 Gigabit")]
    for size, gpus, disks, net in g5:
        types[f"g5.{size}"] = {"vcpus": VCPU[size], "memory_gib": VCPU[size] * 4, "ghz": 3.3, "network": net,
                               "disks": disks, "gpus": (gpus, "A10G", "NVIDIA", 24), "manufacturer": "AMD"}
    return types


CATALOGUE = _catalogue()
FREE_TIER = {"t2.micro", "t3.micro"}


def exists(name: str) -> bool:
    return name in CATALOGUE


def vcpus(name: str) -> int:
    return CATALOGUE[name]["vcpus"]


def baseline(name: str) -> float | None:
    """Burstable baseline utilisation per vCPU, in percent (None: not burstable)."""
    return CATALOGUE[name].get("baseline")


@lru_cache(maxsize=None)
def info(name: str) -> dict:
    t = CATALOGUE[name]
    size = name.split(".", 1)[1]
    threads = t.get("threads", 2)
    cores = max(1, t["vcpus"] // threads)
    enis, ips = ENIS.get(size, (4, 15))
    out = {
        "InstanceType": name,
        "CurrentGeneration": not t.get("previous"),
        "FreeTierEligible": name in FREE_TIER,
        "SupportedUsageClasses": ["on-demand", "spot"],
        "SupportedRootDeviceTypes": ["ebs"],
        "SupportedVirtualizationTypes": ["hvm"],
        "BareMetal": False,
        "Hypervisor": t.get("hypervisor", "nitro"),
        "ProcessorInfo": {"SupportedArchitectures": ["i386", "x86_64"] if name.startswith("t2.") else ["x86_64"],
                          "SustainedClockSpeedInGhz": t["ghz"], "Manufacturer": t["manufacturer"]},
        "VCpuInfo": {"DefaultVCpus": t["vcpus"], "DefaultCores": cores, "DefaultThreadsPerCore": threads,
                     "ValidCores": list(range(1, cores + 1)), "ValidThreadsPerCore": [1, threads] if threads > 1 else [1]},
        "MemoryInfo": {"SizeInMiB": int(t["memory_gib"] * 1024)},
        "InstanceStorageSupported": "disks" in t,
        "EbsInfo": {"EbsOptimizedSupport": "default" if t.get("hypervisor", "nitro") == "nitro" else "supported",
                    "EncryptionSupport": "supported",
                    "NvmeSupport": "required" if t.get("hypervisor", "nitro") == "nitro" else "unsupported"},
        "NetworkInfo": {"NetworkPerformance": t["network"], "MaximumNetworkInterfaces": enis,
                        "MaximumNetworkCards": 1, "DefaultNetworkCardIndex": 0,
                        "NetworkCards": [{"NetworkCardIndex": 0, "NetworkPerformance": t["network"],
                                          "MaximumNetworkInterfaces": enis}],
                        "Ipv4AddressesPerInterface": ips, "Ipv6AddressesPerInterface": ips,
                        "Ipv6Supported": True, "EnaSupport": "required" if not name.startswith("t2.") else "unsupported",
                        "EfaSupported": False, "EncryptionInTransitSupported": False},
        "PlacementGroupInfo": {"SupportedStrategies": ["partition", "spread"] if name.startswith("t")
                               else ["cluster", "partition", "spread"]},
        "HibernationSupported": True,
        "BurstablePerformanceSupported": "baseline" in t,
        "DedicatedHostsSupported": not name.startswith("t"),
        "AutoRecoverySupported": "disks" not in t,
        "SupportedBootModes": ["legacy-bios", "uefi"],
    }
    if "disks" in t:
        count, size_gb = t["disks"]
        out["InstanceStorageInfo"] = {"TotalSizeInGB": count * size_gb,
                                      "Disks": [{"SizeInGB": size_gb, "Count": count, "Type": "ssd"}],
                                      "NvmeSupport": "required"}
    if "gpus" in t:
        count, model, maker, mem = t["gpus"]
        out["GpuInfo"] = {"Gpus": [{"Name": model, "Manufacturer": maker, "Count": count,
                                    "MemoryInfo": {"SizeInMiB": mem * 1024}}],
                          "TotalGpuMemoryInMiB": count * mem * 1024}
    return out


# -- handlers -------------------------------------------------------------------------------------


def describe_instance_types(ctx, p):
    from ...aws.errors import AwsError
    from .model import apply_filters, page

    names = p.get("InstanceTypes")
    if names:
        unknown = [n for n in names if n not in CATALOGUE]
        if unknown:
            raise AwsError("InvalidInstanceType", f"The following supplied instance types do not exist: "
                                                  f"[{', '.join(unknown)}]")
    infos = [info(n) for n in (names or CATALOGUE)]
    infos = apply_filters(infos, p, {
        "instance-type": lambda i: i["InstanceType"],
        "current-generation": lambda i: "true" if i["CurrentGeneration"] else "false",
        "free-tier-eligible": lambda i: "true" if i["FreeTierEligible"] else "false",
        "burstable-performance-supported": lambda i: "true" if i["BurstablePerformanceSupported"] else "false",
        "vcpu-info.default-vcpus": lambda i: str(i["VCpuInfo"]["DefaultVCpus"]),
        "memory-info.size-in-mib": lambda i: str(i["MemoryInfo"]["SizeInMiB"]),
        "instance-storage-supported": lambda i: "true" if i["InstanceStorageSupported"] else "false",
        "processor-info.supported-architecture": lambda i: i["ProcessorInfo"]["SupportedArchitectures"],
        "network-info.network-performance": lambda i: i["NetworkInfo"]["NetworkPerformance"],
        "hypervisor": lambda i: i["Hypervisor"],
        "bare-metal": lambda i: "true" if i["BareMetal"] else "false",
    }, tags=lambda i: {})
    return page(infos, p, lambda i: i["InstanceType"], "InstanceTypes", "instance-types", min_results=5,
                max_results=100)


def describe_instance_type_offerings(ctx, p):
    from ...aws.errors import AwsError
    from . import regions
    from .model import apply_filters, page

    kind = p.get("LocationType") or "region"
    if kind == "region":
        locations = [ctx.region]
    elif kind == "availability-zone":
        locations = regions.zone_names(ctx.region)
    elif kind == "availability-zone-id":
        locations = [z["ZoneId"] for z in regions.zones(ctx.region)]
    else:
        raise AwsError("InvalidParameterValue", f"Invalid location type: {kind}")
    offers = [{"InstanceType": name, "LocationType": kind, "Location": loc}
              for name in CATALOGUE for loc in locations]
    offers = apply_filters(offers, p, {"instance-type": lambda o: o["InstanceType"],
                                       "location": lambda o: o["Location"]}, tags=lambda o: {})
    return page(offers, p, lambda o: f"{o['InstanceType']}/{o['Location']}", "InstanceTypeOfferings",
                f"offers/{kind}", min_results=5, max_results=1000)
