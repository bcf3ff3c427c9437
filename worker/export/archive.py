"""A job's dataset as one zip stream: images (or the shards or Parquet files that hold them)
stored, then the manifests and notes deflated."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing

from sqlalchemy.orm import Session

from worker.export.dataset import contents, documents
from worker.export.items import Packed
from worker.export.plan import Plan
from worker.export.spool import Spool
from worker.export.zipstream import ZipStream


def stream_zip(session: Session, plan: Plan) -> Iterator[bytes]:
    """The archive's bytes, produced only as fast as they are consumed."""
    with Spool() as spool, closing(contents(session, plan, spool)) as images:
        archive = ZipStream()
        for item in images:
            if isinstance(item, Packed):
                yield from archive.add_stream(item.name, item.pieces, plan.exported_at)
            else:
                yield from archive.add_file(item.name, item.file, item.size, item.modified)
        for name, text in documents(plan, spool):
            yield from archive.add_text(name, text, plan.exported_at)
        yield from archive.close()
