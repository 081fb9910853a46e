"""The documentation site (docs/): it builds with Sphinx without a warning, and the code it
shows is the code that runs.

- The getting-started tutorial shows the example files themselves (``literalinclude``),
  and the screenshots are the ones tests/js/test_examples_in_browser.py takes of them.
- The deployment page shows examples/cluster's gunicorn script and nginx configuration
  whole, and that gunicorn script serves the chat with Redis across two nodes here.
- The short code blocks the docs share with the README are the README's (whose client
  script tests/test_readme_client.py runs), and so are the browser client's sizes (which
  tests/js/test_bundle_build.py checks against the files).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from tests.helpers import EXAMPLES, ROOT, RedisServer, free_port, wait_for_port
from tests.test_examples import PollingClient

DOCS = ROOT / "docs"
#: seconds the Sphinx build may take (about 5 s on an idle machine)
BUILD_TIMEOUT = 300


def test_the_docs_build_without_warnings(tmp_path: Path) -> None:
    """``-W``: a broken reference, a missing include or a docstring Sphinx cannot read
    fails the build, and so this test."""
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
        cwd=str(ROOT), capture_output=True, timeout=BUILD_TIMEOUT)
    output = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, output
    assert output.strip() == "", output
    for page in ("index", "getting-started", "server-api", "client-api", "flask", "flask-api",
                 "deployment", "security", "browser-client", "debugging", "protocol"):
        assert (tmp_path / "html" / (page + ".html")).is_file(), page


# -- what the pages include -------------------------------------------------------------------

def directives(page: str, name: str) -> List[Tuple[str, Dict[str, str]]]:
    """Each ``.. name:: argument`` of ``docs/<page>.rst`` with its ``:option: value`` lines."""
    text = (DOCS / (page + ".rst")).read_text(encoding="utf-8")
    found = []
    for match in re.finditer(r"^\.\. %s:: (.+)\n((?:   :.*\n)*)" % re.escape(name), text, re.M):
        options = dict(re.findall(r"^   :([\w-]+):(?: (.*))?$", match.group(2), re.M))
        found.append((match.group(1).strip(), options))
    return found


def included(page: str) -> Dict[Path, List[Dict[str, str]]]:
    """The files ``docs/<page>.rst`` includes, resolved, each with its directives' options."""
    files: Dict[Path, List[Dict[str, str]]] = {}
    for argument, options in directives(page, "literalinclude"):
        files.setdefault((DOCS / argument).resolve(), []).append(options)
    return files


def code_blocks(text: str, language: str) -> List[str]:
    """The bodies of the ``.. code-block:: language`` directives of reST ``text``, dedented."""
    blocks = []
    for match in re.finditer(r"^\.\. code-block:: %s\n\n((?:   .*\n|\n)+)" % language, text,
                             re.M):
        lines = match.group(1).rstrip("\n").split("\n")
        blocks.append("\n".join(line[3:] for line in lines) + "\n")
    return blocks


