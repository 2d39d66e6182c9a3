"""Durable desired state.

Records are plain JSON-able dicts, grouped by *scope* (``"<account>/<region>"``,
``"<account>"`` for global services, ``""`` for kumo itself) and *kind*
(``"iam.role"``, ``"ec2.instance"`` ...).  Every record lives in memory for
fast reads and in SQLite (WAL) for durability.

Writes happen inside a transaction (``with store.transaction():``); the
gateway opens one around each request and commits it before the response is
sent, so an acknowledged mutation survives ``kill -9``.  WAL with
``synchronous=NORMAL`` hands every commit to the OS before returning, which is
durable against a crash of the process; only a power loss can lose the last
commits.  ``--ephemeral`` runs the same code on an in-memory database.

If a transaction fails, SQLite rolls back and the in-memory view is put back
from it, so it never keeps a half-applied change.  Callers mutate a record in
place and then ``put`` it, so a failure in between leaves a changed dict that
was never written: a transaction therefore remembers every record it handed
out (``get``) and every table or kind it listed (``values``, ``items``,
``all``), and a rollback compares exactly those with the database, replacing
the ones that differ.  A failed request costs what it touched, never a reload
of the whole store; unchanged records keep their identity.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from typing import Any, Iterator

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    scope TEXT NOT NULL,
    kind  TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (scope, kind, key)
);
"""


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=_default)


def _default(obj: Any) -> Any:
    if isinstance(obj, (bytes, bytearray)):
        import base64

        return {"__bytes__": base64.b64encode(bytes(obj)).decode()}
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not storable")


def _hook(d: dict) -> Any:
    if len(d) == 1 and "__bytes__" in d:
        import base64

        return base64.b64decode(d["__bytes__"])
    return d


def _loads(text: str) -> Any:
    return json.loads(text, object_hook=_hook)


class Table:
    """The records of one kind in one scope; a thin view over the store."""

    __slots__ = ("_store", "scope", "kind", "_rows")

    def __init__(self, store: "Store", scope: str, kind: str, rows: dict):
        self._store = store
        self.scope = scope
        self.kind = kind
        self._rows = rows

    def get(self, key: str, default: Any = None) -> Any:
        value = self._rows.get(key, default)
        if self._store._depth and value is not default:
            # Lent inside a transaction: the caller may change it in place before it puts it.
            self._store._lent.add((self.scope, self.kind, key))
        return value

    def __contains__(self, key: str) -> bool:
        return key in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def keys(self) -> list[str]:
        return list(self._rows)

    def values(self) -> list[Any]:
        if self._store._depth:
            self._store._lent_tables.add((self.scope, self.kind))
        return list(self._rows.values())

    def items(self) -> list[tuple[str, Any]]:
        if self._store._depth:
            self._store._lent_tables.add((self.scope, self.kind))
        return list(self._rows.items())

    def put(self, key: str, value: Any) -> Any:
        self._store._put(self.scope, self.kind, key, value)
        return value

    def delete(self, key: str) -> bool:
        return self._store._delete(self.scope, self.kind, key)

    def clear(self) -> None:
        for key in list(self._rows):
            self.delete(key)


class _Tables(dict):
    """(scope, kind) -> rows, indexed by kind too: ``Store.all(kind)`` and ``scopes(kind)`` visit that kind's
    tables only, not every table of every account (a long-lived kumo holds thousands; clock observers and
    controllers scan a kind on every timer they fire)."""

    def __init__(self) -> None:
        super().__init__()
        self.by_kind: dict[str, dict[str, dict[str, Any]]] = {}

    def __setitem__(self, where: tuple[str, str], rows: dict[str, Any]) -> None:
        super().__setitem__(where, rows)
        self.by_kind.setdefault(where[1], {})[where[0]] = rows

    def setdefault(self, where: tuple[str, str], rows: dict[str, Any]) -> dict[str, Any]:  # type: ignore[override]
        found = self.get(where)
        if found is None:
            self[where] = found = rows
        return found

    def clear(self) -> None:
        super().clear()
        self.by_kind.clear()

    def __delitem__(self, where) -> None:  # pragma: no cover - kept consistent should anyone delete a table
        super().__delitem__(where)
        self.by_kind.get(where[1], {}).pop(where[0], None)


