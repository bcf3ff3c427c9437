"""`pixcrawler export JOB --out PATH`: a job's dataset as a zip file or a folder.

A zip is downloaded as the server streams it. A folder is written by the server itself when it
runs on this computer (embedded mode: no copy over HTTP); any other server's zip is downloaded
and unpacked here. Either way the result appears whole or not at all, and Ctrl-C leaves
nothing behind. The job is the signed-in server's, or with `--local` (or no sign-in at all)
the local backend's, started for the export unless an app runs it. `pixcrawler crawl` writes
its dataset the same way, with the same options: the server's export is the one dataset
writer.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pixcrawler_desktop.cli.context import Context
from pixcrawler_desktop.cli.exitcodes import OK, UsageError
from pixcrawler_desktop.cli.extract import extract_dataset
from pixcrawler_desktop.cli.progress import byte_progress
from pixcrawler_desktop.cli.session import job_session
from pixcrawler_desktop.client import ForbiddenError, PixCrawlerClient, is_local_server

DOWNLOAD = "export.zip"


def split_spec(text: str) -> str:
    """`train:0.8, val:0.2` → `train:0.8,val:0.2`; the server checks names and sums."""
    parts = [p.strip() for p in text.split(",")]
    for part in parts:
        name, colon, value = part.partition(":")
        try:
            ok = bool(colon and name.strip()) and float(value) > 0
        except ValueError:
            ok = False
        if not ok:
            raise argparse.ArgumentTypeError(
                f"{part!r} is not NAME:FRACTION (e.g. train:0.8,val:0.1,test:0.1)"
            )
    return ",".join(f"{n.strip()}:{v.strip()}" for n, _, v in (p.partition(":") for p in parts))


def check_destination(folder: Path) -> None:
    """Refuse a folder that already holds files: mixing two datasets in one would leave files
    that the new manifest does not list."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise FileExistsError(f"{folder} already exists and is not an empty folder")


def run(args: argparse.Namespace, ctx: Context) -> int:
    out = Path(args.out).expanduser().resolve()
    if not args.zip:
        try:
            check_destination(out)
        except FileExistsError as exc:
            raise UsageError(f"--out: {exc}") from None
    with job_session(args, ctx, signed_in_default=True) as session:
        client = session.client
        if args.zip:
            result = _zip(client, args, ctx, out)
        else:
            result = write_folder(client, args.job, out, ctx, include=args.include,
                                  split=args.split, export_format=args.format,
                                  shard_mb=args.shard_mb)
    ctx.out.data(result, _summary(result))
    if result.get("missing"):
        ctx.out.warn(
            f"{result['missing']} images were left out because their files are "
            "gone; the dataset's README.md lists them"
        )
    return OK


def _zip(
    client: PixCrawlerClient, args: argparse.Namespace, ctx: Context, out: Path
) -> dict[str, Any]:
    out.parent.mkdir(parents=True, exist_ok=True)
    with byte_progress(ctx.out, f"job {args.job} export") as progress:
        path = client.download_export(
            args.job, out, include=args.include, split=args.split,
            export_format=args.format, shard_mb=args.shard_mb, progress=progress
        )
    return {
        "job_id": args.job,
        "format": "zip",
        "path": str(path),
        "bytes": path.stat().st_size,
        "images": None,
        "missing": None,
    }


def write_folder(client: PixCrawlerClient, job_id: int, out: Path, ctx: Context, *,
                 include: str = "all", split: str | None = None,
                 export_format: str = "imagefolder",
                 shard_mb: int | None = None) -> dict[str, Any]:
    """The job's dataset as the folder `out`: written by this computer's own server, else
    downloaded as a zip and unpacked."""
    if is_local_server(client.base_url):
        ctx.out.info(f"Writing job {job_id}'s dataset to {out} …")
        try:
            written = client.export_to_folder(job_id, out, include=include, split=split,
                                              export_format=export_format, shard_mb=shard_mb)
        except ForbiddenError:  # a server-mode server here (or not your job: the GET says)
            ctx.out.info(
                "This server writes folders only in embedded mode; downloading the "
                "zip to unpack it here …"
            )
        else:
            return {
                "job_id": job_id,
                "format": "folder",
                "path": written.path,
                "bytes": written.bytes,
                "images": written.images,
                "missing": written.missing,
            }
    with _scratch(out) as scratch, byte_progress(ctx.out, f"job {job_id} export") as progress:
        archive = client.download_export(
            job_id, scratch / DOWNLOAD, include=include, split=split,
            export_format=export_format, shard_mb=shard_mb, progress=progress
        )
        done = extract_dataset(archive, out)
    return {
        "job_id": job_id,
        "format": "folder",
        "path": str(done.folder),
        "bytes": done.bytes,
        "images": done.images,
        "missing": None,
    }


@contextlib.contextmanager
def _scratch(out: Path) -> Iterator[Path]:
    """A hidden folder beside the destination (same disk, so nothing is copied twice),
    removed with the downloaded zip in it whatever happens."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(
        prefix=f".{out.name}.", suffix=".download", dir=out.parent
    ) as folder:
        yield Path(folder)


def _summary(result: dict[str, Any]) -> str:
    size = f"{result['bytes'] / 1_000_000:.1f} MB"
    what = f"{result['images']} images ({size})" if result["images"] is not None else size
    return f"Exported job {result['job_id']}: {what} to {result['path']}"
