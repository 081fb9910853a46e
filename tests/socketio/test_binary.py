"""Binary attachments: ``has_binary``, ``split_binary`` and ``join_binary``."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sio_core.socketio import ProtocolError, has_binary, join_binary, split_binary

from .strategies import (
    ANY_WITH_BINARY,
    JSON_SCALARS,
    KEYS,
    count_binary,
    normalise,
    shape,
    values_with_tuples,
)


def ph(num: Any) -> dict:
    return {"_placeholder": True, "num": num}


def nest(value: Any, depth: int, kind: str) -> Any:
    """``value`` wrapped ``depth`` times in a list, a tuple or a dict."""
    for _ in range(depth):
        value = {"k": value} if kind == "dict" else ([value] if kind == "list" else (value,))
    return value


BINARIES = [b"x", b"", bytearray(b"x"), bytearray(), memoryview(b"x"), memoryview(b"")]

# -- has_binary -----------------------------------------------------------------------


@pytest.mark.parametrize("value", BINARIES, ids=lambda v: "%s%d" % (type(v).__name__, len(v)))
def test_has_binary_of_binary_leaf(value: Any) -> None:
    assert has_binary(value) is True


@pytest.mark.parametrize("value", [
    None, True, False, 0, 1.5, "", "bytes", [], (), {}, [None, "x", 1], {"a": "b"},
    {"a": [1, {"b": ("c",)}]}, ["b'x'"],
])
def test_has_binary_false(value: Any) -> None:
    assert has_binary(value) is False


@pytest.mark.parametrize("kind", ["list", "tuple", "dict"])
@pytest.mark.parametrize("depth", [1, 2, 5, 40])
@pytest.mark.parametrize("leaf", [b"x", bytearray(b"x"), memoryview(b"x")],
                         ids=["bytes", "bytearray", "memoryview"])
def test_has_binary_nested(kind: str, depth: int, leaf: Any) -> None:
    assert has_binary(nest(leaf, depth, kind)) is True
    assert has_binary(nest("x", depth, kind)) is False


@pytest.mark.parametrize("value", [
    [1, "a", [None, {"k": [(), {"z": b"!"}]}]],
    ({"a": 1}, {"b": (2, 3, [bytearray(b"q")])}),
    {"a": None, "b": {"c": [1, 2, ({"d": memoryview(b"m")},)]}},
])
def test_has_binary_mixed_nesting(value: Any) -> None:
    assert has_binary(value) is True


def test_has_binary_ignores_dict_keys() -> None:
    # keys are never binary on the wire; only values count
    assert has_binary({b"k": "v"}) is False


@given(values_with_tuples(JSON_SCALARS))
def test_has_binary_false_without_binary(value: Any) -> None:
    assert has_binary(value) is False


@given(ANY_WITH_BINARY)
def test_has_binary_matches_count(value: Any) -> None:
    assert has_binary(value) is (count_binary(value) > 0)


# -- split_binary ---------------------------------------------------------------------


def test_split_binary_of_bare_leaf() -> None:
    assert split_binary(b"abc") == (ph(0), [b"abc"])


def test_split_binary_without_binary_returns_equal_value() -> None:
    value = ["a", {"b": [1, None, 2.5]}]
    assert split_binary(value) == (value, [])


def test_split_binary_converts_tuples_to_lists() -> None:
    data, buffers = split_binary(("a", (1, b"x")))
    assert shape(data) == shape(["a", [1, ph(0)]])
    assert buffers == [b"x"]


@pytest.mark.parametrize("kind", ["list", "tuple", "dict"])
@pytest.mark.parametrize("depth", [1, 3, 30])
def test_split_binary_nested(kind: str, depth: int) -> None:
    data, buffers = split_binary(nest(bytearray(b"deep"), depth, kind))
    assert data == normalise(nest(ph(0), depth, kind))
    assert buffers == [b"deep"]
    assert [type(b) for b in buffers] == [bytes]


def test_split_binary_numbers_placeholders_in_depth_first_order() -> None:
    value = {
        "first": b"0",
        "second": [b"1", (b"2", {"x": memoryview(b"3")})],
        "third": {"y": bytearray(b"4"), "z": [b"5"]},
        "fourth": b"6",
    }
    data, buffers = split_binary(value)
    assert buffers == [b"0", b"1", b"2", b"3", b"4", b"5", b"6"]
    assert [type(b) for b in buffers] == [bytes] * 7
    assert data == {
        "first": ph(0),
        "second": [ph(1), [ph(2), {"x": ph(3)}]],
        "third": {"y": ph(4), "z": [ph(5)]},
        "fourth": ph(6),
    }


def test_split_binary_same_object_twice_gives_two_attachments() -> None:
    blob = b"same"
    data, buffers = split_binary([blob, blob])
    assert data == [ph(0), ph(1)]
    assert buffers == [b"same", b"same"]


def test_split_binary_copies_mutable_buffers() -> None:
    source = bytearray(b"abc")
    _, buffers = split_binary([source])
    source[0] = ord("z")
    assert buffers == [b"abc"]


def test_split_binary_does_not_modify_its_input() -> None:
    value = {"a": [b"x", (bytearray(b"y"),)]}
    split_binary(value)
    assert shape(value) == shape({"a": [b"x", (bytearray(b"y"),)]})


@given(ANY_WITH_BINARY)
def test_split_binary_output_has_no_binary(value: Any) -> None:
    data, buffers = split_binary(value)
    assert has_binary(data) is False
    assert len(buffers) == count_binary(value)
    assert [type(b) for b in buffers] == [bytes] * len(buffers)


@given(ANY_WITH_BINARY)
def test_split_binary_numbers_are_0_to_n_in_walk_order(value: Any) -> None:
    data, buffers = split_binary(value)
    nums: list = []

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            if set(item) == {"_placeholder", "num"}:
                nums.append(item["num"])
                return
            for child in item.values():
                walk(child)
        elif isinstance(item, list):
            for child in item:
                walk(child)

    walk(data)
    assert nums == list(range(len(buffers)))


# -- join_binary ----------------------------------------------------------------------


def test_join_binary_replaces_placeholders() -> None:
    data = ["e", {"a": ph(1), "b": [ph(0), 3]}, ph(1)]
    assert join_binary(data, [b"zero", b"one"]) == ["e", {"a": b"one", "b": [b"zero", 3]}, b"one"]


def test_join_binary_bare_placeholder() -> None:
    assert join_binary(ph(0), [b"x"]) == b"x"


def test_join_binary_without_placeholders() -> None:
    value = ["a", {"b": [1, None]}]
    assert join_binary(value, []) == value
    assert join_binary(value, [b"unused"]) == value


@pytest.mark.parametrize("lookalike", [
    {"_placeholder": False, "num": 0},
    {"_placeholder": 1, "num": 0},
    {"_placeholder": "true", "num": 0},
    {"_placeholder": True},
    {"_placeholder": True, "num": 0, "extra": 1},
    {"_placeholder": True, "n": 0},
    {"num": 0},
])
def test_join_binary_leaves_non_placeholders_alone(lookalike: dict) -> None:
    assert join_binary(["e", lookalike], [b"x"]) == ["e", lookalike]


@pytest.mark.parametrize("num", [
    1, 2, -1, 10 ** 20, 0.0, 0.5, True, False, None, "0", [0], {"n": 0},
])
def test_join_binary_bad_placeholder_num_raises(num: Any) -> None:
    with pytest.raises(ProtocolError):
        join_binary(["e", {"k": ph(num)}], [b"only"])


def test_join_binary_any_num_raises_without_buffers() -> None:
    with pytest.raises(ProtocolError):
        join_binary([ph(0)], [])


# -- round trip -----------------------------------------------------------------------


@given(ANY_WITH_BINARY)
def test_round_trip(value: Any) -> None:
    joined = join_binary(*split_binary(value))
    assert shape(joined) == shape(normalise(value))
    assert joined == normalise(value)


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=6),
       st.dictionaries(KEYS, JSON_SCALARS, max_size=3))
def test_round_trip_keeps_buffer_identity_order(blobs: list, extra: dict) -> None:
    value = {"blobs": blobs, "extra": extra}
    data, buffers = split_binary(value)
    assert buffers == blobs
    assert join_binary(data, buffers) == value
