"""Domain names a certificate may be requested for, and the validation records ACM shows for them.

kumo has no public DNS or mailbox to validate against, so a requested
certificate is validated the moment it is requested.  What the caller sees
is still what ACM would have asked for: the CNAME record of DNS validation
(the same record for the same domain in the same account, as in ACM, and
shared by ``example.com`` and ``*.example.com``), the approver addresses of
email validation, or the redirect of HTTP validation.
"""

from __future__ import annotations

import hashlib
import re

from ...aws.errors import AwsError
from .model import pattern_error, validation

_DOMAIN_PATTERN = r"(\*\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])"
_DOMAIN = re.compile(_DOMAIN_PATTERN, re.ASCII)
MAX_FIRST_NAME = 64  # the first name becomes the subject's CN, which X.509 caps at 64 characters
_APPROVERS = ("admin", "administrator", "hostmaster", "postmaster", "webmaster")


def check_names(domain: str, sans: list[str] | None) -> list[str]:
    """Every name of the certificate, the domain first, each once."""
    if not _DOMAIN.fullmatch(domain):
        raise pattern_error(domain, "domainName", _DOMAIN_PATTERN)
    if len(domain) > MAX_FIRST_NAME:
        raise validation(f"The first domain name can't exceed {MAX_FIRST_NAME} characters: '{domain}'.")
    names = [domain]
    for n, name in enumerate(sans or [], 1):
        if not _DOMAIN.fullmatch(name) or len(name) > 253:
            raise pattern_error(name, f"subjectAlternativeNames.{n}.member", _DOMAIN_PATTERN)
        if name.lower() not in (x.lower() for x in names):
            names.append(name)
    return names


def _base(name: str) -> str:
    return name[2:] if name.startswith("*.") else name


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _is_within(name: str, domain: str) -> bool:
    name, domain = _base(name).lower(), domain.lower()
    return name == domain or name.endswith("." + domain)


def validation_options(names: list[str], method: str, requested: list[dict] | None, account: str,
                       region: str) -> list[dict]:
    """DomainValidationOptions of a certificate validated by ``method``, already successful.

    ``requested`` (the request's DomainValidationOptions) chooses validation domains for email;
    other methods have no use for them, but they must still name the certificate's domains.
    """
    domains = {o["DomainName"].lower(): o["ValidationDomain"] for o in requested or []}
    unknown = [d for d in domains if d not in (n.lower() for n in names)]
    if unknown:
        raise AwsError("InvalidDomainValidationOptionsException",
                       f"The domain {unknown[0]} in DomainValidationOptions is not a name of this certificate.")
    out = []
    for name in names:
        option = {"DomainName": name, "ValidationDomain": _base(name), "ValidationStatus": "SUCCESS",
                  "ValidationMethod": method}
        if method == "DNS":
            base = _base(name).lower()
            token = _digest(account, base)
            option["ResourceRecord"] = {
                "Name": f"_{token[:32]}.{base}.",
                "Type": "CNAME",
                "Value": f"_{token[32:]}.{_digest(token)[:10]}.acm-validations.aws.",
            }
        elif method == "EMAIL":
            vdomain = domains.get(name.lower(), _base(name))
            if not _is_within(name, vdomain):
                raise AwsError("InvalidDomainValidationOptionsException",
                               f"The validation domain {vdomain} is not {name} or a superdomain of it.")
            option["ValidationDomain"] = vdomain
            option["ValidationEmails"] = [f"{who}@{vdomain}" for who in _APPROVERS]
        else:  # HTTP, for certificates CloudFront manages
            token = _digest(account, _base(name).lower())[:32]
            option["HttpRedirect"] = {
                "RedirectFrom": f"http://{_base(name)}/.well-known/pki-validation/{token}.txt",
                "RedirectTo": f"https://validation.{region}.acm-validations.aws/{account}"
                              f"/.well-known/pki-validation/{token}.txt",
            }
        out.append(option)
    return out
