"""examples/flask_socketio_compat/: the Flask-SocketIO-style apps (no monkey.patch_all(),
jQuery pages) served on a real port and driven in headless Chromium.

jQuery is the npm package of tests/interop, handed to the examples with ``--jquery``.
"""
from __future__ import annotations

from typing import Any, List

import pytest

from tests.helpers import NODE_MODULES

pytestmark = pytest.mark.interop

JQUERY = NODE_MODULES / "jquery" / "dist" / "jquery.min.js"
WAIT = 10_000  # ms
#: the background task's period in the tests (the examples default to 10 s)
INTERVAL = "0.2"


@pytest.fixture
def start_compat(start_example: Any) -> Any:
    """``start_compat("app.py", ...)``: an example of flask_socketio_compat/ with jQuery."""
    if not JQUERY.is_file():
        pytest.fail("jquery is missing: run `npm ci --prefix tests/interop`")

    def start(script: str, *args: str) -> Any:
        return start_example("flask_socketio_compat/" + script, "--jquery", str(JQUERY),
                             "--interval", INTERVAL, *args)

    return start


def lines(page: Any) -> List[str]:
    """The lines of the page's log, in order."""
    return page.locator("#log p").all_inner_texts()


def see(page: Any, text: str) -> None:
    """Wait until the log has a line that is exactly ``text``."""
    page.wait_for_function(
        "t => [...document.querySelectorAll('#log p')].some(p => p.textContent === t)",
        arg=text, timeout=WAIT)


def see_tick(page: Any) -> None:
    """Wait until the background task's ``tick`` has reached the page, twice."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('#log p')]"
        ".filter(p => p.textContent.startsWith('tick ')).length >= 2", timeout=WAIT)


def submit(page: Any, form: str, **fields: str) -> None:
    """Fill ``form``'s fields and submit it, as a person would."""
    for name, value in fields.items():
        page.fill("#%s [name=%s]" % (form, name), value)
    page.click("#%s button" % form)


def round_trip(page: Any, marker: str) -> None:
    """Echo ``marker`` and wait for it: whatever the server sent this page before is in."""
    submit(page, "echo", text=marker)
    see(page, "echo: " + marker)


def open_app(new_page: Any, server: Any) -> Any:
    """A page on the example, connected."""
    page = new_page()
    response = page.page.goto(server.url + "/")
    assert response.status == 200
    see(page.page, "connected")  # the page's connect handler
    see(page.page, "welcome")  # the server's emit from its connect handler
    return page


@pytest.mark.parametrize("script", ["app.py", "app_namespace.py"])
def test_page_rooms_broadcast_acks_and_disconnect(start_compat: Any, new_page: Any,
                                                  script: str) -> None:
    server = start_compat(script)
    ann, bob = open_app(new_page, server), open_app(new_page, server)
    a, b = ann.page, bob.page
    assert a.inner_text("#async-mode") == "gevent"
    assert a.inner_text("#namespace") == ("/" if script == "app.py" else "/chat")
    a.wait_for_function("document.getElementById('transport').textContent === 'websocket'",
                        timeout=WAIT)

    # the background task, started by the first connection, reaches both pages
    see_tick(a)
    see_tick(b)

    # echo with the client's ack: the count is kept in the Socket.IO session
    round_trip(a, "one")
    see(a, "ack: 1")
    round_trip(a, "two")
    see(a, "ack: 2")

    # broadcast
    submit(b, "shout", text="hello all")
    see(a, "shout: hello all")
    see(b, "shout: hello all")

    # rooms: ann joins r1 and r2, bob none; a room message reaches members only
    submit(a, "join", room="r1")
    see(a, "rooms: r1")
    submit(a, "join", room="r2")
    see(a, "rooms: r1, r2")
    submit(b, "to_room", room="r1", text="from bob")
    see(a, "to r1: from bob")
    round_trip(b, "bob after r1")
    assert "to r1: from bob" not in lines(b)
    submit(a, "leave", room="r2")
    see(a, "rooms: r1")

    # close_room: members hear it closing, then nobody is in it any more
    submit(b, "close", room="r1")
    see(a, "room r1 is closing")
    submit(b, "to_room", room="r1", text="after close")
    round_trip(a, "ann after close")
    assert "to r1: after close" not in lines(a)
    submit(a, "join", room="r3")
    see(a, "rooms: r3")

    # a server-side emit with a callback, answered by the page's ack
    submit(a, "ask", text="ready?")
    see(a, "answered: yes to ready?")

    # disconnect: the goodbye arrives first, then the server closes the namespace
    submit(a, "bye")
    see(a, "goodbye")
    see(a, "disconnected: io server disconnect")
    assert lines(a).index("goodbye") < lines(a).index("disconnected: io server disconnect")
    round_trip(b, "bob still here")
    ann.check_clean()
    bob.check_clean()
    output = server.stop()
    assert "Traceback" not in output
    # the example never calls patch_all(): run() did, as nothing it loaded stood in the way
    assert "SocketIO.run: monkey-patched the standard library" in output
    # the disconnect handler got the reason
    assert " left: server namespace disconnect" in output


