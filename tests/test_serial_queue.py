"""runtime.SerialQueue: the one serial handler queue (the server's sockets and the Python
client run their handlers through it)."""
from __future__ import annotations

import logging
from typing import Any, List

import gevent
from gevent.event import Event

from sio_core import runtime


def test_calls_run_in_order_in_one_greenlet_alive_only_while_calls_wait() -> None:
    errors: List[Exception] = []
    queue = runtime.SerialQueue(errors.append)
    release = Event()
    ran: List[Any] = []
    assert queue.worker is None and len(queue) == 0
    queue.schedule(lambda: (ran.append(("block", gevent.getcurrent())), release.wait(2)))
    for n in range(3):
        queue.schedule(lambda n: ran.append((n, gevent.getcurrent())), n)
    worker = queue.worker
    assert worker is not None and len(queue) == 4  # nothing ran yet: the caller goes on
    gevent.sleep(0)
    assert [name for name, _ in ran] == ["block"] and len(queue) == 3
    release.set()
    worker.join(timeout=2)
    assert worker.dead and queue.worker is None and len(queue) == 0
    assert [name for name, _ in ran] == ["block", 0, 1, 2]
    assert {id(greenlet) for _, greenlet in ran} == {id(worker)}
    assert errors == []


def test_a_failing_call_goes_to_on_error_with_its_traceback_and_the_next_runs(caplog) -> None:
    log = logging.getLogger("tests.serial_queue")
    seen: List[Exception] = []

    def on_error(exc: Exception) -> None:
        log.exception("handler failed")
        seen.append(exc)

    queue = runtime.SerialQueue(on_error)
    done = Event()
    boom = ValueError("boom")

    def fail() -> None:
        raise boom

    queue.schedule(fail)
    queue.schedule(done.set)
    with caplog.at_level(logging.ERROR, logger="tests.serial_queue"):
        assert done.wait(2) is True
    assert seen == [boom]
    assert [r.exc_info[1] for r in caplog.records if r.exc_info] == [boom]


def test_calls_still_waiting_when_the_worker_is_killed_get_a_new_worker() -> None:
    queue = runtime.SerialQueue(lambda exc: None)
    ran: List[int] = []
    queue.schedule(lambda: gevent.sleep(10))
    queue.schedule(ran.append, 2)
    first = queue.worker
    assert first is not None
    gevent.sleep(0)  # the first call blocks
    first.kill()
    second = queue.worker
    assert second is not None and second is not first
    second.join(timeout=2)
    assert ran == [2] and queue.worker is None and len(queue) == 0


def test_lock_is_a_greenlet_mutex_that_refuses_a_stray_release() -> None:
    lock = runtime.Lock()
    assert lock.locked() is False
    with lock:
        assert lock.locked() is True
    assert lock.locked() is False
    try:
        lock.release()
    except ValueError:
        pass
    else:  # pragma: no cover - the assertion below reports it
        raise AssertionError("a release without an acquire was accepted")


def test_a_batch_runs_its_first_queue_in_its_own_greenlet_and_spawns_for_the_others() -> None:
    ran: List[Any] = []
    first, second = runtime.SerialQueue(ran.append), runtime.SerialQueue(ran.append)
    outside = runtime.SerialQueue(ran.append)

    def reader() -> None:
        batch = runtime.Batch()
        first.schedule(lambda: ran.append(("first", gevent.getcurrent())))
        second.schedule(lambda: ran.append(("second", gevent.getcurrent())))
        first.schedule(lambda: ran.append(("first again", gevent.getcurrent())))
        assert first.worker is me and second.worker is me  # no greenlet spawned yet
        workers: List[Any] = []
        gevent.spawn(lambda: (outside.schedule(ran.append, ("outside", None)),
                              workers.append(outside.worker))).join()
        assert workers[0] is not None and workers[0] is not me  # not batched: spawned
        workers[0].join(timeout=2)
        assert [name for name, _ in ran] == ["outside"]  # the batched ones still wait
        ran.clear()
        batch.run()

    me = gevent.spawn(reader)
    me.join(timeout=2)
    assert me.successful()
    gevent.sleep(0)
    assert [(name, who is me) for name, who in ran] == [
        ("first", True), ("first again", True), ("second", False)]
    assert first.worker is second.worker is None


def test_a_batch_starting_its_queues_before_yielding_and_a_new_batch_ending_the_old() -> None:
    ran: List[str] = []
    queue, other = runtime.SerialQueue(ran.append), runtime.SerialQueue(ran.append)
    batch = runtime.Batch()
    queue.schedule(ran.append, "queued")
    batch.start()  # e.g. a reader about to yield: the queue gets a greenlet of its own
    worker = queue.worker
    assert worker is not None and worker is not gevent.getcurrent()
    queue.schedule(ran.append, "after start")  # the worker is running: no new batch entry
    later = runtime.Batch()  # a new batch ends this one
    other.schedule(ran.append, "in the new batch")
    assert other.worker is gevent.getcurrent()
    batch.run()  # not the current batch any more: nothing of the new one is touched
    assert other.worker is gevent.getcurrent()
    later.run()
    worker.join(timeout=2)
    assert ran == ["in the new batch", "queued", "after start"]
    queue.schedule(ran.append, "no batch")  # no batch now: a worker is spawned
    assert queue.worker is not None and queue.worker is not gevent.getcurrent()
    queue.worker.join(timeout=2)
    assert ran[-1] == "no batch"

