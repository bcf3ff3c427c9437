"""What the zip and folder writers share: the images found on disk, then the text files.

Images come first and the manifests last: a dataset with a manifest is complete. An image
whose file is gone is skipped and named in the README rather than failing the whole export.
Images come as files of their own (imagefolder, huggingface) or packed, many to a file (tar
shards for webdataset, a Parquet file per split); either way one at a time, so no writer
holds more than one image or one row group.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from worker.export import columnar, hub, manifests, shards
from worker.export.items import Entry, Packed
from worker.export.plan import Plan, image_rows
from worker.export.spool import Spool

ANY_SPLIT = "*"  # entries(): every split at once


class OutsideJob(ValueError):
    """A stored path that leads out of the job's folder."""


class JobFiles:
    """Opens image files by their stored path, only inside the job's folder.

    Each folder is resolved once (symlinks and all) and checked; the file itself is opened
    with O_NOFOLLOW where the system has it, so a symlink in a file's place cannot lead out
    either. Resolving every file instead costs about 60 µs each, a tenth of the export's CPU.
    """

    FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)

    def __init__(self, data_dir: Path, job_id: int) -> None:
        self._root = os.path.realpath(data_dir)
        self._inside = os.path.join(self._root, "jobs", str(job_id), "")
        self._folders: dict[str, str | None] = {}  # as stored -> resolved, None if outside

    def open(self, file_path: str) -> tuple[str, BinaryIO]:
        """(real path, open file); OutsideJob, or OSError when it cannot be read."""
        folder, name = os.path.split(os.path.normpath(os.path.join(self._root, file_path)))
        if folder not in self._folders:
            real = os.path.realpath(folder)
            self._folders[folder] = real if (real + os.sep).startswith(self._inside) else None
        real_folder = self._folders[folder]
        if real_folder is None:
            raise OutsideJob("the stored path is outside the job's folder")
        path = os.path.join(real_folder, name)
        return path, os.fdopen(os.open(path, self.FLAGS), "rb")


def contents(session: Session, plan: Plan, spool: Spool) -> Iterator[Entry | Packed]:
    """The images in writing order: one Entry per image file, or the packed files of each
    split. Close it when done early: that closes the open file and the database cursor."""
    export_format = plan.options.format
    if export_format == "webdataset":
        for split in plan.split_names:
            with closing(entries(session, plan, spool, split)) as found:
                yield from shards.shards(plan, found, split)
    elif export_format == "parquet":
        for split in plan.split_names:
            with closing(entries(session, plan, spool, split)) as found:
                name = columnar.file_name(split)
                yield Packed(name, columnar.parquet(plan, found, name))
    else:
        with closing(entries(session, plan, spool)) as found:
            yield from found


def entries(session: Session, plan: Plan, spool: Spool,
            split: str | None = ANY_SPLIT) -> Iterator[Entry]:
    """Each included image (of one split, or of all) with its file open; recorded in the spool
    once the writer has taken it (the generator resumes only after the entry was written).
    Close it when done early: that closes the open file and the database cursor at once."""
    files = JobFiles(plan.data_dir, plan.job_id)
    with closing(image_rows(session, plan)) as rows:
        for image in rows:
            image_split, name = plan.place(image)
            if split != ANY_SPLIT and image_split != split:
                continue
            try:
                path, fh = files.open(image.file_path)
            except (OutsideJob, OSError) as exc:
                reason = str(exc) if isinstance(exc, OutsideJob) else exc.strerror
                spool.add_missing(image.id, image.keyword, image.file_path, reason or repr(exc))
                continue
            with fh:
                info = os.fstat(fh.fileno())
                if not stat.S_ISREG(info.st_mode):
                    spool.add_missing(
                        image.id, image.keyword, image.file_path, "not a regular file"
                    )
                    continue
                entry = Entry(name, path, fh, info.st_size, image.downloaded_at, image,
                              image_split)
                yield entry
            spool.add(entry.manifest_row(), info.st_size)


def documents(plan: Plan, spool: Spool) -> list[tuple[str, Iterator[str]]]:
    """The text files, in writing order, each a lazy stream of text; the README last (a
    dataset with its README is complete)."""
    docs = [
        (manifests.MANIFEST_CSV, manifests.csv_text(spool.rows())),
        (manifests.MANIFEST_JSONL, manifests.jsonl_text(spool.json_lines())),
        (manifests.ATTRIBUTION, manifests.attribution_md(plan, spool)),
    ]
    if plan.options.format == "huggingface":
        docs += [(hub.metadata_name(split),
                  hub.metadata_jsonl(plan, spool.rows_of_split(split), split))
                 for split in plan.split_names]
        docs.append((manifests.README, hub.card(plan, spool)))
    else:
        docs.append((manifests.README, manifests.readme_md(plan, spool)))
    return docs
