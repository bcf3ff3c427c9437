"""The client is shared by the GUI, the CLI and a lab's machines without the server code, so
importing it must pull in neither Qt nor `worker`."""

from __future__ import annotations

import subprocess
import sys


def test_client_imports_neither_qt_nor_worker():
    probe = ("import sys, pixcrawler_desktop.client; "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'PySide6', 'worker'}))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
