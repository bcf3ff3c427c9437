"""Writing a crawl's images out as a dataset: one folder per keyword and a manifest.

The folder may be read by training code while it is being written, or be left behind by a
crash, so every file appears whole or not at all (temporary name, then an atomic rename), and
the manifests come last: a folder with a manifest is a finished dataset. Names come from our
own slug of the keyword and the image's engine, rank and hash, never from a path the server
sent, so nothing can land outside the folder.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pixcrawler_desktop.client import AuthError, ConnectionLost, Image

MANIFEST_CSV = "manifest.csv"
MANIFEST_JSONL = "manifest.jsonl"
FIELDS = ("image_id", "keyword", "engine", "rank", "source_url", "page_url", "title", "file",
          "sha256", "bytes", "width", "height", "format", "validation_status",
          "validation_level", "validation_issues")
MAX_SLUG_CHARS = 80
MAX_SLUG_BYTES = 200
WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                    *(f"lpt{i}" for i in range(10))}
EXTENSIONS = {"jpeg": "jpg", "jpg": "jpg", "png": "png", "gif": "gif", "webp": "webp",
              "bmp": "bmp", "tiff": "tif", "tif": "tif"}
WORKERS = 8

Fetch = Callable[[Image], bytes]


def slugify(text: str, fallback: str = "keyword") -> str:
    """A readable, safe folder or file name part: letters, digits and marks of any script are
    kept, every other run of characters (separators, dots, spaces) becomes one '-'."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFKC", text):
        if ch == "_" or unicodedata.category(ch)[0] in "LNM":
            out.append(ch)
        elif out and out[-1] != "-":
            out.append("-")
    slug = "".join(out).strip("-")[:MAX_SLUG_CHARS]
    while len(slug.encode("utf-8")) > MAX_SLUG_BYTES:
        slug = slug[:-1]
    slug = slug.strip("-") or fallback
    return f"{slug}-" if slug.lower() in WINDOWS_RESERVED else slug


def keyword_folders(keywords: Iterable[str]) -> dict[str, str]:
    """keyword -> folder name, unique even on case-insensitive file systems ("C++" and "C#"
    both slug to "C": the second becomes "C-2"), in the job's keyword order."""
    folders: dict[str, str] = {}
    taken: set[str] = set()
    for keyword in keywords:
        if keyword in folders:
            continue
        base = slugify(keyword)
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name.casefold())
        folders[keyword] = name
    return folders


def file_name(image: Image) -> str:
    ext = EXTENSIONS.get(image.format.lower()) or slugify(image.format.lower(), "img")
    return f"{slugify(image.engine, 'engine')}-{image.rank:04d}-{image.sha256[:12]}.{ext}"


@dataclass
class Dataset:
    folder: Path
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one line per image not written

    @property
    def manifest_csv(self) -> Path:
        return self.folder / MANIFEST_CSV

    @property
    def manifest_jsonl(self) -> Path:
        return self.folder / MANIFEST_JSONL


def check_destination(folder: Path) -> None:
    """Refuse a folder that already holds files: mixing two crawls in one dataset would leave
    files that the new manifest does not list."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise FileExistsError(f"{folder} already exists and is not an empty folder")


def write_dataset(folder: Path, keywords: Sequence[str], images: Sequence[Image],
                  fetch: Fetch, on_file: Callable[[], None] | None = None) -> Dataset:
    """Fetch each image, check its sha256, write it in place; then the manifests.

    An image whose bytes do not match its recorded hash (or cannot be fetched) is left out
    and listed in `skipped` rather than stopping the whole export; losing the server or the
    sign-in does stop it, as every other image would fail the same way.
    """
    dataset = Dataset(folder)
    folders = keyword_folders([*keywords, *(i.keyword for i in images)])
    folder.mkdir(parents=True, exist_ok=True)
    for name in folders.values():
        (folder / name).mkdir(exist_ok=True)

    def save(image: Image) -> dict[str, Any] | str:
        try:
            data = fetch(image)
        except (ConnectionLost, AuthError):
            raise
        except Exception as exc:  # one unreadable image must not lose the others
            return f"image {image.id}: {exc}"
        if hashlib.sha256(data).hexdigest() != image.sha256:
            return f"image {image.id}: its bytes do not match the recorded sha256"
        relative = f"{folders[image.keyword]}/{file_name(image)}"
        write_atomic(folder / relative, data)
        return manifest_row(image, relative)

    for outcome in _map(save, images):
        if isinstance(outcome, str):
            dataset.skipped.append(outcome)
        else:
            dataset.rows.append(outcome)
        if on_file is not None:
            on_file()
    order = {keyword: i for i, keyword in enumerate(folders)}
    dataset.rows.sort(key=lambda r: (order[r["keyword"]], r["engine"], r["rank"]))
    write_manifests(dataset)
    return dataset


def _map(func: Callable[[Image], Any], images: Sequence[Image]) -> Iterator[Any]:
    """Results in order, several fetches at a time. On an interrupt the queued fetches are
    dropped instead of waited for."""
    pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="dataset")
    try:
        yield from pool.map(func, images)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def manifest_row(image: Image, relative: str) -> dict[str, Any]:
    return {"image_id": image.id, "keyword": image.keyword, "engine": image.engine,
            "rank": image.rank, "source_url": image.source_url, "page_url": image.page_url,
            "title": image.title, "file": relative, "sha256": image.sha256,
            "bytes": image.bytes, "width": image.width, "height": image.height,
            "format": image.format, "validation_status": image.validation_status,
            "validation_level": image.validation_level,
            "validation_issues": list(image.validation_issues)}


def write_manifests(dataset: Dataset) -> None:
    """JSON lines keep types (lists, nulls); the CSV is for spreadsheets: issues joined by ';'
    and empty cells for missing values."""
    rows = dataset.rows
    jsonl = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    write_atomic(dataset.manifest_jsonl, jsonl.encode("utf-8"))
    write_atomic(dataset.manifest_csv, buffer.getvalue().encode("utf-8"))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def write_atomic(path: Path, data: bytes) -> None:
    """A hidden temporary file in the same folder, then a rename over the final name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def local_reader(data_dir: Path) -> Fetch:
    """Read an image from the local backend's data folder, refusing paths that leave it."""
    root = data_dir.resolve()

    def read(image: Image) -> bytes:
        path = (root / image.file_path).resolve()
        if not path.is_relative_to(root):
            raise ValueError(f"file path {image.file_path!r} is outside the data folder")
        return path.read_bytes()

    return read
