"""The Qt desktop app: windows, dialogs, Qt models and the glue to the API client.

Widgets only present and forward; every server or disk call goes through `tasks.TaskRunner`
so the UI thread never waits on the network.

Importing this package also applies `keep_singletons_alive()` (below) before any Qt code runs.
"""

from __future__ import annotations

import ctypes
import sys

# Far more than a process could ever leak, far less than Py_ssize_t can hold.
_RESERVE = 1 << 40
_SINGLETONS = (None, True, False, NotImplemented, Ellipsis)


def keep_singletons_alive() -> bool:
    """Work around a reference-count bug of PySide6 6.12.0 on Python before 3.12.

    That build returns None, True and False without taking a reference, as if they were
    immortal (they are from Python 3.12 on): every call of a void Qt method drops a
    reference to None, every signal emit one to True. On 3.11 the count reaches zero within
    minutes of a busy crawl view and the interpreter aborts ("none_dealloc: deallocating
    None", "bool_dealloc"). 6.11.2 does not do this. These objects are never freed by
    design, so giving them a huge reference count is what 3.12 does itself. Returns whether
    it was needed.
    """
    if sys.version_info >= (3, 12):
        return False
    for obj in _SINGLETONS:
        if sys.getrefcount(obj) < _RESERVE:
            ctypes.c_ssize_t.from_address(id(obj)).value += _RESERVE  # ob_refcnt is first
    return True


keep_singletons_alive()
