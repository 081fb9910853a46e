"""A test helper: a Python script in a subprocess that reports progress as JSON lines."""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT


class JsonLines:
    """``python <script> '<json config>'`` with ROOT on the path; lines read with deadlines.

    :param script: the script to run
    :param config: its one argument, as JSON
    """

    def __init__(self, script: Path, config: dict) -> None:
        self.proc = subprocess.Popen([sys.executable, str(script), json.dumps(config)],
                                     cwd=str(ROOT), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE,
                                     env=dict(os.environ, PYTHONPATH=str(ROOT)))

    def line(self, timeout: float = 15.0) -> dict:
        """The next JSON line.

        :raises AssertionError: when none comes within ``timeout`` or the script exited
        """
        if not select.select([self.proc.stdout], [], [], timeout)[0]:
            self.stop()
            raise AssertionError(f"no output within {timeout}s: {self.proc.stderr.read()!r}")
        raw = self.proc.stdout.readline()
        if not raw:
            self.proc.wait(timeout=5)
            raise AssertionError(f"exited {self.proc.returncode}: {self.proc.stderr.read()!r}")
        return json.loads(raw)

    def finish(self, timeout: float = 10.0) -> int:
        """Let it exit by itself; its exit status."""
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.stop()

    def stop(self) -> None:
        """Kill it if it still runs, and close the pipes."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=5)
        self.proc.stdout.close()
        self.proc.stderr.close()
