"""Jobs left paused at quit, and the quit question that leaves them so.

The API has no pause: a job's statuses are the seed contract's (pending, running, completed,
failed, cancelled). "Pause until next time" therefore cancels the job on the server, which
keeps every image it downloaded, and remembers in the app's settings, per server, that the
user meant a pause. At the next launch such a job says it is paused and waits; Start retries
its open chunks, which resume where they stopped (a chunk skips the ranks it has recorded).
The CLI sees a cancelled job, which `pixcrawler retry` resumes the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from pixcrawler_desktop.client.models import Job
from pixcrawler_desktop.ui.settings import AppSettings

CANCEL, PAUSE, STAY = "cancel", "pause", "stay"


class PausedJobs:
    """The pause marks of one server (its identity: the local data folder or the URL)."""

    def __init__(self, settings: AppSettings, server: str) -> None:
        self.settings = settings
        self.server = server

    def marks(self) -> dict[int, str]:
        """Job id -> when it was paused (ISO time, UTC)."""
        return self.settings.paused_jobs(self.server)

    def since(self, job_id: int) -> datetime | None:
        when = self.marks().get(job_id)
        try:
            return datetime.fromisoformat(when) if when else None
        except ValueError:
            return None

    def add(self, job_ids: Iterable[int]) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self.settings.set_paused_jobs(self.server,
                                      {**self.marks(), **dict.fromkeys(job_ids, now)})

    def discard(self, job_id: int) -> None:
        marks = self.marks()
        if marks.pop(job_id, None) is not None:
            self.settings.set_paused_jobs(self.server, marks)

    def prune(self, jobs: Iterable[Job]) -> set[int]:
        """Forget marks of jobs that are gone or were started meanwhile (by the CLI, another
        window); returns the ids still paused."""
        status = {job.id: job.status for job in jobs}
        marks = self.marks()
        kept = {i: w for i, w in marks.items() if status.get(i) == "cancelled"}
        if kept != marks:
            self.settings.set_paused_jobs(self.server, kept)
        return set(kept)


def quit_question(parent: QWidget, running: list[Job]) -> tuple[QMessageBox,
                                                                dict[str, QPushButton]]:
    """The question asked when quitting would stop running jobs: cancel them, leave them
    paused for next time, or stay. Pause is the default (nothing is lost either way), Esc
    stays."""
    names = (f"“{running[0].name}” is" if len(running) == 1
             else f"{len(running)} jobs are")
    box = QMessageBox(QMessageBox.Icon.Question, "PixCrawler — Quit",
                      f"{names} still running. The local server stops when PixCrawler quits.",
                      QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("quit_question")
    box.setInformativeText(
        "Pause: at the next launch it waits for Start and goes on from where it stopped.\n"
        "Cancel: it ends now. Either way the images downloaded so far are kept.")
    buttons = {
        PAUSE: box.addButton("Pause until next time", QMessageBox.ButtonRole.AcceptRole),
        CANCEL: box.addButton("Cancel the job" if len(running) == 1 else "Cancel the jobs",
                              QMessageBox.ButtonRole.DestructiveRole),
        STAY: box.addButton("Stay", QMessageBox.ButtonRole.RejectRole),
    }
    for key, button in buttons.items():
        button.setObjectName(f"quit_{key}")
    box.setDefaultButton(buttons[PAUSE])
    box.setEscapeButton(buttons[STAY])
    return box, buttons
