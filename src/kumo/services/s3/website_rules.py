"""Static website hosting, the pure part: PutBucketWebsite's checks and the website endpoint's decisions
(index documents, redirects of whole buckets and by routing rule).
"""

from __future__ import annotations

from ...aws.errors import AwsError


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidArgument", message, status=400)


def check(config: dict) -> dict:
    """The WebsiteConfiguration, or AwsError as S3 answers PutBucketWebsite."""
    config = dict(config or {})
    redirect_all = config.get("RedirectAllRequestsTo")
    if redirect_all is not None:
        if any(config.get(k) for k in ("IndexDocument", "ErrorDocument", "RoutingRules")):
            raise _invalid("RedirectAllRequestsTo cannot be provided in conjunction with other Routing/Redirect "
                           "configurations.")
        if not redirect_all.get("HostName"):
            raise _invalid("A host name must be provided.")
        if redirect_all.get("Protocol") not in (None, "http", "https"):
            raise _invalid("Invalid protocol, protocol can be http or https. If not defined the protocol will be "
                           "selected automatically.")
        return config
    suffix = (config.get("IndexDocument") or {}).get("Suffix")
    if not suffix:
        raise _invalid("A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty")
    if "/" in suffix:
        raise _invalid("The IndexDocument Suffix is not well formed")
    if config.get("ErrorDocument") is not None and not config["ErrorDocument"].get("Key"):
        raise _invalid("The ErrorDocument Key is not well formed")
    for rule in config.get("RoutingRules") or []:
        redirect = rule.get("Redirect") or {}
        if redirect.get("ReplaceKeyWith") is not None and redirect.get("ReplaceKeyPrefixWith") is not None:
            raise _invalid("You can only define ReplaceKeyPrefix or ReplaceKey but not both.")
        if redirect.get("Protocol") not in (None, "http", "https"):
            raise _invalid("Invalid protocol, protocol can be http or https. If not defined the protocol will be "
                           "selected automatically.")
        code = redirect.get("HttpRedirectCode")
        if code is not None and not (code.isdigit() and 300 <= int(code) < 400):
            raise _invalid("The provided HTTP redirect code (" + code + ") is not valid. Valid codes are 3XX "
                           "except 300.")
        condition = rule.get("Condition") or {}
        err = condition.get("HttpErrorCodeReturnedEquals")
        if err is not None and not (err.isdigit() and 400 <= int(err) < 600):
            raise _invalid("The provided HTTP error code (" + err + ") is not valid. Valid codes are 4XX or 5XX.")
    return config


def redirect_all(config: dict, scheme: str, path_and_query: str) -> str | None:
    """The Location every request is sent to when the bucket redirects all requests; None otherwise."""
    target = config.get("RedirectAllRequestsTo")
    if not target:
        return None
    return f"{target.get('Protocol') or scheme}://{target['HostName']}{path_and_query}"


def index_key(config: dict, key: str) -> str:
    """The object a request for ``key`` reads: the index document for the root and for 'folders'."""
    if key == "" or key.endswith("/"):
        return key + config["IndexDocument"]["Suffix"]
    return key


def routing_rule(config: dict, key: str, error_code: int | None = None) -> dict | None:
    """The first routing rule whose condition holds: before the lookup (``error_code`` None) only rules without
    an error condition; after a failed lookup only rules whose error code is the one about to be answered."""
    for rule in config.get("RoutingRules") or []:
        condition = rule.get("Condition") or {}
        wanted = condition.get("HttpErrorCodeReturnedEquals")
        if error_code is None and wanted is not None:
            continue
        if error_code is not None and (wanted is None or int(wanted) != error_code):
            continue
        if key.startswith(condition.get("KeyPrefixEquals") or ""):
            return rule
    return None


def rule_location(rule: dict, key: str, scheme: str, host: str) -> tuple[int, str]:
    """(status, Location) of a routing rule's redirect for the requested ``key``."""
    redirect = rule.get("Redirect") or {}
    prefix = (rule.get("Condition") or {}).get("KeyPrefixEquals") or ""
    if redirect.get("ReplaceKeyWith") is not None:
        new_key = redirect["ReplaceKeyWith"]
    elif redirect.get("ReplaceKeyPrefixWith") is not None:
        new_key = redirect["ReplaceKeyPrefixWith"] + key[len(prefix):]
    else:
        new_key = key
    status = int(redirect.get("HttpRedirectCode") or 301)
    return status, f"{redirect.get('Protocol') or scheme}://{redirect.get('HostName') or host}/{new_key}"


def not_found_page(bucket: str, key: str, request_id: str) -> str:
    """S3's own 404 page, for a bucket without an error document."""
    return ("<html>\n<head><title>404 Not Found</title></head>\n<body>\n<h1>404 Not Found</h1>\n<ul>\n"
            "<li>Code: NoSuchKey</li>\n<li>Message: The specified key does not exist.</li>\n"
            f"<li>Key: {_escape(key)}</li>\n<li>RequestId: {request_id}</li>\n</ul>\n<hr/>\n</body>\n</html>\n")


def error_page(status: int, code: str, message: str, request_id: str) -> str:
    return (f"<html>\n<head><title>{status} {_reason(status)}</title></head>\n<body>\n<h1>{status} "
            f"{_reason(status)}</h1>\n<ul>\n<li>Code: {code}</li>\n<li>Message: {_escape(message)}</li>\n"
            f"<li>RequestId: {request_id}</li>\n</ul>\n<hr/>\n</body>\n</html>\n")


def _reason(status: int) -> str:
    return {403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed"}.get(status, "Error")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
