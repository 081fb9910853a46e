"""The one rule between a handler's return value and an ACK's arguments."""
from __future__ import annotations

import pytest

from sio_core.socketio import ack_result, ack_values


@pytest.mark.parametrize("result, values", [
    (None, []), (1, [1]), ("a", ["a"]), ([1, 2], [[1, 2]]), ((1, 2), [1, 2]), ((), []),
    ((None,), [None]), ({"k": 1}, [{"k": 1}]),
])
def test_handler_result_to_ack_arguments(result: object, values: list) -> None:
    assert ack_values(result) == values


@pytest.mark.parametrize("values, result", [
    ([], None), ([1], 1), ([None], None), ([[1, 2]], [1, 2]), ([1, 2], (1, 2)),
])
def test_ack_arguments_to_call_result(values: list, result: object) -> None:
    assert ack_result(values) == result


@pytest.mark.parametrize("result", [1, "x", (1, 2), [3], {"a": [1]}, (1, None, "z")])
def test_the_two_rules_are_inverse(result: object) -> None:
    assert ack_result(ack_values(result)) == result
