"""A failed transaction puts back exactly what it touched, including records changed in place and never put."""

import pytest

from kumo.core.store import Store


class Boom(Exception):
    pass


def fresh(tmp_path=None) -> Store:
    store = Store(str(tmp_path / "s.db") if tmp_path else None)
    t = store.table("acct/us-east-1", "svc.thing")
    with store.transaction():
        for i in range(5):
            t.put(f"k{i}", {"n": i, "tags": [{"Key": "a", "Value": str(i)}]})
    return store


def test_in_place_mutation_of_a_got_record_is_undone(tmp_path):
    store = fresh(tmp_path)
    t = store.table("acct/us-east-1", "svc.thing")
    with pytest.raises(Boom):
        with store.transaction():
            rec = t.get("k1")
            rec["n"] = 99
            rec["tags"].append({"Key": "b", "Value": "x"})  # nested change, never put
            raise Boom()
    assert t.get("k1") == {"n": 1, "tags": [{"Key": "a", "Value": "1"}]}


def test_records_listed_with_values_items_and_all_are_put_back():
    store = fresh()
    t = store.table("acct/us-east-1", "svc.thing")
    other = store.table("acct/eu-west-1", "svc.thing")
    other.put("e0", {"n": 0})
    with pytest.raises(Boom):
        with store.transaction():
            for rec in t.values():
                rec["n"] = -1
            for _key, rec in t.items():
                rec["seen"] = True
            for _scope, _key, rec in store.all("svc.thing"):
                rec["all"] = True
            raise Boom()
    assert [r["n"] for r in t.values()] == [0, 1, 2, 3, 4]
    assert not any("seen" in r or "all" in r for r in t.values())
    assert other.get("e0") == {"n": 0}


def test_puts_and_deletes_of_a_failed_transaction_are_undone(tmp_path):
    store = fresh(tmp_path)
    t = store.table("acct/us-east-1", "svc.thing")
    with pytest.raises(Boom):
        with store.transaction():
            t.put("new", {"n": 100})
            t.delete("k2")
            t.put("k3", {"n": 33})
            raise Boom()
    assert "new" not in t
    assert t.get("k2")["n"] == 2 and t.get("k3")["n"] == 3
    store.close()
    again = Store(str(tmp_path / "s.db"))
    assert sorted(again.table("acct/us-east-1", "svc.thing").keys()) == ["k0", "k1", "k2", "k3", "k4"]
    again.close()


def test_untouched_and_unchanged_records_keep_their_identity():
    store = fresh()
    t = store.table("acct/us-east-1", "svc.thing")
    held_read = t.get("k0")  # read outside: not lent
    held_other = t.get("k4")
    with pytest.raises(Boom):
        with store.transaction():
            assert t.get("k0") is held_read  # lent, unchanged
            t.get("k1")["n"] = 5  # lent, changed
            raise Boom()
    assert t.get("k0") is held_read  # same object: compared equal, not replaced
    assert t.get("k4") is held_other
    assert t.get("k1")["n"] == 1


def test_rollback_touches_only_what_the_transaction_touched():
    """Nothing but the lent records is reloaded: a record the transaction never saw is left as memory has it."""
    store = fresh()
    t = store.table("acct/us-east-1", "svc.thing")
    unseen = t.get("k3")
    unseen["n"] = 333  # changed in memory outside any transaction (as a bug would); a full reload would undo it
    with pytest.raises(Boom):
        with store.transaction():
            t.get("k1")["n"] = 11
            raise Boom()
    assert t.get("k1")["n"] == 1
    assert t.get("k3") is unseen and unseen["n"] == 333


def test_a_committed_transaction_forgets_what_it_lent():
    store = fresh()
    t = store.table("acct/us-east-1", "svc.thing")
    with store.transaction():
        rec = t.get("k1")
        rec["n"] = 10
        t.put("k1", rec)
    assert not store._lent and not store._lent_tables and not store._lent_kinds
    with pytest.raises(Boom):
        with store.transaction():
            t.get("k2")
            raise Boom()
    assert t.get("k1")["n"] == 10


def test_rollback_hooks_still_run():
    store = fresh()
    calls = []
    store.on_rollback(lambda: calls.append(1))
    with pytest.raises(Boom):
        with store.transaction():
            store.table("acct/us-east-1", "svc.thing").get("k0")
            raise Boom()
    assert calls == [1]
