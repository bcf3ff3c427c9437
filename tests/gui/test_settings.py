"""The settings dialog: theme override, polling interval, remembered servers, data folder."""

from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QPushButton

from pixcrawler_desktop.ui.settings_dialog import SettingsDialog
from tests.gui.helpers import LEFT, WAIT_MS, sign_in


def test_settings_apply_at_once(qtbot, server, users, make_controller, settings, theme, tmp_path,
                                artifacts):
    user = users(server)
    r = user.client.post("/jobs", json={"name": "Night birds", "keywords": ["owl", "nightjar"],
                                        "engines": ["bing", "duckduckgo"], "max_images": 20})
    assert r.status_code == 201, r.text
    settings.remember_server("http://lab.example.org:8000")
    controller = make_controller()
    controller.start(resume=False)
    window = sign_in(qtbot, controller, server.api_url, user.email, user.password)
    qtbot.waitUntil(lambda: window.job_view.job is not None, timeout=WAIT_MS)
    assert settings.servers == [server.api_url, "http://lab.example.org:8000"]

    window.settings_action.trigger()
    dialog = window.dialog
    assert isinstance(dialog, SettingsDialog) and dialog.isVisible()
    assert dialog.windowTitle() == "PixCrawler — Settings"
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    dialog.poll.setValue(2.5)
    dialog.servers.setCurrentRow(1)
    qtbot.mouseClick(dialog.findChild(QPushButton, "forget_server"), LEFT)
    assert dialog.servers.count() == 1
    dialog.data_dir.setText(str(tmp_path / "server-data"))
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    dialog.contact.setText("lab at example")  # refused as typed, and OK with it
    assert dialog.contact_error.isVisibleTo(dialog) and not ok.isEnabled()
    dialog.contact.setText("https://lab.example.org/crawls")
    assert not dialog.contact_error.isVisibleTo(dialog) and ok.isEnabled()
    buttons = dialog.findChild(QDialogButtonBox)
    qtbot.mouseClick(buttons.button(QDialogButtonBox.StandardButton.Ok), LEFT)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)

    try:
        assert settings.theme == "dark" and theme.scheme == "dark"
        window_color = QApplication.instance().palette().color(QPalette.ColorRole.Window)
        assert window_color.name() == "#18202c"
        assert settings.poll_interval == 2.5
        assert window.job_view.watcher._timer.interval() == 2500
        assert settings.servers == [server.api_url]
        assert settings.local_data_dir == tmp_path / "server-data"
        assert settings.contact == "https://lab.example.org/crawls"
        qtbot.waitUntil(lambda: window.job_view.chunk_model.chunks() != [], timeout=WAIT_MS)
        QApplication.processEvents()
        window.grab().save(str(artifacts / "jobs-dark.png"))
    finally:
        theme.set_choice("light")
