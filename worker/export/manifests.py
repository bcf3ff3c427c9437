"""The text files of an export: manifest.csv, manifest.jsonl, ATTRIBUTION.md and README.md.

Each is produced as a stream of text pieces from the spool, so none is ever held whole.
Manifest rows hold the database's values unchanged (titles included, however odd); only the
Markdown files escape what they quote.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row

from worker.export.plan import Plan
from worker.export.spool import Spool

MANIFEST_CSV = "manifest.csv"
MANIFEST_JSONL = "manifest.jsonl"
ATTRIBUTION = "ATTRIBUTION.md"
README = "README.md"
FIELDS = (
    "image_id",
    "keyword",
    "split",
    "file",
    "engine",
    "query",
    "rank",
    "source_url",
    "page_url",
    "title",
    "license",
    "license_url",
    "creator",
    "attribution",
    "sha256",
    "bytes",
    "width",
    "height",
    "format",
    "downloaded_at",
    "validation_status",
    "validation_level",
    "validation_issues",
)
UNKNOWN_LICENSE = "licence unknown — check the source page before use"
PIECE = 64 * 1024  # characters gathered before a piece is handed on


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a 'Z', as the API writes times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def manifest_row(image: Row, file: str, split: str | None) -> dict[str, Any]:
    """One image's manifest entry, keys in FIELDS order."""
    return {
        "image_id": image.id,
        "keyword": image.keyword,
        "split": split,
        "file": file,
        "engine": image.engine,
        "query": image.query,
        "rank": image.rank,
        "source_url": image.source_url,
        "page_url": image.page_url,
        "title": image.title,
        "license": image.license,
        "license_url": image.license_url,
        "creator": image.creator,
        "attribution": image.attribution,
        "sha256": image.sha256,
        "bytes": image.bytes,
        "width": image.width,
        "height": image.height,
        "format": image.format,
        "downloaded_at": iso_utc(image.downloaded_at),
        "validation_status": str(image.validation_status),
        "validation_level": image.validation_level,
        "validation_issues": list(image.validation_issues or []),
    }


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


