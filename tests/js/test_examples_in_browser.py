"""The examples that have a page, in headless Chromium: they load the bundle our server
serves at /socket.io/socket.io.js and work. The screenshots of the two chat rooms are kept
in docs/ for the getting-started page (set UPDATE_SCREENSHOTS=1 to refresh them)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, List

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.interop

SCREENSHOT = ROOT / "docs" / "chat-example.png"
FLASK_SCREENSHOT = ROOT / "docs" / "flask-chat-example.png"
WAIT = 10_000  # ms


def see(page: Any, text: str) -> None:
    """Wait until a line with exactly ``text`` is in the page's log."""
    page.locator("#log p", has_text=text).first.wait_for(timeout=WAIT)
    assert text in page.locator("#log").inner_text()


def keep_screenshot(page: Any, target: Path, tmp_path: Path) -> None:
    """Take a screenshot of ``page``; write it to ``target`` with UPDATE_SCREENSHOTS set."""
    shot = tmp_path / target.name
    page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_SCREENSHOTS"):
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(shot.read_bytes())


def test_chat_room(start_example: Any, new_page: Any, tmp_path: Path) -> None:
    server = start_example("chat_room.py")
    ann, bob = new_page(), new_page()
    for person in (ann, bob):
        person.page.set_viewport_size({"width": 760, "height": 500})
        person.page.goto(server.url + "/")
        see(person.page, "connected")

    def join(person: Any, name: str) -> None:
        person.page.fill("#join input[name=name]", name)
        person.page.click("#join button:text('join')")

    def say(person: Any, text: str) -> None:
        person.page.fill("#say input[name=text]", text)
        person.page.press("#say input[name=text]", "Enter")

    join(ann, "ann")
    see(ann.page, "in lobby with ann")
    join(bob, "bob")
    see(bob.page, "in lobby with ann, bob")
    see(ann.page, "bob joined lobby")
    say(ann, "hello bob")
    see(bob.page, "ann: hello bob")
    say(bob, "hi ann, how are you?")
    see(ann.page, "bob: hi ann, how are you?")
    say(ann, "served by flask-sio, in Chromium")
    see(ann.page, "ann: served by flask-sio, in Chromium")
    bob.page.click("#leave")
    see(ann.page, "bob left lobby")
    keep_screenshot(ann.page, SCREENSHOT, tmp_path)
    ann.check_clean()
    bob.check_clean()


def test_namespaces(start_example: Any, new_page: Any) -> None:
    server = start_example("namespaces.py")
    page = new_page()
    page.page.goto(server.url + "/socket.io/socket.io.js")
    page.page.add_script_tag(url="/socket.io/socket.io.js")
    page.page.add_script_tag(content=(Path(__file__).parent / "scenarios.js").read_text())
    result = page.run("namespacesExample")
    assert result == {
        "got": {"chat": [{"that": "only", "/chat": "will get"},
                         {"everyone": "in", "/chat": "will get"}],
                "news": [{"news": "item"}]},
        "shared": True,
    }
    page.check_clean()


def test_namespaces_page(start_example: Any, new_page: Any) -> None:
    server = start_example("namespaces.py")
    page = new_page()
    page.page.goto(server.url + "/")
    page.page.locator("#status", has_text="one connection for both").wait_for(timeout=WAIT)
    page.page.locator("#chat li").nth(1).wait_for(timeout=WAIT)
    page.page.locator("#news li").first.wait_for(timeout=WAIT)
    assert page.page.locator("#chat li").all_inner_texts() == [
        '{"that":"only","/chat":"will get"}', '{"everyone":"in","/chat":"will get"}']
    assert page.page.locator("#news li").all_inner_texts() == ['{"news":"item"}']
    page.check_clean()


def test_flask_chat(start_example: Any, new_page: Any) -> None:
    server = start_example("flask_chat/app.py")
    page = new_page()
    page.page.goto(server.url + "/")
    see(page.page, "welcome, anonymous")
    page.page.fill("#join input[name=name]", "ann")
    page.page.fill("#join input[name=room]", "lobby")
    page.page.click("#join button")
    see(page.page, "welcome, ann")
    see(page.page, "ann joined lobby")
    page.page.fill("#say input[name=text]", "hello")
    page.page.press("#say input[name=text]", "Enter")
    see(page.page, "[lobby] ann: hello")
    page.check_clean()


def lines(page: Any) -> List[str]:
    """The text of every line in the page's log."""
    return page.locator("#log p").all_inner_texts()


def test_flask_chat_two_pages_broadcast_and_leave(start_example: Any, new_page: Any,
                                                  tmp_path: Path) -> None:
    server = start_example("flask_chat/app.py")
    ann, bob = new_page(), new_page()
    for person, name in ((ann, "ann"), (bob, "bob")):
        person.page.set_viewport_size({"width": 760, "height": 500})
        person.page.goto(server.url + "/")
        see(person.page, "welcome, anonymous")
        person.page.fill("#join input[name=name]", name)
        person.page.fill("#join input[name=room]", "lobby")
        person.page.click("#join button:text('join')")
        see(person.page, "welcome, " + name)
        see(person.page, name + " joined lobby")
    see(ann.page, "bob joined lobby")

    def say(person: Any, text: str) -> None:
        person.page.fill("#say input[name=text]", text)
        person.page.press("#say input[name=text]", "Enter")

    say(ann, "hello lobby")
    see(bob.page, "[lobby] ann: hello lobby")
    bob.page.click("#leave")
    see(ann.page, "bob left lobby")
    see(bob.page, "left; rooms: ")
    left = [line for line in lines(bob.page) if line.startswith("left; rooms: ")]
    assert len(left) == 1
    assert "lobby" not in left[0]  # only bob's own room is left
    # bob has no room now: he talks to everyone, ann (still in lobby) included
    say(bob, "hello everyone")
    see(ann.page, "bob: hello everyone")
    see(bob.page, "bob: hello everyone")
    assert "bob: hello everyone" in lines(ann.page)
    assert "bob: hello everyone" in lines(bob.page)
    keep_screenshot(ann.page, FLASK_SCREENSHOT, tmp_path)
    # once ann has her own lobby message back, the server has queued it for every member;
    # bob's next broadcast reaches him after it would have, so its absence is final
    say(ann, "lobby only")
    see(ann.page, "[lobby] ann: lobby only")
    say(bob, "marker")
    see(bob.page, "bob: marker")
    assert [line for line in lines(bob.page) if "lobby only" in line] == []
    see(ann.page, "bob: marker")
    ann.check_clean()
    bob.check_clean()
