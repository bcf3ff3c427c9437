"""Before Qt starts on Linux: are the libraries of Qt's xcb platform plugin there?

Without one of them (libxcb-cursor0 is the usual one: few desktops install it), Qt aborts
with "could not load the Qt platform plugin xcb" and a list of plugins, which tells a user
nothing about what to install. Each library is loaded here with dlopen, as Qt would load it
(same names, same search path: a frozen build's bundled copies count), and a missing one is
named with its package and the apt or dnf command that installs it.

No Qt is imported here, so this runs in milliseconds before anything of Qt is loaded.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

# Exit code when libraries are missing: EX_UNAVAILABLE of sysexits.h, "a support program or
# file does not exist".
MISSING_LIBRARIES = 69


@dataclass(frozen=True)
class Library:
    soname: str
    apt: str  # Debian, Ubuntu
    dnf: str  # Fedora, RHEL


# What libQt6XcbQpa.so.6 and plugins/platforms/libqxcb.so link (readelf -d ... | grep NEEDED),
# besides Qt's own libraries and the C/C++ runtime, which every system has.
LIBRARIES = (
    Library("libxcb.so.1", "libxcb1", "libxcb"),
    Library("libX11.so.6", "libx11-6", "libX11"),
    Library("libX11-xcb.so.1", "libx11-xcb1", "libX11-xcb"),
    Library("libxkbcommon.so.0", "libxkbcommon0", "libxkbcommon"),
    Library("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11"),
    Library("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor"),
    Library("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm"),
    Library("libxcb-util.so.1", "libxcb-util1", "xcb-util"),
    Library("libxcb-image.so.0", "libxcb-image0", "xcb-util-image"),
    Library("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms"),
    Library("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil"),
    Library("libxcb-randr.so.0", "libxcb-randr0", "libxcb"),
    Library("libxcb-render.so.0", "libxcb-render0", "libxcb"),
    Library("libxcb-shape.so.0", "libxcb-shape0", "libxcb"),
    Library("libxcb-shm.so.0", "libxcb-shm0", "libxcb"),
    Library("libxcb-sync.so.1", "libxcb-sync1", "libxcb"),
    Library("libxcb-xfixes.so.0", "libxcb-xfixes0", "libxcb"),
    Library("libxcb-xkb.so.1", "libxcb-xkb1", "libxcb"),
    Library("libglib-2.0.so.0", "libglib2.0-0", "glib2"),
    Library("libGL.so.1", "libgl1", "libglvnd-glx"),
)

Loader = Callable[[str], object]


def dlopen(soname: str) -> None:
    """Load `soname` the way Qt's plugin loader does (dlopen by name); OSError if it fails."""
    ctypes.CDLL(soname)


def platform_name(argv: Sequence[str], env: Mapping[str, str]) -> str:
    """The platform plugin Qt will try first: `-platform NAME`, else QT_QPA_PLATFORM's first
    entry, else wayland in a Wayland session, else xcb (Qt's default on Linux)."""
    for i, arg in enumerate(argv):
        if arg in ("-platform", "--platform") and i + 1 < len(argv):
            return argv[i + 1].split(":")[0]
        if arg.startswith(("-platform=", "--platform=")):
            return arg.split("=", 1)[1].split(":")[0]
    chosen = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen
    if env.get("XDG_SESSION_TYPE") == "wayland" and env.get("WAYLAND_DISPLAY"):
        return "wayland"
    return "xcb"


def missing_libraries(load: Loader = dlopen) -> list[Library]:
    """The libraries `load` could not load."""
    missing = []
    for library in LIBRARIES:
        try:
            load(library.soname)
        except OSError:
            missing.append(library)
    return missing


def package_manager() -> str | None:
    """"apt" or "dnf", whichever this system has (None: say both)."""
    for name, command in (("apt", "apt-get"), ("dnf", "dnf")):
        if shutil.which(command):
            return name
    return None


def install_commands(missing: Sequence[Library], manager: str | None) -> list[str]:
    """The command(s) that install `missing`: the system's own, or both when unknown."""
    apt = "sudo apt install " + " ".join(dict.fromkeys(lib.apt for lib in missing))
    dnf = "sudo dnf install " + " ".join(dict.fromkeys(lib.dnf for lib in missing))
    if manager == "apt":
        return [apt]
    if manager == "dnf":
        return [dnf]
    return [f"{apt}    (Debian, Ubuntu)", f"{dnf}    (Fedora, RHEL)"]


def message(missing: Sequence[Library], manager: str | None) -> str:
    names = ", ".join(f"{lib.soname} (package {lib.apt if manager != 'dnf' else lib.dnf})"
                      for lib in missing)
    them = "them" if len(missing) > 1 else "it"
    lines = [f"PixCrawler cannot open its window: Qt's X11 (xcb) support needs {names}, "
             f"which this system lacks. Install {them} with:", ""]
    lines += [f"  {command}" for command in install_commands(missing, manager)]
    lines += ["", "then start PixCrawler again. (The `pixcrawler` command-line tool works "
                  "without it.)"]
    return "\n".join(lines)


def check(argv: Sequence[str] = (), env: Mapping[str, str] | None = None, *,
          load: Loader | None = None, manager: Callable[[], str | None] | None = None,
          platform: str = sys.platform) -> str | None:
    """The message to print if Qt's xcb plugin would fail to load, else None. Only on Linux
    and only when the platform would be xcb (not offscreen, wayland, ...). `load` and
    `manager` replace the library lookup and the package-manager guess (tests)."""
    if not platform.startswith("linux"):
        return None
    if not platform_name(argv, os.environ if env is None else env).startswith("xcb"):
        return None
    missing = missing_libraries(load or dlopen)
    return message(missing, (manager or package_manager)()) if missing else None
