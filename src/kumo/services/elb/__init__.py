"""Classic Load Balancers that really carry traffic, on the data plane ELBv2 uses (see docs/elb-classic.md)."""


def setup(kumo):
    from ...dataplane.lb.control import runtime_of
    from .dataplane import ClassicProvider, DrainController, classic_endpoint

    provider = ClassicProvider(kumo)
    runtime_of(kumo).register(provider)
    drain = DrainController(kumo)
    kumo.controllers.register(drain)
    from .access_logs import AccessLogController

    kumo.controllers.register(AccessLogController(kumo))
    runtime_of(kumo).drain_watchers.append(drain.wake)
    kumo.route("GET", "/_kumo/dataplane/lb/classic", classic_endpoint(kumo))
    return provider
