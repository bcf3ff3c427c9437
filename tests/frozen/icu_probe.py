"""Run as a script, in a process of its own: asks the ICU libraries in the folder given on the
command line for what Qt uses and what the build trims away, and prints the answers as JSON.

A fresh process, because the loader shares libraries by name: in a process that has loaded
PySide6 from .venv, the bundle's libicuuc would resolve its data against .venv's full copy.
"""

from __future__ import annotations

import ctypes
import json
import sys
from pathlib import Path

folder = Path(sys.argv[1])
uc_path = next(folder.glob("libicuuc.so.*"))
version = uc_path.name.rsplit(".", 1)[-1]  # ICU suffixes every symbol with its major version
uc = ctypes.CDLL(str(uc_path))
i18n = ctypes.CDLL(str(next(folder.glob("libicui18n.so.*"))))
Status = ctypes.c_int


def function(library: ctypes.CDLL, name: str, restype, *argtypes):
    fn = getattr(library, f"{name}_{version}")
    fn.restype, fn.argtypes = restype, list(argtypes)
    return fn


ucol_open = function(i18n, "ucol_open", ctypes.c_void_p, ctypes.c_char_p,
                     ctypes.POINTER(Status))
ucol_strcoll = function(i18n, "ucol_strcollUTF8", ctypes.c_int, ctypes.c_void_p,
                        ctypes.c_char_p, ctypes.c_int32, ctypes.c_char_p, ctypes.c_int32,
                        ctypes.POINTER(Status))
ucnv_open = function(uc, "ucnv_open", ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(Status))


def collates(locale: str) -> dict:
    """Where 'Åland' sorts against 'zebra' (-1 before, 1 after) and ICU's status (0 or a
    negative warning when the locale falls back to a parent: fine; positive: an error)."""
    status = Status(0)
    collator = ucol_open(locale.encode(), ctypes.byref(status))
    if status.value > 0:
        return {"status": status.value}
    order = ucol_strcoll(collator, "Åland".encode(), -1, b"zebra", -1, ctypes.byref(status))
    return {"status": status.value, "order": order}


def converter(name: str) -> int:
    status = Status(0)
    ucnv_open(name.encode(), ctypes.byref(status))
    return status.value


print(json.dumps({
    "collation": {locale: collates(locale) for locale in ("sv_SE", "de_DE", "en_US")},
    "converters": {name: converter(name) for name in ("UTF-8", "ISO-8859-1", "Shift_JIS")},
}))
