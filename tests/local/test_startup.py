"""Start-up without a window: `--version` in every tool, and the xcb library check that turns
Qt's "could not load the Qt platform plugin xcb" abort into the command that fixes it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from pixcrawler_desktop import xcb_check
from pixcrawler_desktop.version import version
from tests.support.stack import ROOT

VERSION = metadata.version("pixcrawler-desktop")
BIN = Path(sys.executable).parent


def run(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)


@pytest.mark.parametrize("argv, program", [
    ([sys.executable, "-m", "pixcrawler_desktop", "--version"], "pixcrawler-desktop"),
    ([str(BIN / "pixcrawler-desktop"), "--version"], "pixcrawler-desktop"),
    ([str(BIN / "pixcrawler"), "--version"], "pixcrawler"),
    ([sys.executable, "-m", "pixcrawler_desktop", "cli", "--version"], "pixcrawler"),
])
def test_version_in_every_tool(argv, program):
    # No display and no platform: a window, or Qt loading its plugin, would fail here.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    done = run(argv, env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{program} {VERSION} (Python ")
    assert done.stderr == ""


def test_the_apps_version_loads_no_qt():
    code = ("import sys; from pixcrawler_desktop.__main__ import main; "
            "assert main(['--version']) == 0; "
            "assert not [m for m in sys.modules if m.startswith('PySide6')], 'Qt was loaded'")
    done = run([sys.executable, "-c", code])
    assert done.returncode == 0, done.stderr
    assert version() == VERSION != "unknown"


def missing(*sonames: str):
    """A loader that fails, as dlopen does, for `sonames` only."""
    def load(soname: str) -> None:
        if soname in sonames:
            raise OSError(f"{soname}: cannot open shared object file: No such file or directory")

    return load


def check(load, manager: str | None = "apt", **kwargs) -> str | None:
    return xcb_check.check(kwargs.pop("argv", ()), kwargs.pop("env", {}), load=load,
                           manager=lambda: manager, platform="linux")


def test_a_missing_library_names_its_package_and_the_install_command():
    message = check(missing("libxcb-cursor.so.0"))
    assert message is not None
    assert "libxcb-cursor.so.0 (package libxcb-cursor0)" in message
    assert "  sudo apt install libxcb-cursor0\n" in message


def test_every_missing_library_in_one_command_for_dnf_too():
    load = missing("libxcb-cursor.so.0", "libxkbcommon-x11.so.0", "libxcb-shape.so.0",
                   "libxcb-randr.so.0")
    assert "  sudo dnf install libxkbcommon-x11 xcb-util-cursor libxcb\n" in check(load, "dnf")
    assert ("sudo apt install libxkbcommon-x11-0 libxcb-cursor0 libxcb-randr0 libxcb-shape0"
            in check(load, "apt"))
    both = check(load, None)  # neither apt nor dnf here: both commands, labelled
    assert "sudo apt install" in both and "(Debian, Ubuntu)" in both
    assert "sudo dnf install" in both and "(Fedora, RHEL)" in both


@pytest.mark.parametrize("argv, env", [
    ((), {"QT_QPA_PLATFORM": "offscreen"}),
    ((), {"QT_QPA_PLATFORM": "wayland;xcb"}),
    ((), {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}),
    (("-platform", "offscreen"), {"QT_QPA_PLATFORM": "xcb"}),
])
def test_no_check_when_the_platform_is_not_xcb(argv, env):
    assert check(missing("libxcb-cursor.so.0"), argv=argv, env=env) is None


@pytest.mark.parametrize("argv, env", [
    ((), {}),
    ((), {"QT_QPA_PLATFORM": "xcb:display=:1"}),
    (("-platform", "xcb"), {"QT_QPA_PLATFORM": "offscreen"}),
])
def test_checked_when_the_platform_is_xcb(argv, env):
    assert check(missing("libxcb-cursor.so.0"), argv=argv, env=env) is not None


def test_only_on_linux():
    assert xcb_check.check((), {}, load=missing("libxcb.so.1"), platform="darwin") is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="dlopen of Linux sonames")
def test_the_real_loader():
    with pytest.raises(OSError):
        xcb_check.dlopen("libpixcrawler-no-such-library.so.7")
    xcb_check.dlopen("libc.so.6")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb plugin is Linux's")
def test_the_check_agrees_with_qt():
    """Qt itself, on xcb with a display that is not there, saying what its plugin loader did:
    the plugin fails to load, naming a library the check found missing, exactly when the
    check finds one; else it loads and gets as far as the display."""
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "XAUTHORITY")}
    env.update(QT_QPA_PLATFORM="xcb", DISPLAY=":97", QT_DEBUG_PLUGINS="1")
    done = run([sys.executable, "-c", "from PySide6.QtWidgets import QApplication; "
                "QApplication([])"], env)
    assert done.returncode != 0
    missing = [lib.soname for lib in xcb_check.missing_libraries()]
    refused = re.search(r"libqxcb\.so: (\S+): cannot open shared object file", done.stderr)
    if missing:
        assert refused is not None and refused.group(1) in missing, done.stderr[-3000:]
    else:
        assert refused is None and "could not connect to display" in done.stderr


def test_the_app_exits_with_the_code_and_the_command(tmp_path):
    """The app's own entry, in a process whose loader cannot find libxcb-cursor: the lookup
    is replaced before `main` runs, as a system without the package would answer it."""
    code = ("import sys; from pixcrawler_desktop import xcb_check, app\n"
            "def load(name):\n"
            "    if name == 'libxcb-cursor.so.0': raise OSError(name + ': cannot open')\n"
            "xcb_check.dlopen = load\n"
            "xcb_check.package_manager = lambda: 'apt'\n"
            "sys.exit(app.main(['-platform', 'xcb']))\n")
    done = run([sys.executable, "-c", code])
    assert done.returncode == xcb_check.MISSING_LIBRARIES == 69
    assert "sudo apt install libxcb-cursor0" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
