"""Settings: remembered servers, the polling interval, the theme and the local data folder."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pixcrawler_desktop.local.contact import contact_problem
from pixcrawler_desktop.ui import resources
from pixcrawler_desktop.ui.forms import role_label
from pixcrawler_desktop.ui.settings import THEMES, AppSettings, default_data_dir

THEME_LABELS = {"system": "Follow the system", "light": "Light", "dark": "Dark"}


class SettingsDialog(QDialog):
    """Edits an AppSettings; `apply()` (on OK) writes the values back."""

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("PixCrawler — Settings")
        self.setWindowIcon(resources.app_icon())
        self.setMinimumWidth(520)

        self.servers = QListWidget(objectName="servers")
        self.servers.addItems(settings.servers)
        self.servers.setMaximumHeight(110)
        self.forget_button = QPushButton("Forget server", objectName="forget_server")
        self.forget_button.setToolTip("Remove the selected server from the sign-in list")
        self.forget_button.clicked.connect(self._forget_selected)
        self.servers.itemSelectionChanged.connect(self._sync_forget)
        self.servers_hint = role_label("No servers remembered yet: the ones you sign in to are "
                                       "listed here.", "subtle", name="servers_hint")
        servers_box = QVBoxLayout()
        servers_box.addWidget(self.servers)
        servers_box.addWidget(self.servers_hint)
        servers_box.addWidget(self.forget_button)

        self.poll = QDoubleSpinBox(objectName="poll_interval")
        self.poll.setRange(0.2, 600)
        self.poll.setDecimals(1)
        self.poll.setSuffix(" s")
        self.poll.setValue(settings.poll_interval)
        self.poll.setToolTip("How often progress is fetched when live updates are unavailable")

        self.theme = QComboBox(objectName="theme")
        for value in THEMES:
            self.theme.addItem(THEME_LABELS[value], value)
        self.theme.setCurrentIndex(THEMES.index(settings.theme))

        self.data_dir = QLineEdit(str(settings.local_data_dir), objectName="data_dir")
        self.data_dir.setPlaceholderText(str(default_data_dir()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_dir, 1)
        data_row.addWidget(browse)

        self.contact = QLineEdit(settings.contact, objectName="contact")
        self.contact.setPlaceholderText("you@example.org or https://your.lab.example")
        self.contact_error = role_label("", "error", name="contact_error")
        self.contact_error.hide()
        self.contact.textChanged.connect(self._check_contact)

        form = QFormLayout()
        form.addRow("Servers", servers_box)
        form.addRow("Poll interval", self.poll)
        form.addRow("Theme", self.theme)
        form.addRow("Local data folder", data_row)
        form.addRow("", role_label("The data folder of a PixCrawler server on this computer, "
                                   "for “Show in folder” in the gallery.", "subtle"))
        form.addRow("Your contact", self.contact)
        form.addRow("", self.contact_error)
        form.addRow("", role_label("An email or web page the sites your jobs download from see "
                                   "in PixCrawler's User-Agent (this computer's server, from "
                                   "its next start).", "subtle"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.accepted.connect(self.apply)
        self._sync_forget()

    def _sync_forget(self) -> None:
        """Forget acts on a selected server: with none selected (or none listed) it is off."""
        self.forget_button.setEnabled(bool(self.servers.selectedItems()))
        self.servers.setVisible(self.servers.count() > 0)
        self.servers_hint.setVisible(self.servers.count() == 0)
        self.forget_button.setVisible(self.servers.count() > 0)

    def _forget_selected(self) -> None:
        for item in self.servers.selectedItems():
            self.servers.takeItem(self.servers.row(item))
        self._sync_forget()

    def _check_contact(self) -> None:
        problem = contact_problem(self.contact.text())
        self.contact_error.setText(problem[0].upper() + problem[1:] + "." if problem else "")
        self.contact_error.setVisible(bool(problem))
        self.ok_button.setEnabled(problem is None)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Local data folder", self.data_dir.text())
        if folder:
            self.data_dir.setText(folder)

    def apply(self) -> None:
        kept = {self.servers.item(i).text() for i in range(self.servers.count())}
        for server in self.settings.servers:
            if server not in kept:
                self.settings.forget_server(server)
        self.settings.poll_interval = self.poll.value()
        self.settings.theme = self.theme.currentData()
        text = self.data_dir.text().strip()
        self.settings.local_data_dir = text if text and text != str(default_data_dir()) else None
        self.settings.contact = self.contact.text()
        self.settings.sync()
