"""The version, from one place: the installed package's metadata (pyproject.toml's `version`,
which the frozen build copies into its bundle). Loads neither Qt nor the API client, so
`--version` answers at once in every tool."""

from __future__ import annotations

import platform
from importlib import metadata

DISTRIBUTION = "pixcrawler-desktop"


def version() -> str:
    """The package's version, or "unknown" when run from a tree that was never installed."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def version_line(program: str) -> str:
    """What `--version` prints: `pixcrawler 0.1.0 (Python 3.11.9)`."""
    return f"{program} {version()} (Python {platform.python_version()})"


def about() -> dict[str, str]:
    """The facts an About box shows: version, Qt, PySide6, Python, data folder. Imports QtCore,
    so it is for the GUI."""
    import PySide6
    from PySide6 import QtCore

    from pixcrawler_desktop.local.signin import default_data_dir

    return {
        "version": version(),
        "qt": QtCore.qVersion(),
        "pyside": PySide6.__version__,
        "python": platform.python_version(),
        "data_dir": str(default_data_dir()),
    }
