"""The fresh-machine bootstrap's decision: what is missing → which commands, or which one
command to tell the user. ``plan`` is pure; nothing here installs or removes anything."""
from __future__ import annotations

from typing import Any

import pytest

from tests import bootstrap
from tests.bootstrap import NPM_CI, Found, plan

EVERYTHING = Found(chromium=True, redis=True, nginx=True, node=True, npm=True,
                   node_modules=True, root=False, apt_get=True)


def found(**changes: Any) -> Found:
    """The complete machine with ``changes``."""
    return EVERYTHING._replace(**changes)


def test_nothing_missing_means_nothing_to_do() -> None:
    assert plan(EVERYTHING) == bootstrap.Plan((), (), None)
    assert plan(found(root=True, apt_get=False)) == bootstrap.Plan((), (), None)


def test_root_with_apt_get_installs_the_missing_debian_packages() -> None:
    result = plan(found(chromium=False, nginx=False, root=True))
    assert result.blocked is None
    assert result.missing == ("chromium", "nginx-light")
    assert result.commands == (("apt-get", "update", "-qq"),
                               ("apt-get", "install", "-y", "-qq", "chromium", "nginx-light"))


def test_missing_node_modules_only_needs_npm_ci_even_without_root() -> None:
    result = plan(found(node_modules=False))
    assert result == bootstrap.Plan(("tests/interop/node_modules",), (NPM_CI,), None)
    assert NPM_CI[:4] == ("npm", "ci", "--prefix", "tests/interop")


def test_a_new_node_gets_the_clients_installed_after_it() -> None:
    result = plan(found(node=False, npm=False, redis=False, root=True))
    assert result.blocked is None
    assert result.commands == (("apt-get", "update", "-qq"),
                               ("apt-get", "install", "-y", "-qq", "redis-server", "nodejs",
                                "npm"),
                               NPM_CI)


def test_without_root_it_stops_with_the_one_sudo_command() -> None:
    result = plan(found(redis=False, chromium=False, node_modules=False))
    assert result.missing == ("chromium", "redis-server", "tests/interop/node_modules")
    assert result.blocked is not None
    assert "    sudo apt-get install -y chromium redis-server && " \
           "npm ci --prefix tests/interop\n" in result.blocked
    assert bootstrap.OPT_OUT + "=1" in result.blocked


def test_root_without_apt_get_names_the_packages_and_the_command() -> None:
    result = plan(found(nginx=False, root=True, apt_get=False))
    assert result.blocked is not None
    assert "    apt-get install -y nginx-light\n" in result.blocked
    assert "no apt-get here" in result.blocked
    assert "npm ci" not in result.blocked  # the clients are there already


def test_look_reports_this_machine_without_running_anything(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_subprocess(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("look() must not start a process")

    monkeypatch.setattr(bootstrap.subprocess, "run", no_subprocess)
    monkeypatch.setattr(bootstrap.subprocess, "Popen", no_subprocess)
    machine = bootstrap.look()
    assert isinstance(machine, Found)
    assert machine.node_modules == (bootstrap.INTEROP / "node_modules").is_dir()


def test_run_reports_a_failing_command() -> None:
    assert bootstrap.run(("python3", "-c", "pass")) is None
    failure = bootstrap.run(("python3", "-c", "print('no disk'); raise SystemExit(3)"))
    assert failure is not None
    assert "exited 3" in failure
    assert "no disk" in failure
    missing = bootstrap.run(("/nonexistent/program",))
    assert missing is not None and "failed" in missing