def shows(page: Any, selector: str, text: str) -> None:
    """Wait until the element at ``selector`` shows exactly ``text``."""
    page.wait_for_function("([s, t]) => document.querySelector(s).textContent === t",
                           arg=[selector, text], timeout=WAIT)


def call(page: Any, script: str) -> Any:
    """Run one of the sessions page's promise-returning functions and return its result."""
    return page.evaluate(script)


def test_sessions_server_side_shared_both_ways(start_compat: Any, new_page: Any) -> None:
    """manage_session=False with server-side sessions: HTTP and Socket.IO share one session."""
    server = start_compat("sessions.py")
    page = new_page()
    p = page.page
    p.goto(server.url + "/")
    shows(p, "#http-user", "anonymous")
    # as a person: type a value, press the button, see it
    p.fill("#http-value-set", "from http")
    p.click("#http-set")
    shows(p, "#http-value", "from http")
    assert call(p, "httpSet({user: 'ann'})") == {"value": "from http", "user": "ann"}

    assert call(p, "connect()") == {"value": "from http", "user": "ann"}
    shows(p, "#sio-user", "ann")
    # set over HTTP after the connection: the next Socket.IO event sees it
    call(p, "httpSet({value: 'later over http'})")
    assert call(p, "sioGet()") == {"value": "later over http", "user": "ann"}
    # set in a Socket.IO handler: the next HTTP request sees it
    p.fill("#sio-value-set", "from socket.io")
    p.click("#sio-set")
    shows(p, "#sio-value", "from socket.io")
    assert call(p, "httpGet()") == {"value": "from socket.io", "user": "ann"}
    assert call(p, "sioSet({user: null})") == {"value": "from socket.io", "user": "anonymous"}
    assert call(p, "httpGet()") == {"value": "from socket.io", "user": "anonymous"}
    page.check_clean()


def test_sessions_cookie_copy_per_connection(start_compat: Any, new_page: Any) -> None:
    """manage_session=True (cookie sessions): the connection works on a copy of the session
    as it was when it connected, as Flask-SocketIO documents."""
    server = start_compat("sessions.py", "--sessions", "cookie")
    page = new_page()
    p = page.page
    p.goto(server.url + "/")
    shows(p, "#http-user", "anonymous")
    call(p, "httpSet({value: 'before connect'})")
    assert call(p, "httpSet({user: 'bob'})") == {"value": "before connect", "user": "bob"}
    assert call(p, "connect()") == {"value": "before connect", "user": "bob"}

    # HTTP changes after the connection are not seen by its handlers
    assert call(p, "httpSet({value: 'http only'})") == {"value": "http only", "user": "bob"}
    assert call(p, "sioGet()") == {"value": "before connect", "user": "bob"}
    # changes made by its handlers stay with the connection, HTTP does not see them
    assert call(p, "sioSet({value: 'socket only'})") == {"value": "socket only", "user": "bob"}
    assert call(p, "sioGet()") == {"value": "socket only", "user": "bob"}
    assert call(p, "httpGet()") == {"value": "http only", "user": "bob"}
    # a new connection starts from the cookie again
    call(p, "disconnect()")
    assert call(p, "connect()") == {"value": "http only", "user": "bob"}
    page.check_clean()
