"""The `parquet` format: one Parquet file per split, `<split>.parquet`, the images inside.
Without splits the one file is `train.parquet`, the name loaders give a dataset without splits:
any other name would have `load_dataset("parquet", data_dir=...)` take the manifests for data.

Columns follow what `datasets` writes for an image dataset: `image` is the `{bytes, path}`
struct of its `Image` feature, `label` an index into the keywords, then the provenance and
validation fields of the `huggingface` format. The features (`Image`, `ClassLabel` with the
keywords as names) are declared in the schema metadata under `huggingface`, which is where
`datasets` looks, so `load_dataset("parquet", ...)` decodes the images and names the labels;
any other Parquet reader sees plain columns. Row groups hold at most ROWS images or about
GROUP_BYTES, so a reader (or the hub's viewer) can fetch a few images without the whole file,
and the writer holds one row group at a time.

pyarrow writes it: it is what `datasets` itself reads and writes with. It is an optional
dependency (the `parquet` extra), since no Parquet writer fits the desktop installer's last
megabyte under 150 MB (installed: pyarrow 171 MB, duckdb 69 MB, fastparquet with pandas and
cramjam 56 MB, polars with its runtime over 100 MB); the installer goes without and says so.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from worker.export.hub import COLUMNS
from worker.export.items import Entry
from worker.export.pieces import Pieces

if TYPE_CHECKING:
    from worker.export.plan import Plan

ROWS = 100  # what `datasets` itself uses for image row groups
GROUP_BYTES = 64 * 1024 * 1024
MISSING = (
    "Parquet export needs pyarrow, which this installation leaves out (the desktop app's "
    "installer stays small without it). Install it where the server runs with "
    "`pip install 'pixcrawler-desktop[parquet]'`, or choose another format: huggingface "
    "or webdataset, which `datasets` loads as well."
)


def missing() -> str | None:
    """Why Parquet export cannot run here, or None when it can. Looked up, not imported:
    importing pyarrow (and numpy with it) took 0.2 s of the API's first `GET /export/formats`,
    which every `pixcrawler crawl` asks before it starts."""
    return MISSING if importlib.util.find_spec("pyarrow") is None else None


def file_name(split: str | None) -> str:
    return f"{split or 'train'}.parquet"


def _types() -> dict[str, Any]:
    import pyarrow as pa

    kinds = {"string": pa.string(), "int64": pa.int64()}
    return {
        name: pa.list_(pa.string()) if isinstance(kind, dict) else kinds[kind]
        for name, kind in COLUMNS.items()
    }


def _hf_features(plan: Plan) -> dict[str, Any]:
    def value(kind: Any) -> dict[str, Any]:
        if isinstance(kind, dict):
            return {"_type": "List", "feature": value(kind["sequence"])}
        return {"_type": "Value", "dtype": kind}

    return {
        "image": {"_type": "Image"},
        "label": {"_type": "ClassLabel", "names": plan.classes},
        **{name: value(kind) for name, kind in COLUMNS.items()},
    }


def schema(plan: Plan) -> Any:
    import pyarrow as pa

    fields = [
        pa.field("image", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
        pa.field("label", pa.int64()),
        *(pa.field(name, kind) for name, kind in _types().items()),
    ]
    info = {"info": {"features": _hf_features(plan)}}
    return pa.schema(fields, metadata={"huggingface": json.dumps(info)})


def parquet(plan: Plan, found: Iterator[Entry], name: str) -> Iterator[bytes]:
    """The split's Parquet file as byte pieces, one row group in memory at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Pieces()
    file_schema = schema(plan)
    label = {keyword: n for n, keyword in enumerate(plan.classes)}
    # Images are compressed already; the text columns are worth it.
    codecs = {"image.bytes": "none", "image.path": "snappy", "label": "snappy",
              **dict.fromkeys(COLUMNS, "snappy")}
    writer = pq.ParquetWriter(out, file_schema, compression=codecs)
    rows: list[dict[str, Any]] = []
    held = 0

    def flush() -> None:
        nonlocal held
        writer.write_table(pa.Table.from_pylist(rows, file_schema), row_group_size=len(rows))
        rows.clear()
        held = 0

    for entry in found:
        inside = entry.name.split("/", 1)[-1] if plan.options.splits else entry.name
        entry.name = f"{name}/{inside}"
        data = entry.file.read()
        row = entry.manifest_row()
        rows.append({"image": {"bytes": data, "path": inside},
                     "label": label[row["keyword"]], **{k: row[k] for k in COLUMNS}})
        held += len(data)
        if len(rows) >= ROWS or held >= GROUP_BYTES:
            flush()
            yield out.take()
    if rows:
        flush()
    writer.close()
    yield out.take()
