"""The `huggingface` format's own files: a `metadata.jsonl` beside each split's images, and a
dataset card (`README.md` with YAML front matter) that declares the splits and features.

`datasets.load_dataset("imagefolder", data_dir=...)` reads the metadata: with it, labels are
no longer taken from folder names, so each row carries its `label` (an index into the
keywords) and the manifest's provenance and validation fields. The card's `configs` name every
split's files and the features, so the hub and `load_dataset(<folder>)` need no guessing from
folder names and give `label` as a ClassLabel named by keyword. `load_dataset("imagefolder",
data_dir=...)` does not read the card: `datasets` (5.2) then takes the features from the
metadata file alone, where a JSON number can only be an integer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from worker.export import manifests
from worker.export.plan import Plan
from worker.export.spool import Spool

METADATA = "metadata.jsonl"
# Manifest fields that go into the metadata, with their feature type in the card.
COLUMNS: dict[str, Any] = {
    "keyword": "string", "engine": "string", "query": "string", "rank": "int64",
    "source_url": "string", "page_url": "string", "title": "string", "license": "string",
    "license_url": "string", "creator": "string", "attribution": "string",
    "sha256": "string", "bytes": "int64", "width": "int64", "height": "int64",
    "format": "string", "downloaded_at": "string", "validation_status": "string",
    "validation_level": "string", "validation_issues": {"sequence": "string"},
}


def metadata_name(split: str | None) -> str:
    return f"{split}/{METADATA}" if split else METADATA


def metadata_jsonl(plan: Plan, rows: Iterable[dict[str, Any]], split: str | None,
                   ) -> Iterator[str]:
    """One line per image of the split; `file_name` is relative to the split's folder, as
    `datasets` requires."""
    label = {keyword: n for n, keyword in enumerate(plan.classes)}
    prefix = f"{split}/" if split else ""
    for row in rows:
        line = {"file_name": row["file"].removeprefix(prefix), "label": label[row["keyword"]]}
        line.update((key, row[key]) for key in COLUMNS)
        yield json.dumps(line, ensure_ascii=False) + "\n"


def card(plan: Plan, spool: Spool) -> Iterator[str]:
    """The README with the YAML front matter the hub reads first."""
    yield "---\n"
    yield from _front_matter(plan, spool)
    yield "---\n\n"
    yield from manifests.readme_md(plan, spool)


def _features(plan: Plan, indent: str) -> Iterator[str]:
    """The features as YAML list items: the image, a ClassLabel named by keyword, the rest."""
    q = json.dumps
    yield f"{indent}- name: image\n{indent}  dtype: image\n"
    yield f"{indent}- name: label\n{indent}  dtype:\n{indent}    class_label:\n"
    yield f"{indent}      names:\n"
    for n, keyword in enumerate(plan.classes):
        yield f"{indent}        '{n}': {q(keyword)}\n"
    for name, kind in COLUMNS.items():
        if isinstance(kind, dict):
            yield f"{indent}- name: {name}\n{indent}  list: {kind['sequence']}\n"
        else:
            yield f"{indent}- name: {name}\n{indent}  dtype: {kind}\n"


def _front_matter(plan: Plan, spool: Spool) -> Iterator[str]:
    q = json.dumps  # a JSON string is a YAML string: quotes and escapes all characters
    yield "configs:\n- config_name: default\n  data_files:\n"
    for split in plan.split_names:
        yield f"  - split: {q(split or 'train')}\n    path: {q(f'{split}/**' if split else '**')}\n"
    # Features in the config are what `load_dataset(<folder>)` applies (the label's names);
    # `dataset_info` is what the hub shows.
    yield "  features:\n"
    yield from _features(plan, "  ")
    yield "dataset_info:\n  features:\n"
    yield from _features(plan, "  ")
    yield "  splits:\n"
    counts: dict[str | None, int] = {}
    for _keyword, split, images, _size in spool.counts():
        counts[split] = counts.get(split, 0) + images
    for split in plan.split_names:
        yield f"  - name: {q(split or 'train')}\n    num_examples: {counts.get(split, 0)}\n"
    licences = [name for name, _n in spool.license_counts() if name]
    yield "license: other\n"  # images keep their own licences: see ATTRIBUTION.md
    if licences:
        yield "license_details: " + q("Each image keeps its own licence: "
                                      + ", ".join(licences) + "; see ATTRIBUTION.md") + "\n"
    yield "task_categories:\n- image-classification\n"
    yield f"pretty_name: {q(plan.job_name)}\n"
    yield "tags:\n- pixcrawler\n"
