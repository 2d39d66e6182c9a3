"""Classic Load Balancers that really carry traffic, on the data plane ELBv2 uses (see docs/elb-classic.md)."""


def setup(kumo):
    from ...elb.control import runtime_of
    from .dataplane import ClassicProvider, DrainController, classic_endpoint

    provider = ClassicProvider(kumo)
    runtime_of(kumo).register(provider)
    kumo.controllers.register(DrainController(kumo))
    kumo.route("GET", "/_kumo/elb/classic", classic_endpoint(kumo))
    return provider
