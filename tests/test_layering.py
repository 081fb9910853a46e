"""The architecture's import rules: pure tiers import only the standard library and each
other; glue imports no edges and reaches gevent only through sio_core/runtime.py."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "sio_core"

PURE = ["engineio", "socketio", "wsgi/request.py", "adapter/messages.py", "websocket"]
GLUE = ["server", "adapter/base.py", "adapter/memory.py", "runtime.py"]
EDGE_MODULES = {"sio_core.transports", "sio_core.wsgi.app", "sio_core.wsgi.middleware",
                "sio_core.wsgi.client_bundle", "sio_core.serving", "sio_core.app",
                "sio_core.adapter.redis"}
CONCURRENCY = {"gevent", "geventwebsocket", "threading", "socket", "select", "asyncio",
               "_thread", "selectors"}


def _files(spec: str) -> list:
    path = PKG / spec
    if path.is_dir():
        return sorted(path.rglob("*.py"))
    return [path] if path.exists() else []


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list:
    """Absolute names of every module imported anywhere in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    package = _module_name(path) if PKG in path.parents else "outside"
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:
                    names.extend(module + "." + alias.name for alias in node.names)
                else:
                    names.append(module)
            else:
                names.append(node.module or "")
    return names


def _is_stdlib(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names


def _pure_names() -> set:
    return {_module_name(p) for spec in PURE for p in _files(spec)}


@pytest.mark.parametrize("path", [p for spec in PURE for p in _files(spec)],
                         ids=lambda p: str(p.relative_to(PKG)))
def test_pure_modules_import_only_stdlib_and_pure(path: Path) -> None:
    pure = _pure_names()
    bad = []
    for name in _imports(path):
        if name.startswith("sio_core"):
            if not any(name == p or name.startswith(p + ".") or p.startswith(name + ".")
                       or name == p.rsplit(".", 1)[0] for p in pure):
                bad.append(name)
        elif not _is_stdlib(name) or name.split(".")[0] in CONCURRENCY:
            bad.append(name)
    assert bad == []


@pytest.mark.parametrize("path", [p for spec in GLUE for p in _files(spec)],
                         ids=lambda p: str(p.relative_to(PKG)))
def test_glue_imports_no_edges_and_gevent_only_via_runtime(path: Path) -> None:
    bad = []
    for name in _imports(path):
        if any(name == edge or name.startswith(edge + ".") for edge in EDGE_MODULES):
            bad.append(name)
        if name.split(".")[0] in CONCURRENCY and path.name != "runtime.py":
            bad.append(name)
    assert bad == []


def test_the_rules_see_a_violation(tmp_path: Path) -> None:
    """The import walker itself finds relative and function-level imports."""
    sample = PKG / "engineio" / "packet.py"
    names = _imports(sample)
    assert "sio_core.engineio.errors" in names
    fake = tmp_path / "mod.py"
    fake.write_text("def f():\n    import gevent\n    from threading import Lock\n")
    assert _imports(fake) == ["gevent", "threading"]
