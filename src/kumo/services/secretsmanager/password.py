"""GetRandomPassword: characters drawn from the system's CSPRNG (``secrets``), AWS's defaults and rules."""

from __future__ import annotations

import secrets
import string

from .model import invalid_parameter

# AWS's punctuation set: every printable ASCII character that is neither a letter, a digit nor a space.
PUNCTUATION = string.punctuation
DEFAULT_LENGTH = 32


def get_random_password(ctx, p):
    length = p.get("PasswordLength") or DEFAULT_LENGTH
    excluded = set(p.get("ExcludeCharacters") or "")
    kinds = []
    for flag, chars in (("ExcludeLowercase", string.ascii_lowercase), ("ExcludeUppercase", string.ascii_uppercase),
                        ("ExcludeNumbers", string.digits), ("ExcludePunctuation", PUNCTUATION)):
        if not p.get(flag):
            kinds.append(chars)
    if p.get("IncludeSpace"):
        kinds.append(" ")
    kinds = [allowed for allowed in ("".join(c for c in chars if c not in excluded) for chars in kinds) if allowed]
    if not kinds:
        raise invalid_parameter("The password can't be generated: every character type is excluded.")
    require_each = p.get("RequireEachIncludedType", True)
    if require_each and length < len(kinds):
        raise invalid_parameter(f"The password length {length} is too short to include a character of each of the "
                                f"{len(kinds)} included types.")
    pool = "".join(kinds)
    chosen = [secrets.choice(chars) for chars in kinds] if require_each else []
    chosen += [secrets.choice(pool) for _ in range(length - len(chosen))]
    secrets.SystemRandom().shuffle(chosen)
    return {"RandomPassword": "".join(chosen)}
