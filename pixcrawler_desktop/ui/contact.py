"""The first run's question: who may the sites we crawl contact about it?

Our User-Agent names PixCrawler and a contact (PIXCRAWLER_CONTACT); Wikimedia's policy requires
one and other sites block crawlers that give none. The app asks once, after the first sign-in
to "This computer", keeps the answer in its settings and gives it to the local server.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLineEdit, QVBoxLayout, QWidget

from pixcrawler_desktop.local.contact import CONTACT_VARIABLE, contact_problem
from pixcrawler_desktop.ui import resources
from pixcrawler_desktop.ui.forms import role_label

if TYPE_CHECKING:
    from pixcrawler_desktop.ui.localserver import LocalServer


def contact_in_environment() -> bool:
    """Whether the environment the app was started from sets the contact (it then wins)."""
    return bool(os.environ.get(CONTACT_VARIABLE, "").strip())


def contact_env(contact: str) -> dict[str, str]:
    """The local server's environment for `contact`."""
    return {CONTACT_VARIABLE: contact} if contact and not contact_in_environment() else {}


def give_contact(local: LocalServer, contact: str) -> None:
    """The local server's processes carry `contact` from their next start (unless the
    environment the app was started from sets one)."""
    if not contact_in_environment():
        local.set_env(CONTACT_VARIABLE, contact or None)


class ContactDialog(QDialog):
    """Asks for an email or web page; `contact()` is the answer once accepted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("PixCrawler — Your contact for sites")
        self.setWindowIcon(resources.app_icon())
        self.setMinimumWidth(460)
        intro = role_label(
            "Sites see who crawls them. Give an email address or a web page where their "
            "owners can reach you: Wikimedia requires one, and other sites block crawlers "
            "that give none. It is sent only to the sites your jobs download from.")
        self.edit = QLineEdit(objectName="contact")
        self.edit.setPlaceholderText("you@example.org or https://your.lab.example")
        self.error = role_label("", "error", name="contact_error")
        self.error.hide()
        buttons = QDialogButtonBox(objectName="contact_buttons")
        self.save_button = buttons.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
        self.later_button = buttons.addButton("Not now", QDialogButtonBox.ButtonRole.RejectRole)
        self.save_button.setDefault(True)
        self.save_button.setEnabled(False)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        self.edit.textChanged.connect(self._check)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.edit)
        layout.addWidget(self.error)
        layout.addWidget(role_label("You can change it later in Settings.", "subtle"))
        layout.addWidget(buttons)

    def contact(self) -> str:
        return self.edit.text().strip()

    def _check(self) -> None:
        problem = contact_problem(self.contact()) if self.contact() else None
        self.error.setText(problem[0].upper() + problem[1:] + "." if problem else "")
        self.error.setVisible(bool(problem))
        self.save_button.setEnabled(bool(self.contact()) and problem is None)

    def _save(self) -> None:
        if self.save_button.isEnabled():
            self.accept()
