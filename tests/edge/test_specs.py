"""kumo's routing table agrees with the installed botocore's models."""

import pytest

from kumo.aws import specs


@pytest.mark.parametrize("name", sorted(specs.SERVICES))
def test_routing_facts_match_botocore(name):
    spec = specs.SERVICES[name]
    md = specs.service_model(name).metadata
    assert spec.signing_name == md.get("signingName", md.get("endpointPrefix"))
    if spec.target_prefix or md.get("targetPrefix"):
        protocols = specs.protocols_of(specs.service_model(name))
        if any(p in ("json", "smithy-rpc-v2-cbor") for p in protocols):
            assert spec.target_prefix == md.get("targetPrefix")
    if spec.api_version:
        assert spec.api_version == md["apiVersion"]
