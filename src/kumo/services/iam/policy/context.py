"""The request context a policy's conditions and variables read: keys case-insensitive, values as lists."""

from __future__ import annotations

from typing import Iterable


class Context:
    """Condition keys and their values; every value is a list (single-valued keys hold one)."""

    def __init__(self, values: dict | None = None):
        self._values: dict[str, tuple[str, list[str]]] = {}
        for key, value in (values or {}).items():
            self.set(key, value)

    def set(self, key: str, value) -> None:
        if value is None:
            self._values.pop(key.lower(), None)
            return
        if isinstance(value, (list, tuple, set)):
            items = [_text(v) for v in value]
        else:
            items = [_text(value)]
        self._values[key.lower()] = (key, items)

    def setdefault(self, key: str, value) -> None:
        if key.lower() not in self._values:
            self.set(key, value)

    def get(self, key: str) -> list[str] | None:
        got = self._values.get(key.lower())
        return got[1] if got else None

    def __contains__(self, key: str) -> bool:
        return key.lower() in self._values

    def keys(self) -> Iterable[str]:
        return [k for k, _ in self._values.values()]

    def items(self):
        return list(self._values.values())


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