class Store:
    def __init__(self, path: str | None = None):
        """``path`` is a SQLite file; ``None`` keeps everything in memory."""
        self.path = path
        if path is not None:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._db = sqlite3.connect(path or ":memory:", isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._data = _Tables()
        self._depth = 0
        self._in_tx = False
        self._touched: set[tuple[str, str, str]] = set()
        # What the open transaction handed out, to compare with the database if it rolls back.
        self._lent: set[tuple[str, str, str]] = set()
        self._lent_tables: set[tuple[str, str]] = set()
        self._lent_kinds: set[str] = set()
        self._rollback_hooks: list = []
        self._commit_hooks: list = []  # of the open transaction only
        self.commits = 0
        self._load()

    # -- access --------------------------------------------------------------
    def table(self, scope: str, kind: str) -> Table:
        rows = self._data.get((scope, kind))
        if rows is None:
            rows = self._data[(scope, kind)] = {}
        return Table(self, scope, kind, rows)

    def scopes(self, kind: str) -> list[str]:
        return [scope for scope, rows in self._data.by_kind.get(kind, {}).items() if rows]

    def all(self, kind: str) -> Iterator[tuple[str, str, Any]]:
        """Every record of a kind across scopes, as (scope, key, value)."""
        if self._depth:
            self._lent_kinds.add(kind)
        for scope, rows in list(self._data.by_kind.get(kind, {}).items()):
            for key, value in list(rows.items()):
                yield scope, key, value

    # -- a service's own tables -------------------------------------------------
    # Bulk data (metric datapoints, log events) does not fit the record model: too many rows to
    # hold in memory and rewrite as JSON.  A service may keep such data in tables of its own in
    # this same database, so its writes join the request's transaction and commit (or roll back)
    # with it.

    def ensure_schema(self, ddl: str) -> None:
        """Create a service's tables; run outside any transaction (at setup)."""
        with self._lock:
            for statement in ddl.split(";"):
                if statement.strip():
                    self._db.execute(statement)

    def sql(self, statement: str, params: Any = ()) -> sqlite3.Cursor:
        """Run a write on a service's table inside the current (or a new) transaction."""
        with self.transaction():
            self._begin()
            return self._db.execute(statement, params)

    def sql_many(self, statement: str, rows) -> None:
        with self.transaction():
            self._begin()
            self._db.executemany(statement, rows)

    def select(self, statement: str, params: Any = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(statement, params).fetchall()

    def on_rollback(self, hook) -> None:
        """Call ``hook()`` after a rollback, so a service can drop caches of its own tables."""
        self._rollback_hooks.append(hook)

    def after_commit(self, hook) -> None:
        """Call ``hook()`` once the open transaction commits (at once outside one); never if it rolls back.

        For changes outside the store (in-memory runtime state, sockets) that must follow the records.
        """
        if self._depth == 0:
            hook()
        else:
            self._commit_hooks.append(hook)

    def _rolled_back(self) -> None:
        for hook in self._rollback_hooks:
            hook()

    # -- transactions ----------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self):
        with self._lock:
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._rollback()
                raise
            else:
                self._depth -= 1
                if self._depth == 0:
                    self._commit()

    def _begin(self) -> None:
        if not self._in_tx:
            self._db.execute("BEGIN")
            self._in_tx = True

    def _commit(self) -> None:
        if self._in_tx:
            self._db.execute("COMMIT")
            self._in_tx = False
            self.commits += 1
        hooks, self._commit_hooks = self._commit_hooks, []
        self._forget()
        for hook in hooks:
            hook()

    def _forget(self) -> None:
        self._commit_hooks.clear()
        self._touched.clear()
        self._lent.clear()
        self._lent_tables.clear()
        self._lent_kinds.clear()

    def _rollback(self) -> None:
        if self._in_tx:
            self._db.execute("ROLLBACK")
            self._in_tx = False
        keys = self._touched | self._lent
        tables, kinds = set(self._lent_tables), set(self._lent_kinds)
        self._forget()
        db = self._db
        for kind in kinds:
            saved: dict[tuple[str, str], dict[str, str]] = {}
            for scope, key, text in db.execute("SELECT scope, key, value FROM records WHERE kind=?", (kind,)):
                saved.setdefault((scope, kind), {})[key] = text
            for where in {(scope, kind) for scope in self._data.by_kind.get(kind, {})} | set(saved):
                self._restore(where, saved.get(where, {}), None)
        for scope, kind in tables - {(s, k) for s, k in tables if k in kinds}:
            saved = dict(db.execute("SELECT key, value FROM records WHERE scope=? AND kind=?", (scope, kind)))
            self._restore((scope, kind), saved, None)
        for scope, kind, key in keys:
            if kind in kinds or (scope, kind) in tables:
                continue
            row = db.execute("SELECT value FROM records WHERE scope=? AND kind=? AND key=?", (scope, kind, key)).fetchone()
            self._restore((scope, kind), {key: row[0]} if row else {}, (key,))
        self._rolled_back()

    def _restore(self, where: tuple[str, str], saved: dict[str, str], only: tuple[str, ...] | None) -> None:
        """Make the in-memory rows of ``where`` (all, or the keys ``only``) equal what the database holds."""
        rows = self._data.setdefault(where, {})
        for key in only if only is not None else set(rows) | set(saved):
            text = saved.get(key)
            if text is None:
                rows.pop(key, None)
                continue
            current = rows.get(key)
            if current is not None:
                try:
                    if _dumps(current) == text:
                        continue  # untouched: keep the very object others may hold
                except (TypeError, ValueError):
                    pass
            rows[key] = _loads(text)

    def _put(self, scope: str, kind: str, key: str, value: Any) -> None:
        with self.transaction():
            self._begin()
            self._db.execute(
                "INSERT INTO records(scope, kind, key, value) VALUES (?,?,?,?) "
                "ON CONFLICT(scope, kind, key) DO UPDATE SET value=excluded.value",
                (scope, kind, key, _dumps(value)),
            )
            self._touched.add((scope, kind, key))
            self._data.setdefault((scope, kind), {})[key] = value

    def _delete(self, scope: str, kind: str, key: str) -> bool:
        rows = self._data.get((scope, kind))
        if rows is None or key not in rows:
            return False
        with self.transaction():
            self._begin()
            self._db.execute("DELETE FROM records WHERE scope=? AND kind=? AND key=?", (scope, kind, key))
            self._touched.add((scope, kind, key))
            del rows[key]
        return True

    # -- whole-store operations ---------------------------------------------
    def _load(self) -> None:
        self._data.clear()
        for scope, kind, key, value in self._db.execute(
            "SELECT scope, kind, key, value FROM records ORDER BY rowid"
        ):
            self._data.setdefault((scope, kind), {})[key] = _loads(value)

    def reload_all(self) -> None:
        """Drop the in-memory view and read everything back from the database."""
        with self._lock:
            if self._in_tx:
                self._db.execute("ROLLBACK")
                self._in_tx = False
            self._forget()
            self._load()
            self._rolled_back()

    def wipe(self, keep_kinds: tuple[str, ...] = ()) -> None:
        with self.transaction():
            self._begin()
            if keep_kinds:
                marks = ",".join("?" * len(keep_kinds))
                self._db.execute(f"DELETE FROM records WHERE kind NOT IN ({marks})", keep_kinds)
            else:
                self._db.execute("DELETE FROM records")
            for (scope, kind), rows in self._data.items():
                if kind not in keep_kinds:
                    rows.clear()
            self._forget()

    def kind_prefixes(self) -> set[str]:
        """What comes before the first dot of every kind holding records ("ec2" for "ec2.instance")."""
        return {kind.partition(".")[0] for (_scope, kind), rows in self._data.items() if rows}

    def filled_table_prefixes(self) -> set[str]:
        """What comes before the first underscore of every services' table holding rows ("cw" for cw_datum)."""
        with self._lock:
            names = [n for (n,) in self._db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'records'")]
            return {n.partition("_")[0] for n in names
                    if "_" in n and self._db.execute(f'SELECT 1 FROM "{n}" LIMIT 1').fetchone()}

    def count(self) -> int:
        return sum(len(rows) for rows in self._data.values())

    def close(self) -> None:
        with self._lock:
            if self._in_tx:
                self._db.execute("COMMIT")
                self._in_tx = False
            self._db.close()
