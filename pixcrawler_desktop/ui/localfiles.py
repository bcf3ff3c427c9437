"""Finding an image's file on this computer, for "Show in folder".

Only a server on this machine (127.0.0.1, localhost, ::1) writes files the user can open,
and only under its data folder; a file path from the server is never trusted to leave that
folder (it is resolved and checked, as the server itself does).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

from pixcrawler_desktop.client.api import is_local_server


def local_file(server: str, data_dir: Path, file_path: str) -> Path | None:
    """The image's file if the server is local and the file exists inside `data_dir`.

    Touches the disk, so callers run it off the UI thread.
    """
    if not is_local_server(server):
        return None
    root = data_dir.expanduser().resolve()
    path = (root / file_path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def show_in_folder(path: Path) -> bool:
    """Open the folder holding `path` in the system file manager."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))
