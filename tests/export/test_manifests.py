"""The text files: manifest columns and types, attribution grouped by licence, the README."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from worker.export.manifests import (
    FIELDS,
    UNKNOWN_LICENSE,
    attribution_md,
    csv_text,
    jsonl_text,
    manifest_row,
    readme_md,
)
from worker.export.plan import Options, Plan, Validation
from worker.export.split import parse_split
from worker.export.spool import Spool

WHEN = datetime(2026, 3, 1, 12, 0, 5, 250000, tzinfo=UTC)


def image(n: int, keyword: str = "cat", **fields) -> SimpleNamespace:
    values = dict(
        id=n,
        keyword=keyword,
        engine="bing",
        query=f"{keyword} photo",
        rank=n,
        source_url=f"https://img.example/{n}.jpg",
        page_url=f"https://page.example/{n}",
        title=f"Title {n}",
        license=None,
        license_url=None,
        creator=None,
        attribution=None,
        sha256=f"{n:064x}",
        bytes=100 + n,
        width=640,
        height=480,
        format="jpeg",
        downloaded_at=WHEN,
        validation_status="valid",
        validation_level="medium",
        validation_issues=[],
    )
    values.update(fields)
    return SimpleNamespace(**values)


def plan(splits: str | None = "train:0.8,val:0.2", include: str = "valid") -> Plan:
    return Plan(
        job_id=7,
        job_name="Pets | *best*",
        keywords=("cat", "dog"),
        engines=("bing",),
        filters={"safe_search": True, "license": "any"},
        options=Options(include, parse_split(splits) if splits else ()),  # type: ignore[arg-type]
        folders={"cat": "cat", "dog": "dog"},
        validation=Validation("medium", "completed", WHEN, WHEN),
        split_keys={},
        cross_split_pairs=None,
        data_dir=Path("/nowhere"),
        exported_at=WHEN,
    )


def spooled(*rows: tuple[SimpleNamespace, str | None]) -> Spool:
    spool = Spool()
    for img, split in rows:
        folder = f"{split}/{img.keyword}" if split else img.keyword
        spool.add(manifest_row(img, f"{folder}/bing-{img.rank:04d}.jpg", split), img.bytes)
    return spool


def test_manifest_row_has_the_contract_columns_in_order():
    row = manifest_row(image(1, validation_issues=["grayscale", "blurry"]), "cat/a.jpg", "train")
    assert tuple(row) == FIELDS
    assert row["downloaded_at"] == "2026-03-01T12:00:05.250000Z"
    assert row["split"] == "train" and row["file"] == "cat/a.jpg"
    assert row["validation_issues"] == ["grayscale", "blurry"]


def test_csv_and_jsonl_agree_and_keep_odd_values():
    odd = image(
        2,
        title='=cmd|"x"\nsecond line',
        page_url=None,
        width=None,
        validation_issues=["a", "b"],
        license="CC0",
    )
    with spooled((image(1), None), (odd, None)) as spool:
        table = list(csv.DictReader(io.StringIO("".join(csv_text(spool.rows())))))
        lines = "".join(jsonl_text(spool.json_lines())).splitlines()
    assert tuple(table[0]) == FIELDS
    assert table[1]["title"] == '=cmd|"x"\nsecond line'  # the database's value, unchanged
    assert table[1]["page_url"] == "" and table[1]["width"] == ""
    assert table[1]["validation_issues"] == "a;b" and table[0]["validation_issues"] == ""
    assert table[0]["split"] == "" and table[0]["rank"] == "1"
    rows = [json.loads(line) for line in lines]
    assert list(rows[1]) == list(FIELDS)
    assert rows[1]["page_url"] is None and rows[1]["width"] is None
    assert rows[1]["validation_issues"] == ["a", "b"] and rows[0]["rank"] == 1


def test_big_manifests_come_in_pieces():
    with spooled(*((image(n), None) for n in range(2000))) as spool:
        pieces = list(csv_text(spool.rows()))
        assert len(pieces) > 3 and max(map(len, pieces)) < 70_000


def test_attribution_grouped_by_licence_unknown_last():
    rows = [
        (
            image(
                1,
                license="CC BY 4.0",
                license_url="https://creativecommons.org/licenses/by/4.0/",
                creator="Ann",
                attribution="Photo by Ann (CC BY 4.0)",
            ),
            None,
        ),
        (image(2), None),
        (
            image(
                3,
                license="CC0",
                title="[click](javascript:alert(1))",
                creator="<b>Bo</b>",
                license_url="javascript:alert(1)",
            ),
            None,
        ),
        (
            image(
                4,
                license="CC BY 4.0",
                license_url="https://creativecommons.org/licenses/by/4.0/",
                page_url=None,
            ),
            None,
        ),
    ]
    with spooled(*rows) as spool:
        text = "".join(attribution_md(plan(None), spool))
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## CC BY 4.0", "## CC0", "## " + UNKNOWN_LICENSE.capitalize()]
    assert "| CC BY 4.0 | 2 |" in text and f"| {UNKNOWN_LICENSE} | 1 |" in text
    by_cc = text.split("## CC BY 4.0")[1].split("## CC0")[0]
    assert '`cat/bing-0001.jpg`: "Title 1" by Ann.' in by_cc
    assert "Source page: <https://page.example/1>." in by_cc
    assert "Licence: [CC BY 4.0](https://creativecommons.org/licenses/by/4.0/)." in by_cc
    assert "Attribution: Photo by Ann (CC BY 4.0)" in by_cc
    assert "`cat/bing-0004.jpg`" in by_cc
    hostile = text.split("## CC0")[1].split("\n## ")[0]
    assert "[click](" not in hostile and "<b>" not in hostile  # inert, shown as text
    assert "\\[click\\](javascript" in hostile and "Licence: CC0 (javascript" in hostile
    unknown = text.split("## " + UNKNOWN_LICENSE.capitalize())[1]
    assert "`cat/bing-0002.jpg`" in unknown
    assert "Licence unknown — check the source page before use." in unknown


def test_readme_describes_the_export():
    rows = [(image(1), "train"), (image(2), "train"), (image(3), "val"), (image(4, "dog"), "val")]
    with spooled(*rows) as spool:
        spool.add_missing(99, "dog", "jobs/7/dog/bing-9-x.jpg", "No such file or directory")
        text = "".join(readme_md(plan(), spool))
    assert text.startswith("# Pets \\| \\*best\\*\n")
    assert "job 7 on 2026-03-01T12:00:05.250000Z" in text
    assert "- Keywords: cat, dog\n" in text and "- Engines: bing\n" in text
    assert '- Filters: `safe_search=true, license="any"`' in text
    assert "- Included: images validated as valid that no person rejected (include=valid)" in text
    assert "- Validation: level medium, completed, finished 2026-03-01T12:00:05.250000Z" in text
    assert "- Split: train 0.8, val 0.2\n" in text
    assert "- Images: 4 (0.4 kB); missing files skipped: 1" in text
    assert "`<split>/<class>/<file>`" in text
    assert "| Keyword | Folder | train | val | Total |" in text
    assert "| cat | `cat` | 2 | 1 | 3 |" in text and "| dog | `dog` | 0 | 1 | 1 |" in text
    assert "| **Total** |  | 2 | 2 | 4 |" in text
    assert "train below 0.8, val below 1" in text
    assert "- image 99 (dog): `jobs/7/dog/bing-9-x.jpg`: No such file or directory" in text


def test_readme_without_split_or_validation():
    with spooled((image(1), None), (image(2), None)) as spool:
        text = "".join(readme_md(replace(plan(None, "all"), validation=None), spool))
    assert "- Validation: not validated" in text and "(include=all)" in text
    assert "- Split: none\n" in text and "`<class>/<file>`" in text
    assert "| Keyword | Folder | Images |\n" in text
    assert "| cat | `cat` | 2 |" in text and "| dog | `dog` | 0 |" in text
    assert "How the split was made" not in text and "## Missing files" not in text