def readme_blocks(language: str) -> List[str]:
    """The fenced ``language`` blocks of README.md."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```%s\n(.*?)```" % language, readme, re.S)


def test_getting_started_shows_the_chat_examples_themselves() -> None:
    files = included("getting-started")
    chat, flask_chat = EXAMPLES / "chat_room.py", EXAMPLES / "flask_chat" / "app.py"
    assert chat in files and flask_chat in files
    assert EXAMPLES / "flask_chat" / "templates" / "index.html" in files
    # the Flask app is shown whole; the plain one piece by piece, every piece of the file
    assert files[flask_chat] == [{"language": "python"}]
    pieces = [options for options in files[chat]]
    assert {"pyobject": "build", "language": "python"} in pieces
    assert {"pyobject": "main", "language": "python"} in pieces
    assert all(path.is_relative_to(EXAMPLES) for path in files)
    # every python block that is not an include is one of the README's, run or parsed there
    text = (DOCS / "getting-started.rst").read_text(encoding="utf-8")
    for block in code_blocks(text, "python"):
        assert block in readme_blocks("python"), block


def test_the_tutorial_screenshots_are_the_ones_the_browser_tests_take_of_its_examples() -> None:
    from tests.js import test_examples_in_browser as browser

    images = [argument for argument, _ in directives("getting-started", "image")]
    assert [(DOCS / image).resolve() for image in images] == [browser.SCREENSHOT,
                                                             browser.FLASK_SCREENSHOT]
    source = Path(browser.__file__).read_text(encoding="utf-8")
    for test, example, shot in (("test_chat_room", "chat_room.py", "SCREENSHOT"),
                                ("test_flask_chat_two_pages_broadcast_and_leave",
                                 "flask_chat/app.py", "FLASK_SCREENSHOT")):
        body = source.split("def %s(" % test, 1)[1].split("\ndef ", 1)[0]
        assert 'start_example("%s")' % example in body
        assert "keep_screenshot(ann.page, %s, tmp_path)" % shot in body
    for image in (browser.SCREENSHOT, browser.FLASK_SCREENSHOT):
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_deployment_shows_the_cluster_files_whole() -> None:
    cluster = EXAMPLES / "cluster"
    files = included("deployment")
    assert files[cluster / "gunicorn.sh"] == [{"language": "sh"}]
    assert files[cluster / "nginx.conf"] == [{"language": "nginx"}]
    # the command the gunicorn section names is the script's
    text = (DOCS / "deployment.rst").read_text(encoding="utf-8")
    command = "gunicorn -k sio_core.gunicorn.GeventWebSocketWorker -w 1"
    assert command in text
    assert command in (cluster / "gunicorn.sh").read_text().replace("\\\n    ", "")


def test_the_readme_links_to_pages_that_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((docs/[^)#]+)(?:#[^)]*)?\)", readme)
    assert "docs/index.rst" in links and "docs/deployment.rst" in links
    for link in links:
        assert (ROOT / link).is_file(), link


def test_the_client_page_shows_the_readme_client_script() -> None:
    """tests/test_readme_client.py runs the README's script; the page shows that script."""
    text = (DOCS / "client-api.rst").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    script = readme.split("\n## A Python client\n", 1)[1].split("\n## ", 1)[0]
    [expected] = re.findall(r"```python\n(.*?)```", script, re.S)
    assert code_blocks(text, "python")[0] == expected


def test_the_browser_client_sizes_are_the_readme_figures() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    text = (DOCS / "browser-client.rst").read_text(encoding="utf-8")
    for name in ("socket.io.js", "socket.io.min.js"):
        row = re.search(r"\| ours: `%s`[^|]*\| ([\d,]+) \| ([\d,]+) \|" % re.escape(name),
                        readme)
        assert row is not None, name
        cells = re.search(r"\* - ours: ``%s``.*\n     - ([\d,]+)\n     - ([\d,]+)\n"
                          % re.escape(name), text)
        assert cells is not None, name
        assert cells.groups() == row.groups(), name


# -- the deployment, run -----------------------------------------------------------------------

@pytest.fixture
def gunicorn_node(redis_server: RedisServer) -> Iterator:
    """Factory: ``gunicorn_node("n1")`` runs examples/cluster/gunicorn.sh on a free port."""
    started: List[Tuple[subprocess.Popen, "tempfile._TemporaryFileWrapper[bytes]"]] = []
    # the script runs `python3 -m gunicorn`: this interpreter's
    path = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")

    def start(name: str) -> int:
        port = free_port()
        log = tempfile.NamedTemporaryFile()
        proc = subprocess.Popen(
            ["sh", str(EXAMPLES / "cluster" / "gunicorn.sh"), name, str(port), redis_server.url],
            cwd=str(ROOT), env=dict(os.environ, PATH=path, PYTHONPATH=str(ROOT)),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        started.append((proc, log))
        try:
            wait_for_port(port, timeout=30, proc=proc)
        except RuntimeError:
            pytest.fail(Path(log.name).read_text(errors="replace"))
        return port

    yield start
    for proc, log in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        log.close()


def test_the_cluster_gunicorn_script_serves_the_chat_across_nodes(gunicorn_node) -> None:
    """Two nodes started as the deployment page says, one client on each: the session ids
    carry the node's tag for nginx, and a room spans both nodes through Redis."""
    ann = PollingClient(gunicorn_node("n1"))
    bob = PollingClient(gunicorn_node("n2"))
    assert ann.sid.startswith("n1-") and bob.sid.startswith("n2-")
    ann.connect(auth={"name": "ann"})
    assert ann.next_event() == ["status", {"text": "welcome, ann"}]
    assert "lobby" in ann.call("join", "lobby")[0]
    assert ann.next_event() == ["status", {"text": "ann joined lobby"}]
    bob.connect(auth={"name": "bob"})
    assert bob.next_event() == ["status", {"text": "welcome, bob"}]
    assert "lobby" in bob.call("join", "lobby")[0]
    assert ann.next_event() == ["status", {"text": "bob joined lobby"}]  # from n2, via Redis
    bob.emit("text", {"text": "hello from n2", "room": "lobby"})
    assert ann.next_event() == ["message", {"name": "bob", "text": "hello from n2",
                                            "room": "lobby"}]
