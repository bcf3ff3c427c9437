"""Showing a running job: live bars at a terminal, plain lines in a log, JSON lines for scripts.

All of it goes to stderr except the JSON lines of `jobs watch --json`, which are the command's
data. Bars are shown per keyword × engine chunk and for the whole job; with many chunks only
the running ones get a bar, so the display stays a screenful.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from pixcrawler_desktop.cli.output import Output
from pixcrawler_desktop.client import Chunk, Engine, ValidationSummary
from pixcrawler_desktop.client import Progress as JobProgress
from pixcrawler_desktop.client.quota import chunk_wait, job_wait

MAX_CHUNK_ROWS = 12  # beyond this, finished and waiting chunks lose their bar


class View(Protocol):
    def job(self, progress: JobProgress, chunks: Sequence[Chunk]) -> None: ...
    def validation(self, summary: ValidationSummary) -> None: ...
    def close(self) -> None: ...


def make_view(out: Output, *, json_lines: bool = False,
              engines: Sequence[Engine] = ()) -> View:
    """The right view for where the output goes; chunk warnings, and waits for a search
    quota, are said as they appear."""
    if json_lines:
        view: View = JsonLinesView(out)
    elif out.quiet:
        view = NullView()
    else:
        console = Console(stderr=True)
        view = RichView(console) if console.is_terminal else LineView(out)
    return WarningsView(view, out, engines)


@contextlib.contextmanager
def byte_progress(out: Output, description: str) -> Iterator[Callable[[int], None]]:
    """A callback for bytes received so far: a live bar at a terminal, silence elsewhere
    (the command prints its result when done)."""
    console = Console(stderr=True)
    if out.quiet or not console.is_terminal:
        yield lambda _received: None
        return
    bars = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                    TransferSpeedColumn(), TimeElapsedColumn(), console=console)
    with bars:
        task = bars.add_task(description, total=None)
        yield lambda received: bars.update(task, completed=received)


class WarningsView:
    """Passes everything on to `view`, and says on stderr each chunk warning once, as soon as
    it appears (a filter an engine cannot apply should not wait for the end of a long
    crawl), and why the job waits whenever which chunks wait for a search quota changes."""

    def __init__(self, view: View, out: Output, engines: Sequence[Engine] = ()) -> None:
        self.view = view
        self.out = out
        self.engines = engines
        self._said: set[str] = set()
        self._waiting: frozenset[int] = frozenset()

    def job(self, progress: JobProgress, chunks: Sequence[Chunk]) -> None:
        for chunk in chunks:
            for warning in chunk.warnings:
                if warning not in self._said:
                    self._said.add(warning)
                    self.out.warn(warning)
        waiting = frozenset(c.id for c in chunks if chunk_wait(c))
        if waiting != self._waiting:
            self._waiting = waiting
            if line := job_wait(chunks, self.engines):
                self.out.info(line)
        self.view.job(progress, chunks)

    def validation(self, summary: ValidationSummary) -> None:
        self.view.validation(summary)

    def close(self) -> None:
        self.view.close()


class NullView:
    def job(self, progress: JobProgress, chunks: Sequence[Chunk]) -> None:
        pass

    def validation(self, summary: ValidationSummary) -> None:
        pass

    def close(self) -> None:
        pass


class JsonLinesView(NullView):
    """One JSON object per change of the job's progress, on stdout."""

    def __init__(self, out: Output) -> None:
        self.out = out
        self._last: str | None = None

    def job(self, progress: JobProgress, chunks: Sequence[Chunk]) -> None:
        text = progress.model_dump_json()
        if text != self._last:
            self._last = text
            self.out.json_line(progress)


class LineView(NullView):
    """A line on stderr whenever the status or the percentage changes, for logs and pipes."""

    def __init__(self, out: Output) -> None:
        self.out = out
        self._last: tuple | None = None

    def job(self, progress: JobProgress, chunks: Sequence[Chunk]) -> None:
        key = (progress.status, progress.progress)
        if key == self._last:
            return
        self._last = key
        self.out.info(f"job {progress.job_id}: {progress.status} {progress.progress}% — "
                      f"{progress.downloaded_images} images, {progress.active_chunks} chunks "
                      f"running, {progress.failed_chunks} failed")

    def validation(self, summary: ValidationSummary) -> None:
        key = ("validation", summary.status, summary.validated)
        if key != self._last:
            self._last = key
            self.out.info(f"validation ({summary.level}): {summary.status} — "
                          f"{summary.validated}/{summary.images_total} checked")


class RichView:
    """Live bars on the terminal: the job's total, and one per chunk."""

    def __init__(self, console: Console) -> None:
        self.bars = Progress(TextColumn("{task.description}"), BarColumn(),
                             MofNCompleteColumn(), TextColumn("{task.fields[note]}"),
                             TimeElapsedColumn(), console=console, transient=False)
        self.bars.start()
        self._total: TaskID | None = None
        self._chunks: dict[int, TaskID] = {}
        self._validation: TaskID | None = None

    def job(self, progress: JobProgress, chunks: Sequence[Chunk]) -> None:
        if self._total is None:
            self._total = self.bars.add_task(f"job {progress.job_id}", total=100, note="")
        self.bars.update(self._total, completed=progress.progress,
                         note=f"{progress.status}, {progress.downloaded_images} images")
        show_all = len(chunks) <= MAX_CHUNK_ROWS
        for chunk in chunks:
            task = self._chunks.get(chunk.id)
            if task is None:
                task = self.bars.add_task(f"  {chunk.keyword} · {chunk.engine}",
                                          total=chunk.target, note="")
                self._chunks[chunk.id] = task
            note = chunk_wait(chunk) or (
                chunk.status if not chunk.last_error else f"{chunk.status}: {chunk.last_error}")
            self.bars.update(task, completed=chunk.downloaded, total=chunk.target, note=note,
                             visible=show_all or chunk.status == "running")

    def validation(self, summary: ValidationSummary) -> None:
        if self._validation is None:
            self._validation = self.bars.add_task(f"validation ({summary.level})",
                                                  total=summary.images_total, note="")
        self.bars.update(self._validation, completed=summary.validated,
                         total=summary.images_total, note=summary.status)

    def close(self) -> None:
        self.bars.stop()