def csv_text(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """Spreadsheet-friendly: empty cells for missing values, lists joined by ';'."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FIELDS)
    for row in rows:
        writer.writerow([_cell(row[f]) for f in FIELDS])
        if buffer.tell() >= PIECE:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def jsonl_text(json_rows: Iterable[str]) -> Iterator[str]:
    """One JSON object per line, keeping types (nulls, numbers, issue lists); ``json_rows`` are
    manifest rows already encoded (see Spool.add), passed on without decoding them again."""
    lines: list[str] = []
    size = 0
    for text in json_rows:
        lines.append(text + "\n")
        size += len(text) + 1
        if size >= PIECE:
            yield "".join(lines)
            lines, size = [], 0
    yield "".join(lines)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md(text: str) -> str:
    """Text from the web made inert in Markdown: one line, markup characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def link(url: str | None, label: str | None = None) -> str:
    """A clickable http(s) link; anything else is shown as escaped text, never linked."""
    if not url:
        return md(label or "")
    if not re.match(r"https?://\S+$", url):
        return md(url if label is None else f"{label} ({url})")
    target = url.replace("<", "%3C").replace(">", "%3E").replace("(", "%28").replace(")", "%29")
    return f"<{target}>" if label is None else f"[{md(label)}]({target})"


def attribution_md(plan: Plan, spool: Spool) -> Iterator[str]:
    """Creators and licences grouped by licence, with links to each image's source."""
    yield (
        f"# Attribution\n\nThe images in this dataset were collected from the web by "
        f'PixCrawler (job {plan.job_id}, "{md(plan.job_name)}"). They remain the work of '
        "their creators under their own licences: check the terms before you use, share or "
        "publish them. Grouped by licence; images with no licence information come last.\n\n"
        "| Licence | Images |\n|---|---:|\n"
    )
    for name, count in spool.license_counts():
        yield f"| {md(name) if name else UNKNOWN_LICENSE} | {count} |\n"
    current: object = ()
    for row in spool.rows_by_license():
        group = row["license"] or None
        if group != current:
            current = group
            heading = md(group) if group else UNKNOWN_LICENSE[0].upper() + UNKNOWN_LICENSE[1:]
            yield f"\n## {heading}\n\n"
        yield attribution_line(row)


def attribution_line(row: dict[str, Any]) -> str:
    what = f'"{md(row["title"])}"' if row["title"] else "Image"
    if row["creator"]:
        what += f" by {md(row['creator'])}"
    parts = [f"- `{row['file']}`: {what}."]
    if row["page_url"]:
        parts.append(f"Source page: {link(row['page_url'])}.")
    parts.append(f"Image: {link(row['source_url'])}.")
    if row["license"]:
        parts.append(f"Licence: {link(row['license_url'], row['license'])}.")
    elif row["license_url"]:
        parts.append(f"Licence: {link(row['license_url'])}.")
    else:
        parts.append("Licence unknown — check the source page before use.")
    line = " ".join(parts)
    if row["attribution"]:
        line += f"\n  Attribution: {md(row['attribution'])}"
    return line + "\n"


def _table(header: list[str], rows: Iterable[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def readme_md(plan: Plan, spool: Spool) -> Iterator[str]:
    """What the dataset is and how it was made, for whoever finds the folder later."""
    splits = plan.options.splits
    filters = ", ".join(f"{k}={json.dumps(v)}" for k, v in plan.filters.items())
    include = {
        "all": "all images but those a person rejected, whatever their validation status "
               "(include=all)",
        "valid": "images validated as valid that no person rejected (include=valid)",
        "reviewed": "only images a person accepted (include=reviewed)",
    }[plan.options.include]
    split_text = ", ".join(f"{s.name} {s.fraction:g}" for s in splits) or "none"
    yield "\n".join(
        [
            f"# {md(plan.job_name)}",
            "",
            f"An image dataset exported from PixCrawler job {plan.job_id} on "
            f"{iso_utc(plan.exported_at)}.",
            "",
            f"- Keywords: {md(', '.join(plan.keywords))}",
            f"- Engines: {md(', '.join(plan.engines))}",
            f"- Filters: `{filters.replace('`', '')}`",
            f"- Included: {include}",
            f"- Validation: {_validation(plan)}",
            f"- Split: {split_text}",
            f"- Images: {spool.images} ({_size(spool.bytes)}); "
            f"missing files skipped: {spool.missing}",
            "",
            "## Layout",
            "",
            _layout(plan),
            "",
            f"- `{MANIFEST_CSV}`, `{MANIFEST_JSONL}`: one row per image: where it came from "
            "(engine, query, rank, source and page URL, title), its licence and creator, its "
            "SHA-256, size, format, download time, split and validation result. In the CSV, "
            "missing values are empty and validation issues are joined by ';'.",
            f"- `{ATTRIBUTION}`: creators and licences, grouped by licence.",
            "",
            "## Images per keyword",
            "",
            _counts(plan, spool),
        ]
    )
    if plan.notices:
        yield "\n\n## Terms and how it was crawled\n\n"
        yield "".join(f"- {md(notice)}\n" for notice in plan.notices)
    if splits:
        bounds, cumulative = [], 0.0
        for split in splits:
            cumulative += split.fraction
            bounds.append(f"{split.name} below {cumulative:g}")
        yield (
            "\n## How the split was made\n\nBy content: u = int(sha256[:16], 16) / 2^64 "
            "places each image in [0, 1), and it goes to the first split whose cumulative "
            f"fraction exceeds u ({', '.join(bounds)}). A duplicate (exact or near) that "
            "validation found takes the place of the image it duplicates, so a duplicate "
            "group never straddles splits. An export made again puts every image in the same "
            "split, and images added later never move the others; split sizes are close to "
            "the fractions, not exact.\n"
        )
        pairs = plan.cross_split_pairs
        yield (
            f"\nNear-duplicate pairs across splits: {pairs} (measured with the perceptual "
            "hashes of the job's slow validation).\n" if pairs is not None else
            "\nNear-duplicate pairs across splits: not measured (a slow validation computes "
            "the perceptual hashes this needs).\n"
        )
    if spool.missing:
        yield (
            f"\n## Missing files\n\n{spool.missing} image(s) are recorded in the job but their "
            "files could not be read, so they were skipped:\n\n"
        )
        for image_id, keyword, path, reason in spool.skipped():
            yield f"- image {image_id} ({md(keyword)}): `{path.replace('`', '')}`: {md(reason)}\n"


def _layout(plan: Plan) -> str:
    """How the images are laid out in this export's format, and how to load them."""
    splits = bool(plan.options.splits)
    names = ("File names are `<engine>-<rank>-<first 12 hex digits of the SHA-256>.<ext>`; "
             "labels are indexes into the keywords in the order of the table below.")
    folders = ("Class folders are the keywords' slugs, with a '+' after a word that loaders "
               "would take for a split name (`test tube` is `test+tube`).")
    export_format = plan.options.format
    if export_format == "webdataset":
        where = "`<split>/<name>-000000.tar`, ..." if splits else "`<name>-000000.tar`, ..."
        return (f"WebDataset tar shards, {where} of at most {plan.options.shard_mb} MB "
                "each. A sample is `<key>.<ext>` (the image), `<key>.cls` (its label) and "
                "`<key>.json` (its manifest row); keys have no dots. Samples follow their "
                "content hash, so a shard mixes the classes. Read them with "
                "`webdataset.WebDataset(<shard URLs>)`. In the manifests, `file` is "
                f"`<shard>/<key>.<ext>`. {names}")
    if export_format == "parquet":
        files = "one `<split>.parquet` per split" if splits else "`train.parquet`"
        return (f"Parquet, {files}, in row groups of at most 100 images. Columns: `image` "
                "(a struct of the file's `bytes` and its `path`), `label`, then the "
                "manifest's provenance and validation fields. The schema declares the "
                "`datasets` features (`Image`, and `ClassLabel` named by keyword), so "
                "`datasets.load_dataset(\"parquet\", data_dir=...)` decodes them; any "
                "Parquet reader sees plain columns. In the manifests, `file` is "
                f"`<parquet file>/<image path>`. {names}")
    layout = "<split>/<class>/<file>" if splits else "<class>/<file>"
    text = (f"`{layout}`: the layout torchvision's `ImageFolder` and Hugging Face's "
            "`imagefolder` read" + (", one root per split" if splits else "") + "; a class "
            f"is a keyword. {folders} {names}")
    if export_format == "huggingface":
        text += (" Each split folder has a `metadata.jsonl` (its `file_name` relative to "
                 "that folder, the `label`, and the provenance and validation fields). "
                 "`datasets.load_dataset(<this folder>)` reads the card above: labels come "
                 "as a `ClassLabel` named by keyword. `load_dataset(\"imagefolder\", "
                 "data_dir=...)` does not read the card, so there `label` is a plain "
                 "integer: `.cast_column(\"label\", ClassLabel(names=[...]))` with the "
                 "keywords in table order names it.")
    return text


def _validation(plan: Plan) -> str:
    run = plan.validation
    if run is None:
        return "not validated"
    when = (
        f"finished {iso_utc(run.finished_at)}"
        if run.finished_at
        else f"started {iso_utc(run.started_at)}"
    )
    return f"level {run.level}, {run.status}, {when}"


def _counts(plan: Plan, spool: Spool) -> str:
    """Images per keyword (every keyword of the job, even with none) and per split."""
    counts: dict[str, dict[str | None, int]] = {}
    for keyword, split, images, _ in spool.counts():
        counts.setdefault(keyword, {})[split] = images
    splits = [s.name for s in plan.options.splits]

    def cells(per: dict[str | None, int]) -> list[str]:  # one per split, then the total
        return [*(str(per.get(n, 0)) for n in splits), str(sum(per.values()))]

    rows = [
        [md(keyword), f"`{folder}`", *cells(counts.get(keyword, {}))]
        for keyword, folder in plan.folders.items()
    ]
    totals = {n: sum(c.get(n, 0) for c in counts.values()) for n in splits or [None]}
    rows.append(["**Total**", "", *cells(totals)])
    header = ["Keyword", "Folder", *splits, "Total"] if splits else ["Keyword", "Folder", "Images"]
    return _table(header, rows)
