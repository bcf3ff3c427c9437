"""Icons, stylesheets and application metadata from the top-level `resources/` folder.

Icons are monochrome SVGs drawn with `currentColor`; they are rendered here in the palette's
text colour so one set of files serves the light and the dark theme. Rendered icons are
cached per colour because building them parses SVG, which is too slow to redo on every
model `data()` call.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

ICON_SIZES = (16, 20, 24, 32, 48, 64)


@cache
def resources_dir() -> Path:
    """`resources/` next to the package in a checkout, or inside a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    candidates = [Path(bundle) / "resources"] if bundle else []
    candidates.append(Path(__file__).resolve().parents[2] / "resources")
    for candidate in candidates:
        if (candidate / "metadata.json").is_file():
            return candidate
    raise FileNotFoundError("PixCrawler resources folder not found; looked in "
                            + ", ".join(str(c) for c in candidates))


@cache
def metadata() -> dict[str, str]:
    return json.loads((resources_dir() / "metadata.json").read_text(encoding="utf-8"))


def stylesheet(scheme: str) -> str:
    """The accent stylesheet for "light" or "dark"."""
    return (resources_dir() / "styles" / f"{scheme}.qss").read_text(encoding="utf-8")


def _svg(name: str) -> str:
    return (resources_dir() / "icons" / f"{name}.svg").read_text(encoding="utf-8")


def _render(svg: str, size: int) -> QPixmap:
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return pixmap


@cache
def icon(name: str, color: str = "#1f2937") -> QIcon:
    """A themed icon: `currentColor` in the SVG becomes `color` (a "#rrggbb" string)."""
    svg = _svg(name).replace("currentColor", color)
    result = QIcon()
    for size in ICON_SIZES:
        result.addPixmap(_render(svg, size))
    return result


@cache
def pixmap(name: str, size: int) -> QPixmap:
    """A fixed-colour picture (the app icon, validation badges) at one size."""
    return _render(_svg(name), size)


def app_icon() -> QIcon:
    result = QIcon()
    for size in ICON_SIZES:
        result.addPixmap(pixmap("app", size))
    return result


def icon_size(toolbar: bool = False) -> QSize:
    return QSize(20, 20) if toolbar else QSize(16, 16)
