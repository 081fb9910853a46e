"""The annotations are checked: mypy, configured in setup.cfg (strict on the pure layers
such as ``sio_core.engineio`` and ``sio_core.socketio``, default checks and every function
annotated elsewhere), finds no error in the packages, and the same configuration does report
the errors it is there to catch."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "setup.cfg"
#: mypy's incremental cache (ignored by git): a warm run takes well under a second
CACHE = ROOT / ".mypy_cache"
#: a separate cache for the runs over deliberately broken code, which would otherwise
#: replace the packages' entries with those of the broken versions
NEGATIVE_CACHE = CACHE / "negative"
TIMEOUT = 300


def _mypy(args: List[str], cache: Path) -> subprocess.CompletedProcess:
    """Run mypy from the repository root under setup.cfg's configuration."""
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(CONFIG), "--cache-dir", str(cache),
         "--no-color-output", "--no-error-summary", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)


def _output(result: subprocess.CompletedProcess) -> str:
    return "mypy exited with %d:\n%s%s" % (result.returncode, result.stdout, result.stderr)


def test_packages_type_check() -> None:
    result = _mypy([], CACHE)  # the files setup.cfg names: sio_core and flask_sio
    assert result.returncode == 0, _output(result)
    # a module listed in a section of setup.cfg that no longer exists (moved or renamed):
    # its section, e.g. an ignore_errors exception, must follow it or go
    assert "unused section" not in result.stdout + result.stderr, _output(result)


def test_a_type_error_fails_the_check(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('count: int = "three"\n')
    result = _mypy([str(bad)], NEGATIVE_CACHE)
    assert result.returncode == 1, _output(result)
    assert 'bad.py:1: error: Incompatible types in assignment' in result.stdout, _output(result)


def test_the_pure_layers_are_checked_strictly(tmp_path: Path) -> None:
    """An unannotated function, allowed by mypy's default mode, fails in ``sio_core.engineio``."""
    module = ROOT / "sio_core" / "engineio" / "reasons.py"
    source = module.read_text()
    shadow = tmp_path / "reasons.py"
    shadow.write_text(source + "\n\ndef untyped(value):\n    return value\n")
    # only this module's errors: the rest of the packages is test_packages_type_check's
    common = ["--follow-imports", "silent", str(module)]
    clean = _mypy(common, NEGATIVE_CACHE)
    assert clean.returncode == 0, _output(clean)
    result = _mypy(["--shadow-file", str(module), str(shadow), *common], NEGATIVE_CACHE)
    assert result.returncode == 1, _output(result)
    assert "Function is missing a type annotation  [no-untyped-def]" in result.stdout, \
        _output(result)
