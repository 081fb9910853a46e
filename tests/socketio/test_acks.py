"""The ack table: ids for outgoing packets and their waiters."""
from __future__ import annotations

from typing import List, Tuple

from hypothesis import given
from hypothesis import strategies as st

from sio_core.socketio import AckTable


def test_new_table_is_empty() -> None:
    table = AckTable()
    assert len(table) == 0
    assert table.resolve(0) is None
    assert table.drain() == []


def test_allocate_increments_ids() -> None:
    table = AckTable()
    assert [table.allocate(name) for name in "abcd"] == [0, 1, 2, 3]
    assert len(table) == 4


def test_resolve_returns_waiter_once_then_none() -> None:
    table = AckTable()
    waiter = object()
    ack_id = table.allocate(waiter)
    assert table.resolve(ack_id) is waiter
    assert len(table) == 0
    assert table.resolve(ack_id) is None
    assert len(table) == 0


def test_resolve_unknown_id() -> None:
    table = AckTable()
    table.allocate("a")
    assert table.resolve(1) is None
    assert table.resolve(-1) is None
    assert len(table) == 1


def test_resolve_out_of_order() -> None:
    table = AckTable()
    ids = [table.allocate(name) for name in ("a", "b", "c")]
    assert table.resolve(ids[1]) == "b"
    assert len(table) == 2
    assert table.resolve(ids[2]) == "c"
    assert table.resolve(ids[0]) == "a"
    assert len(table) == 0


def test_ids_are_not_reused_after_resolve() -> None:
    table = AckTable()
    first = table.allocate("a")
    assert table.resolve(first) == "a"
    assert table.allocate("b") == first + 1


def test_drain_returns_all_and_empties() -> None:
    table = AckTable()
    for name in ("a", "b", "c"):
        table.allocate(name)
    assert table.resolve(1) == "b"
    assert table.drain() == ["a", "c"]
    assert len(table) == 0
    assert table.drain() == []
    assert table.resolve(0) is None
    assert table.resolve(2) is None


def test_ids_keep_increasing_after_drain() -> None:
    # a late answer to a drained id must not reach a new waiter
    table = AckTable()
    table.allocate("a")
    table.allocate("b")
    table.drain()
    assert table.allocate("c") == 2
    assert table.resolve(0) is None
    assert table.resolve(2) == "c"


def test_same_waiter_twice_gets_two_ids() -> None:
    table = AckTable()
    waiter = object()
    assert [table.allocate(waiter), table.allocate(waiter)] == [0, 1]
    assert len(table) == 2
    assert table.resolve(0) is waiter
    assert table.resolve(1) is waiter


def test_none_waiter_is_counted() -> None:
    table = AckTable()
    assert table.allocate(None) == 0
    assert len(table) == 1
    assert table.drain() == [None]


def test_register_under_chosen_id() -> None:
    table = AckTable()
    table.register(42, "shared")
    assert len(table) == 1
    assert table.resolve(42) == "shared"
    assert table.resolve(42) is None
    # allocation does not depend on registered ids
    assert table.allocate("a") == 0


def test_register_then_drain() -> None:
    table = AckTable()
    table.allocate("a")
    table.register(7, "b")
    assert len(table) == 2
    assert table.drain() == ["a", "b"]
    assert len(table) == 0


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("allocate"), st.integers()),
        st.tuples(st.just("resolve"), st.integers(min_value=-1, max_value=20)),
        st.tuples(st.just("drain"), st.none()),
    ),
    max_size=40,
)


@given(OPS)
def test_matches_a_dict_model(ops: List[Tuple[str, object]]) -> None:
    table = AckTable()
    model: dict = {}
    next_id = 0
    for op, arg in ops:
        if op == "allocate":
            assert table.allocate(arg) == next_id
            model[next_id] = arg
            next_id += 1
        elif op == "resolve":
            assert table.resolve(arg) == model.pop(arg, None)
        else:
            assert table.drain() == list(model.values())
            model.clear()
        assert len(table) == len(model)
