"""ELBv2: Application and Network Load Balancers that really carry traffic."""


def setup(kumo):
    from ...dataplane.lb.control import runtime_of
    from .dataplane import DrainController, Elbv2Provider

    provider = Elbv2Provider(kumo)
    runtime_of(kumo).register(provider)
    kumo.controllers.register(DrainController(kumo))
    from .access_logs import AccessLogController

    kumo.controllers.register(AccessLogController(kumo))
    return provider
