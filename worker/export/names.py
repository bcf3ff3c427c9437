"""Names inside an export: class folders, image files and the archive's download name.

Every name is one safe path part built from our own slug, never from a stored path.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_SLUG_CHARS = 80
MAX_SLUG_BYTES = 200  # a file name is at most 255 bytes; CJK letters take 3 each in UTF-8
WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)
EXTENSIONS = {"jpeg": "jpg", "jpg": "jpg", "tiff": "tif", "tif": "tif"}


def slugify(text: str, fallback: str = "keyword") -> str:
    """Letters, digits and marks of any script kept (after NFKC), every other run of characters
    (separators, dots, spaces) one '-': never empty, '.', '..' or a Windows device name."""
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


# Hugging Face `datasets` finds splits by path patterns: a folder named with one of these words
# on its own, or next to one of these separators ("test-tube", "unit-test", "dev2"), is taken
# for that split wherever it sits, so a class folder "test-tube" under "train/" would join the
# test split too.
SPLIT_WORDS = frozenset({"train", "training", "validation", "valid", "dev", "val", "test",
                         "testing", "eval", "evaluation"})
_LOADER_SEPARATORS = re.compile(r"([-._ 0-9]+)")


def loader_safe(folder: str) -> str:
    """`folder` with a '+' after every split word, in place of the separator that follows it
    ("test-tube" -> "test+tube", "train" -> "train+", "dev2" -> "dev+2"): no loader then takes
    the class folder for a split, and the name still reads as the keyword."""
    parts = _LOADER_SEPARATORS.split(folder)  # words at even places, separators between
    if not any(word.lower() in SPLIT_WORDS for word in parts[0::2]):
        return folder
    out: list[str] = []
    for i, part in enumerate(parts):
        if i % 2 == 1 and parts[i - 1].lower() in SPLIT_WORDS:
            part = "+" + part.lstrip("-._ ")
        out.append(part)
    if parts[-1].lower() in SPLIT_WORDS:
        out.append("+")
    return "".join(out)


def keyword_folders(keywords: Iterable[str]) -> dict[str, str]:
    """keyword -> class folder, in first-seen order, unique even on case-insensitive file
    systems: a later keyword whose slug is taken gets '-2', '-3', ... ("C++", "C#" -> "C",
    "C-2"). Folders are `loader_safe`."""
    folders: dict[str, str] = {}
    taken: set[str] = set()
    for keyword in keywords:
        if keyword in folders:
            continue
        base = loader_safe(slugify(keyword))
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name.casefold())
        folders[keyword] = name
    return folders


def file_name(engine: str, rank: int, sha256: str, image_format: str) -> str:
    """``<engine>-<rank, 4 digits>-<sha256[:12]>.<ext>``: sorts by rank within an engine and
    stays unique within a keyword (one image per hash per job)."""
    fmt = image_format.lower()
    ext = EXTENSIONS.get(fmt) or slugify(fmt, "img")
    return f"{slugify(engine, 'engine')}-{rank:04d}-{sha256[:12]}.{ext}"


def archive_names(job_name: str, job_id: int) -> tuple[str, str]:
    """(ASCII, Unicode) download names ``<job-name-slug>-<job id>.zip``: HTTP headers carry
    only Latin-1, so the ASCII one goes in ``filename=`` and the other in ``filename*=``."""
    slug = slugify(job_name, "job")
    ascii_slug = slugify(
        unicodedata.normalize("NFKD", slug).encode("ascii", "ignore").decode(), "job"
    )
    return f"{ascii_slug}-{job_id}.zip", f"{slug}-{job_id}.zip"
