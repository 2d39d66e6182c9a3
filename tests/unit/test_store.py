"""Durable desired state: commits, rollbacks, reloads."""

import pytest

from kumo.core.store import Store


def test_put_get_persists_across_reopen(tmp_path):
    path = str(tmp_path / "s.db")
    store = Store(path)
    t = store.table("123/us-east-1", "svc.thing")
    with store.transaction():
        t.put("a", {"n": 1, "blob": b"\x00\x01"})
        t.put("b", {"n": 2})
    store.close()
    again = Store(path)
    t2 = again.table("123/us-east-1", "svc.thing")
    assert t2.get("a") == {"n": 1, "blob": b"\x00\x01"}
    assert t2.keys() == ["a", "b"]
    again.close()


def test_failed_transaction_rolls_back_memory_and_disk(tmp_path):
    store = Store(str(tmp_path / "s.db"))
    t = store.table("s", "k")
    t.put("keep", {"v": 1})
    with pytest.raises(RuntimeError):
        with store.transaction():
            t.put("keep", {"v": 2})
            t.put("new", {"v": 3})
            t.delete("keep")
            raise RuntimeError("boom")
    assert t.get("keep") == {"v": 1}
    assert "new" not in t
    store.reload_all()
    assert store.table("s", "k").get("keep") == {"v": 1}


def test_reload_all_undoes_in_place_mutation_without_put():
    store = Store(None)
    t = store.table("s", "k")
    t.put("x", {"v": 1})
    t.get("x")["v"] = 99  # a bug: mutated, never put
    store.reload_all()
    assert store.table("s", "k").get("x") == {"v": 1}


def test_wipe_keeps_named_kinds():
    store = Store(None)
    store.table("", "kumo.clock").put("now", {"now": 5})
    store.table("a", "b").put("x", {})
    store.wipe(keep_kinds=("kumo.clock",))
    assert store.table("a", "b").values() == []
    assert store.table("", "kumo.clock").get("now") == {"now": 5}


def test_unstorable_values_fail_loudly():
    store = Store(None)
    with pytest.raises(TypeError):
        store.table("a", "b").put("x", {"f": object()})
    assert "x" not in store.table("a", "b")


def test_after_commit_hooks_run_once_the_outermost_transaction_commits():
    store = Store()
    ran = []
    with store.transaction():
        with store.transaction():
            store.table("s", "k").put("a", {"v": 1})
            store.after_commit(lambda: ran.append("inner"))
        assert ran == []  # the inner block's end is no commit
        store.after_commit(lambda: ran.append("outer"))
    assert ran == ["inner", "outer"]
    store.after_commit(lambda: ran.append("now"))  # outside a transaction: at once
    assert ran == ["inner", "outer", "now"]
    with store.transaction():
        pass
    assert ran == ["inner", "outer", "now"]  # each hook runs once


def test_after_commit_hooks_are_dropped_when_the_transaction_rolls_back():
    store = Store()
    ran = []
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.table("s", "k").put("a", {"v": 1})
            store.after_commit(lambda: ran.append("rolled back"))
            raise RuntimeError("refused")
    assert ran == [] and store.table("s", "k").get("a") is None
    with store.transaction():
        store.table("s", "k").put("a", {"v": 2})
    assert ran == []  # not carried over into the next transaction
