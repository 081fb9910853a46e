"""``sio_core.serving.serve_forever``: the garbage collector tuned for a long-running server."""
from __future__ import annotations

import gc
from typing import Iterator, Tuple

import gevent
import pytest

from sio_core import serving
from tests.helpers import wait_until


def _app(environ: dict, start_response) -> list:
    start_response("204 No Content", [])
    return []


@pytest.fixture
def collector() -> Iterator[Tuple[int, int, int]]:
    """The interpreter's thresholds, put back (and start-up unfrozen) afterwards."""
    saved = gc.get_threshold()
    enabled = gc.isenabled()
    yield saved
    gc.unfreeze()
    gc.set_threshold(*saved)
    if enabled:
        gc.enable()


def test_serve_forever_raises_the_first_threshold_and_freezes_start_up(collector) -> None:
    gc.set_threshold(700, 10, 10)  # CPython's default before 3.13
    server = serving.make_server(_app, "127.0.0.1", 0)
    runner = gevent.spawn(serving.serve_forever, server)
    try:
        assert wait_until(lambda: server.started, timeout=5.0)
        assert gc.get_threshold() == (serving.SERVING_GC_THRESHOLD, 10, 10)
        assert gc.get_freeze_count() > 0
    finally:
        server.stop(timeout=1)
        runner.join(timeout=5)
    assert runner.dead


def test_a_higher_threshold_of_the_program_is_kept(collector) -> None:
    gc.set_threshold(50_000, 5, 3)
    serving.tune_gc()
    assert gc.get_threshold() == (50_000, 5, 3)


def test_a_disabled_collector_stays_disabled(collector) -> None:
    gc.disable()
    serving.tune_gc()
    assert not gc.isenabled()
    assert gc.get_threshold()[0] >= serving.SERVING_GC_THRESHOLD
