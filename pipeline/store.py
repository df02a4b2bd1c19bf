"""Write a dataset atomically: Parquet files plus a DuckDB file of views over them.

A build writes into a fresh version folder next to the output (``.<name>.builds/<id>/``) and then
points ``DIR`` at it by atomically replacing a symbolic link. A build killed at any moment leaves the
previous dataset complete and readable; a reader never sees a mix of two builds.

Facts and violations are streamed: each batch of reports becomes one Parquet row group, so memory
does not grow with the number of reports. The output is a deterministic function of the batches, so
the same input gives byte-identical files.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import schemas, views

_PARQUET_OPTIONS = {"compression": "zstd", "write_statistics": True}


def _arrow_schema(polars_schema: dict) -> pa.Schema:
    schema = pl.DataFrame(schema=polars_schema).to_arrow().schema
    # plain UTF-8 strings: readable by every engine (string views are not)
    return pa.schema([pa.field(f.name, pa.string() if pa.types.is_string_view(f.type) or pa.types.is_large_string(
        f.type) else f.type) for f in schema])


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def write_duckdb(folder: Path) -> None:
    con = duckdb.connect(str(folder / "ogi.duckdb"))
    try:
        views.install(con, folder)
        con.execute("CHECKPOINT")
    finally:
        con.close()


class DatasetWriter:
    """Streams one dataset version; ``commit`` swaps it in, ``abort`` (or an error) throws it away."""

    def __init__(self, out: Path):
        self.out = Path(os.path.abspath(out))
        if self.out.exists() and not self.out.is_dir():
            raise FileExistsError(f"{self.out} exists and is not a dataset folder")
        builds = self.out.parent / f".{self.out.name}.builds"
        builds.mkdir(parents=True, exist_ok=True)
        self.version = builds / f"build-{uuid.uuid4().hex[:12]}"
        self.version.mkdir()
        self._schemas = {"facts": _arrow_schema(schemas.FACT_SCHEMA),
                         "violations": _arrow_schema(schemas.VIOLATION_SCHEMA)}
        self._writers = {name: pq.ParquetWriter(self.version / f"{name}.parquet", schema, **_PARQUET_OPTIONS)
                         for name, schema in self._schemas.items()}

    def write(self, name: str, frame: pl.DataFrame) -> None:
        if frame.height:
            self._writers[name].write_table(frame.to_arrow().cast(self._schemas[name]))

    def write_json(self, name: str, value) -> None:
        (self.version / name).write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")

    def commit(self, reports: pl.DataFrame) -> Path:
        for name, writer in self._writers.items():
            writer.close()
            _fsync(self.version / f"{name}.parquet")
        reports.write_parquet(self.version / "reports.parquet", compression="zstd", statistics=True)
        _fsync(self.version / "reports.parquet")
        write_duckdb(self.version)
        _swap_in(self.out, self.version)
        return self.version

    def abort(self) -> None:
        for writer in self._writers.values():
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - the folder goes anyway
                pass
        shutil.rmtree(self.version, ignore_errors=True)

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()


class Spill:
    """Frames appended to ``n`` bucket files by a key column's hash, read back one bucket at a time.

    Cross-year rules compare reports of one agency only; bucketing their operands by agency keeps the
    memory of the final check to one bucket, whatever the number of reports.
    """

    def __init__(self, folder: Path, key: str, n: int = 16):
        self.folder, self.key, self.n = folder, key, n
        folder.mkdir(parents=True, exist_ok=True)
        self._writers: dict[int, pq.ParquetWriter] = {}
        self._schema: pa.Schema | None = None

    def add(self, frame: pl.DataFrame) -> None:
        if not frame.height:
            return
        frame = frame.with_columns(pl.col(c).cast(pl.String) for c, t in frame.schema.items()
                                   if t == pl.Categorical)
        table = frame.with_columns((pl.col(self.key).hash() % self.n).alias("_bucket")).partition_by(
            "_bucket", as_dict=True, include_key=False)
        for (bucket,), part in sorted(table.items()):
            arrow = part.to_arrow()
            if self._schema is None:
                self._schema = _arrow_schema(dict(part.schema))
            if bucket not in self._writers:
                self._writers[bucket] = pq.ParquetWriter(self.folder / f"bucket-{bucket:03d}.parquet", self._schema)
            self._writers[bucket].write_table(arrow.cast(self._schema))

    def buckets(self):
        for writer in self._writers.values():
            writer.close()
        for bucket in sorted(self._writers):
            yield pl.read_parquet(self.folder / f"bucket-{bucket:03d}.parquet")
        shutil.rmtree(self.folder, ignore_errors=True)


def write_dataset(out: Path, facts: pl.DataFrame, reports: pl.DataFrame, violations: pl.DataFrame) -> Path:
    """Write whole frames as one dataset version (small builds and tests)."""
    with DatasetWriter(out) as writer:
        writer.write("facts", facts)
        writer.write("violations", violations)
        return writer.commit(reports)


def remove_stale_versions(out: Path) -> None:
    """Version folders other than the current one (left by a build that was killed)."""
    out = Path(os.path.abspath(out))
    builds = out.parent / f".{out.name}.builds"
    if not out.is_symlink() or not builds.is_dir():
        return
    current = out.resolve()
    for old in builds.iterdir():
        if old.resolve() != current:
            shutil.rmtree(old, ignore_errors=True)


def _swap_in(out: Path, version: Path) -> None:
    if out.exists() and not out.is_symlink():
        # A plain folder from elsewhere: keep it beside the builds, once, then use links from now on.
        out.rename(version.parent / f"previous-{uuid.uuid4().hex[:8]}")
    link = out.parent / f".{out.name}.link-{uuid.uuid4().hex[:8]}"
    os.symlink(os.path.relpath(version, out.parent), link)
    os.replace(link, out)  # atomic on POSIX
    for old in version.parent.iterdir():
        if old != version:
            shutil.rmtree(old, ignore_errors=True)
