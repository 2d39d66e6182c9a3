"""STS: caller identity, working temporary credentials, federation, and the account's outbound OIDC issuer."""


def setup(kumo):
    from ..iam.internal import OUTBOUND_PATH
    from .outbound import routes

    configuration, keys = routes(kumo)
    kumo.route("GET", OUTBOUND_PATH + "{id}/.well-known/openid-configuration", configuration)
    kumo.route("GET", OUTBOUND_PATH + "{id}/.well-known/jwks.json", keys)
