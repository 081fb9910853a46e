"""The architecture's import rules: pure tiers import only the standard library and each
other; glue imports no edges, no werkzeug or flask, and reaches gevent only through
sio_core/runtime.py; transports import no WSGI edge; and the sub-packages of sio_core import
each other without cycles (edges -> transports -> http -> engineio, one way)."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "sio_core"

PURE = ["engineio", "socketio", "http", "adapter/messages.py", "websocket", "deprecation.py"]
GLUE = ["server", "adapter/base.py", "adapter/memory.py", "runtime.py", "debug.py", "admin.py"]
EDGE_MODULES = {"sio_core.transports", "sio_core.wsgi.app", "sio_core.wsgi.middleware",
                "sio_core.wsgi.client_bundle", "sio_core.serving", "sio_core.app",
                "sio_core.adapter.redis"}
CONCURRENCY = {"gevent", "geventwebsocket", "threading", "socket", "select", "asyncio",
               "_thread", "selectors"}
#: web frameworks: the edges (and flask_sio) give the glue what it needs from them
FRAMEWORKS = {"werkzeug", "flask"}
#: the WSGI edge the transports are called by, never call
WSGI_EDGES = {"sio_core.wsgi", "sio_core.serving", "sio_core.app", "sio_core.gunicorn"}


def _files(spec: str) -> list:
    path = PKG / spec
    if path.is_dir():
        return sorted(path.rglob("*.py"))
    return [path] if path.exists() else []


def _module_name(path: Path, root: Path = PKG) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, root: Path = PKG) -> list:
    """Absolute names of every module imported anywhere in ``path`` (a file of the package
    at ``root``: sio_core, or a copy of its layout in a test)."""
    tree = ast.parse(path.read_text(), str(path))
    package = _module_name(path, root) if root in path.parents else "outside"
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


def _under(name: str, modules: set) -> bool:
    return any(name == m or name.startswith(m + ".") for m in modules)


def _glue_violations(path: Path, root: Path = PKG) -> list:
    """The imports of glue module ``path`` that break the glue's rules."""
    bad = []
    for name in _imports(path, root):
        if _under(name, EDGE_MODULES):
            bad.append(name)
        if name.split(".")[0] in CONCURRENCY and path.name != "runtime.py":
            bad.append(name)
        if name.split(".")[0] in FRAMEWORKS:
            bad.append(name)
    return bad


@pytest.mark.parametrize("path", [p for spec in GLUE for p in _files(spec)],
                         ids=lambda p: str(p.relative_to(PKG)))
def test_glue_imports_no_edges_no_frameworks_and_gevent_only_via_runtime(path: Path) -> None:
    assert _glue_violations(path) == []


@pytest.mark.parametrize("path", _files("transports"), ids=lambda p: str(p.relative_to(PKG)))
def test_transports_import_no_wsgi_edge(path: Path) -> None:
    """The WSGI edge calls the transports with what they need, never the other way."""
    assert [name for name in _imports(path) if _under(name, WSGI_EDGES)] == []


def _package_of(name: str, root: Path = PKG) -> "str | None":
    """The sub-package (or top-level module) of the package at ``root`` that module
    ``name`` is in."""
    parts = name.split(".")
    if parts[0] != root.name or len(parts) < 2:
        return None
    if (root / parts[1]).is_dir() or (root / (parts[1] + ".py")).exists():
        return parts[1]
    return None  # a name imported from sio_core/__init__.py


def package_graph(root: Path = PKG) -> dict:
    """``{package: {imported package: [files importing it]}}`` over every import, function-
    level ones included; sio_core/__init__.py, which re-exports everything, is left out."""
    graph: dict = {}
    for path in sorted(root.rglob("*.py")):
        if path == root / "__init__.py":
            continue
        source = _package_of(_module_name(path, root), root)
        for name in _imports(path, root):
            target = _package_of(name, root)
            if source and target and target != source:
                files = graph.setdefault(source, {}).setdefault(target, [])
                if str(path.relative_to(root)) not in files:
                    files.append(str(path.relative_to(root)))
    return graph


def cycles(graph: dict) -> list:
    """The strongly connected components of more than one node, each sorted (Tarjan)."""
    index: dict = {}
    low: dict = {}
    stack: list = []
    found: list = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def _describe(graph: dict, component: list) -> str:
    return "; ".join("%s -> %s (%s)" % (a, b, ", ".join(graph[a][b]))
                     for a in component for b in sorted(graph.get(a, ()))
                     if b in component)


def test_no_import_cycles_between_packages() -> None:
    graph = package_graph()
    found = cycles(graph)
    assert found == [], "import cycles: " + " | ".join(_describe(graph, c) for c in found)


def test_the_new_rules_see_a_violation(tmp_path: Path) -> None:
    """Each rule added for the one-way edges catches what it forbids, in a copy of the
    layout under ``tmp_path``."""
    root = tmp_path / "sio_core"
    files = {
        "__init__.py": "from .server import x\n",
        "server/__init__.py": "",
        "server/glue.py": "def request(environ):\n    from werkzeug.wrappers import Request\n"
                          "    import flask\n    return Request(environ)\n",
        "transports/__init__.py": "",
        "transports/polling.py": "from ..server import glue\n"
                                 "def f():\n    from ..wsgi.app import peer_socket\n",
        "wsgi/__init__.py": "",
        "wsgi/app.py": "from ..transports import polling\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    assert _glue_violations(root / "server" / "glue.py", root) == ["werkzeug.wrappers", "flask"]
    assert [n for n in _imports(root / "transports" / "polling.py", root)
            if _under(n, WSGI_EDGES)] == ["sio_core.wsgi.app"]
    graph = package_graph(root)
    assert graph == {"transports": {"server": ["transports/polling.py"],
                                    "wsgi": ["transports/polling.py"]},
                     "wsgi": {"transports": ["wsgi/app.py"]}}
    assert cycles(graph) == [["transports", "wsgi"]]
    assert _describe(graph, ["transports", "wsgi"]) == (
        "transports -> wsgi (transports/polling.py); wsgi -> transports (wsgi/app.py)")
    assert cycles({"a": {"b": []}, "b": {"c": []}, "c": {"a": []}, "d": {"a": []}}) == [
        ["a", "b", "c"]]


def test_no_test_package_or_module_takes_a_standard_library_name() -> None:
    """Scripts run from ``tests/`` (servers started by the tests) have it on ``sys.path``
    first: a ``tests/http`` package, say, would be imported as the standard library's
    ``http`` there and break every module that uses it."""
    stdlib = getattr(sys, "stdlib_module_names", None)
    if stdlib is None:  # Python < 3.10
        pytest.skip("sys.stdlib_module_names is Python 3.10+")
    tests = Path(__file__).resolve().parent
    names = {p.name for p in tests.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    names |= {p.stem for p in tests.glob("*.py")}
    assert sorted(names & set(stdlib)) == []
