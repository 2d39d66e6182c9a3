"""A service's own tables in the store's database: same transactions, same durability."""

import pytest

from kumo.core.store import Store

DDL = "CREATE TABLE IF NOT EXISTS points (k TEXT, v REAL); CREATE INDEX IF NOT EXISTS points_k ON points (k)"


def test_rows_commit_with_records_and_survive_reopen(tmp_path):
    path = str(tmp_path / "s.db")
    store = Store(path)
    store.ensure_schema(DDL)
    with store.transaction():
        store.table("a", "svc.thing").put("x", {"n": 1})
        store.sql_many("INSERT INTO points VALUES (?, ?)", [("a", 1.0), ("b", 2.0)])
    store.close()
    again = Store(path)
    again.ensure_schema(DDL)
    assert again.select("SELECT k, v FROM points ORDER BY k") == [("a", 1.0), ("b", 2.0)]
    assert again.table("a", "svc.thing").get("x") == {"n": 1}
    again.close()


def test_a_failed_transaction_rolls_rows_back_and_tells_the_hooks():
    store = Store(None)
    store.ensure_schema(DDL)
    store.sql("INSERT INTO points VALUES ('kept', 1)")
    calls = []
    store.on_rollback(lambda: calls.append("rolled back"))
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.sql("INSERT INTO points VALUES ('lost', 2)")
            raise RuntimeError("boom")
    assert store.select("SELECT k FROM points") == [("kept",)]
    assert calls == ["rolled back"]
    store.reload_all()
    assert calls == ["rolled back", "rolled back"]
