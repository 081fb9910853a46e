"""What the test command needs beyond the Python packages, and how it gets it.

The browser, Redis, nginx and interop tests start Debian's ``chromium``, ``redis-server``
and ``nginx`` and drive node with the npm clients of ``tests/interop``. Before the first
test, ``tests/conftest.py`` asks ``plan(look())`` what is missing and then runs the plan's
commands (root with ``apt-get``, or ``npm`` for the clients), or stops at once with the
one command to run. ``look()`` only checks paths; ``plan()`` is a pure function of what
it found, tested in ``tests/test_bootstrap.py``.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple, Optional, Sequence, Tuple

__all__ = ["OPT_OUT", "CHROMIUM", "Found", "Plan", "look", "plan", "run"]

#: set to ``1`` to skip the check (the tests that need a missing program then fail)
OPT_OUT = "SIO_TEST_NO_BOOTSTRAP"
#: the browser the browser tests drive (Playwright with ``executable_path``)
CHROMIUM = "/usr/bin/chromium"
INTEROP = Path(__file__).resolve().parent / "interop"
#: the lockfile install of the npm clients, run from the repository's root
NPM_CI = ("npm", "ci", "--prefix", "tests/interop", "--no-audit", "--no-fund", "--silent")


class Found(NamedTuple):
    """What this machine has, and what this process may do about the rest."""

    chromium: bool
    redis: bool
    nginx: bool
    node: bool
    npm: bool
    node_modules: bool
    root: bool
    apt_get: bool


class Plan(NamedTuple):
    """What to do before the tests run."""

    #: human names of what is missing (empty: nothing to do)
    missing: Tuple[str, ...]
    #: the commands to run, in order, when this process can
    commands: Tuple[Tuple[str, ...], ...]
    #: when this process cannot: the message naming the one command to run
    blocked: Optional[str]


def _clients_installed() -> bool:
    """Every package that tests/interop/package.json names has its folder in node_modules
    (a node_modules from before a package was added counts as missing)."""
    try:
        manifest = json.loads((INTEROP / "package.json").read_text())
    except (OSError, ValueError):
        return False
    names = list(manifest.get("dependencies", {})) + list(manifest.get("devDependencies", {}))
    return all((INTEROP / "node_modules" / name).is_dir() for name in names)


def look() -> Found:
    """Check what is installed: paths and ``PATH`` lookups only, no subprocess."""
    return Found(
        chromium=os.access(CHROMIUM, os.X_OK),
        redis=shutil.which("redis-server") is not None,
        nginx=shutil.which("nginx") is not None or os.access("/usr/sbin/nginx", os.X_OK),
        node=shutil.which("node") is not None,
        npm=shutil.which("npm") is not None,
        node_modules=_clients_installed(),
        root=hasattr(os, "geteuid") and os.geteuid() == 0,
        apt_get=shutil.which("apt-get") is not None,
    )


def plan(found: Found) -> Plan:
    """The commands that bring what ``found`` lacks, or why they cannot run here.

    :param found: the machine's state, as ``look()`` returns it
    """
    debian = [package for package, present in (
        ("chromium", found.chromium), ("redis-server", found.redis),
        ("nginx-light", found.nginx), ("nodejs", found.node), ("npm", found.npm),
    ) if not present]
    missing = tuple(debian) + (() if found.node_modules else ("tests/interop/node_modules",))
    if not missing:
        return Plan((), (), None)
    commands: list = []
    if debian:
        commands.append(("apt-get", "update", "-qq"))
        commands.append(("apt-get", "install", "-y", "-qq", *debian))
    npm = not found.node_modules or not found.node  # a new node: install the clients anew
    if npm:
        commands.append(NPM_CI)
    if not debian or (found.root and found.apt_get):
        return Plan(missing, tuple(commands), None)
    install = "apt-get install -y " + " ".join(debian)
    one = (install if found.root else "sudo " + install) + \
        (" && " + " ".join(NPM_CI[:4]) if npm else "")
    why = "" if found.apt_get else " (no apt-get here: install the Debian packages " \
                                   "of that name with this system's package manager)"
    return Plan(missing, tuple(commands), (
        "The tests need %s, which this process cannot install%s. Run:\n\n    %s\n\n"
        "then the test command again (or set %s=1 to run without them; the tests that "
        "need them then fail)." % (", ".join(missing), why, one, OPT_OUT)))


def run(command: Sequence[str], timeout: float = 900.0) -> Optional[str]:
    """Run one plan command from the repository's root; None on success, else a message.

    :param command: the program and its arguments
    :param timeout: seconds the command may take (package downloads)
    """
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        proc = subprocess.run(list(command), cwd=str(INTEROP.parent.parent), env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return "tests/bootstrap: `%s` failed: %s" % (" ".join(command), exc)
    if proc.returncode != 0:
        return "tests/bootstrap: `%s` exited %d:\n%s" % (
            " ".join(command), proc.returncode, proc.stdout.decode(errors="replace")[-3000:])
    return None
