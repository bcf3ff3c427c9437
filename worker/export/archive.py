"""A job's dataset as one zip stream: images stored, then the manifests and notes deflated."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing

from sqlalchemy.orm import Session

from worker.export.dataset import documents, entries
from worker.export.plan import Plan
from worker.export.spool import Spool
from worker.export.zipstream import ZipStream


def stream_zip(session: Session, plan: Plan) -> Iterator[bytes]:
    """The archive's bytes, produced only as fast as they are consumed."""
    with Spool() as spool, closing(entries(session, plan, spool)) as images:
        archive = ZipStream()
        for entry in images:
            yield from archive.add_file(entry.name, entry.file, entry.size, entry.modified)
        for name, text in documents(plan, spool):
            yield from archive.add_text(name, text, plan.exported_at)
        yield from archive.close()
