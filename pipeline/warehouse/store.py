"""Write a dataset atomically: Parquet files plus a DuckDB file of views over them.

A build writes into a fresh version folder next to the output (``.<name>.builds/build-<id>/``) and
then points ``DIR`` at it by atomically replacing a symbolic link. A build killed at any moment leaves
the previous dataset complete and readable; a reader never sees a mix of two builds.

Nothing the user owns is ever renamed or deleted: ``DIR`` must be absent, an empty folder, a link to
a version folder of an earlier build, or a dataset folder holding only dataset files
(:func:`check_output`); only the builder's own ``build-*`` version folders are removed.

Facts and violations are streamed: each batch of reports becomes one Parquet row group, so memory
does not grow with the number of reports. A batch is encoded once; a rebuild copies a cached batch's
encoded row group as it is (``parquet_parts``). The output is a deterministic function of the
batches, so the same input gives byte-identical files. The views in ``ogi.duckdb`` name the Parquet
files by relative path, resolved against the database's own folder when it is opened
(``query.connect``), so a dataset folder can be moved, copied or zipped.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.knowledge import schemas
from pipeline.warehouse import parquet_parts, views
from pipeline.warehouse.query import WAREHOUSE_FILE

# What a dataset folder holds (besides nothing else): a folder with other files is not replaced.
# The Parquet files written batch by batch, with their columns.
STREAMS = {"facts": schemas.FACT_SCHEMA, "violations": schemas.VIOLATION_SCHEMA,
           "cross_year_checks": schemas.CROSS_YEAR_SCHEMA, "merged_copies": schemas.FACT_SCHEMA,
           "prose_reuse": schemas.REUSE_SCHEMA}
DATASET_FILES = frozenset({"facts.parquet", "reports.parquet", "violations.parquet", "cross_year_checks.parquet",
                           "merged_copies.parquet", "prose_reuse.parquet",
                           WAREHOUSE_FILE, f"{WAREHOUSE_FILE}.wal", "build.json"})
VERSION_PREFIX = "build-"


class OutputRefused(Exception):
    """``--out`` names a place where writing the dataset could destroy something the user owns."""


def builds_folder(out: Path) -> Path:
    out = Path(os.path.abspath(out))
    return out.parent / f".{out.name}.builds"


def _is_version_link(out: Path) -> bool:
    """A link to a version folder of an earlier build (``.<name>.builds/build-*``)."""
    target = Path(os.path.abspath(out.parent / os.readlink(out)))
    return (target.parent == builds_folder(out) and target.name.startswith(VERSION_PREFIX))


def _is_dataset_folder(folder: Path) -> bool:
    names = {p.name for p in folder.iterdir()}
    return {"facts.parquet", "reports.parquet"} <= names and names <= DATASET_FILES


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output(out: Path, inputs: list[Path] = ()) -> None:
    """:class:`OutputRefused` (with what to do) unless a dataset can be written at ``out`` safely."""
    out = Path(os.path.abspath(out))
    real_out = out.resolve()
    for given in inputs:
        real_in = Path(given).resolve()
        for place in {out, real_out}:
            if _within(place, real_in):
                raise OutputRefused(f"--out {out} is {'the input' if place == real_in else 'inside the input'} "
                                    f"{given}: the dataset would be written among the reports; choose a folder "
                                    "outside the inputs")
            if _within(real_in, place):
                raise OutputRefused(f"the input {given} is inside --out {out}, which the build replaces; "
                                    "move the reports elsewhere or choose another --out")
    if out.is_symlink():
        if not _is_version_link(out):
            raise OutputRefused(f"--out {out} is a symbolic link that does not point at a dataset written by "
                                "ogi build; remove it or choose another --out")
        return
    if not out.exists():
        return
    if not out.is_dir():
        raise OutputRefused(f"--out {out} is a file, not a dataset folder; choose another --out")
    if any(out.iterdir()) and not _is_dataset_folder(out):
        raise OutputRefused(f"--out {out} is a folder that holds other files than a dataset; it is left as it "
                            "is: choose a new or empty folder")


def arrow_schema(polars_schema: dict) -> pa.Schema:
    schema = pl.DataFrame(schema=polars_schema).to_arrow().schema
    # plain UTF-8 strings: readable by every engine (string views are not)
    return pa.schema([pa.field(f.name, pa.string() if pa.types.is_string_view(f.type) or pa.types.is_large_string(
        f.type) else f.type) for f in schema])


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def write_duckdb(folder: Path, kept: Path | None = None) -> None:
    """``ogi.duckdb`` over the Parquet files in ``folder``. ``kept``: where a copy of it waits for the
    next build, which copies it instead of creating the same views again (0.25 s against 35 ms to
    check that it may: the database holds no path and no row, only what ``views.recipe`` hashes)."""
    database = folder / WAREHOUSE_FILE
    copy = kept / f"{views.recipe(folder)}.duckdb" if kept is not None else None
    if copy is not None:
        try:
            shutil.copyfile(copy, database)
            return
        except OSError:
            database.unlink(missing_ok=True)  # none kept yet (or unreadable): created below
    con = duckdb.connect(str(database))
    try:
        # each view that reads a file binds to its footer: read once, not once per view (this session
        # only; at 100,000 reports 0.32 s instead of 0.70 s)
        con.execute("SET parquet_metadata_cache = true")
        views.install(con, folder)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    if copy is not None:
        _keep_database(database, copy)


def _keep_database(database: Path, copy: Path) -> None:
    """A copy of ``database`` as ``copy``, the only one kept (a database that cannot be kept is only
    created again next time)."""
    try:
        copy.parent.mkdir(parents=True, exist_ok=True)
        writing = copy.parent / f".write-{uuid.uuid4().hex[:12]}"
        shutil.copyfile(database, writing)
        os.replace(writing, copy)
        for other in copy.parent.glob("*.duckdb"):
            if other != copy:
                other.unlink(missing_ok=True)
        remove_stale_private(copy.parent)
    except OSError:
        pass


class WriteBehind:
    """Calls run in order by one thread while the caller goes on, at most ``depth`` of them waiting.

    Encoding and writing Parquet release the GIL, so a build's writes overlap its own next steps (at
    100,000 reports a rebuild spends several seconds in them after the workers are done). A call's
    error is raised by the next ``submit`` or by ``wait``."""

    def __init__(self, depth: int = 2):
        self.depth = depth
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="write-behind")
        self._queued: deque[Future] = deque()

    def submit(self, call, *args) -> None:
        while self._queued and (self._queued[0].done() or len(self._queued) >= self.depth):
            self._queued.popleft().result()
        self._queued.append(self._thread.submit(call, *args))

    def wait(self) -> None:
        """Every call submitted has run (the first error among them raised)."""
        while self._queued:
            self._queued.popleft().result()

    def close(self) -> None:
        """Calls not started are dropped; the one running ends first (after an error, or at the end)."""
        self._thread.shutdown(wait=True, cancel_futures=True)
        self._queued.clear()


class DatasetWriter:
    """Streams one dataset version; ``commit`` swaps it in, ``abort`` (or an error) throws it away.

    Rows are appended by a thread of their own (:class:`WriteBehind`), in the order written."""

    def __init__(self, out: Path):
        self.out = Path(os.path.abspath(out))
        check_output(self.out)
        builds = builds_folder(self.out)
        builds.mkdir(parents=True, exist_ok=True)
        self.version = builds / f"{VERSION_PREFIX}{uuid.uuid4().hex[:12]}"
        self.version.mkdir()
        self._schemas = {name: arrow_schema(schema) for name, schema in STREAMS.items()}
        self._writers = {name: parquet_parts.PartsFile(self.version / f"{name}.parquet", schema)
                         for name, schema in self._schemas.items()}
        self._finished: list[str] = []
        self._closed: dict[str, parquet_parts.PartsFile] = {}
        self._part_files = {name: f"{name}-{parquet_parts.encoding_tag(schema)}.parquet"
                            for name, schema in self._schemas.items()}
        self._appends = WriteBehind()
        self._marks: dict[str, list[list[int]]] = {}  # stream -> where it stood after each batch

    def encode(self, name: str, frame: pl.DataFrame) -> bytes | None:
        """``frame`` as a part of stream ``name`` (None when it has no rows), to write now or later."""
        return parquet_parts.encode(frame.to_arrow().cast(self._schemas[name]), self._schemas[name]) \
            if frame.height else None

    def part_file(self, name: str) -> str:
        """A file name for a kept part of stream ``name``: it changes with the encoding."""
        return self._part_files[name]

    def write_part(self, name: str, part: bytes | None) -> None:
        """Rows already encoded by :meth:`encode` (here or in an earlier build), copied as they are."""
        if part is not None:
            self._appends.submit(self._writers[name].append, part)

    def mark_batch(self, names: tuple[str, ...]) -> None:
        """Remember where streams ``names`` stand once the writes submitted so far are done (a batch's end)."""
        self._appends.submit(self._mark, names)

    def _mark(self, names: tuple[str, ...]) -> None:
        for name in names:
            self._marks.setdefault(name, []).append(self._writers[name].mark())

    def resume(self, name: str, source: Path, layout: dict, batches: int) -> None:
        """Stream ``name`` starts as ``source`` (the same stream of an earlier build, whose ``layout``
        that build gave) stood after its first ``batches`` batches; :class:`ValueError` (and nothing
        written) when it cannot."""
        marks = layout["marks"][:batches]
        self._writers[name].resume(source, marks[-1], layout["groups_at"], layout["group_sizes"])
        self._marks[name] = marks

    def unresume(self, name: str) -> None:
        """Stream ``name`` back to empty after a ``resume`` (another stream could not resume)."""
        self._writers[name].reset()
        self._marks.pop(name, None)

    def layout(self, name: str) -> dict:
        """Where a stream closed by ``finish`` or ``commit`` stood after each batch, and its footer's
        row group entries: what a later build needs to ``resume`` it."""
        writer = self._closed[name]
        return {"marks": self._marks.get(name, []), "groups_at": writer.groups_at,
                "group_sizes": writer.group_sizes}

    def write(self, name: str, frame: pl.DataFrame) -> None:
        if frame.height:
            self._appends.submit(self._encode_and_append, self._writers[name], name, frame)

    def _encode_and_append(self, writer: parquet_parts.PartsFile, name: str, frame: pl.DataFrame) -> None:
        writer.append(self.encode(name, frame))

    def finish(self, name: str) -> pl.LazyFrame:
        """Close one stream early and scan what it holds (nothing more can be written to it)."""
        self._appends.wait()
        writer = self._writers.pop(name)
        writer.close()
        self._finished.append(name)
        self._closed[name] = writer
        return pl.scan_parquet(self.version / f"{name}.parquet")

    def write_json(self, name: str, value) -> None:
        (self.version / name).write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")

    def commit(self, reports: pl.DataFrame, kept_database: Path | None = None) -> Path:
        """Everything written, ``reports.parquet`` and ``ogi.duckdb`` added (``write_duckdb``), the
        version swapped in."""
        self._appends.wait()
        self._appends.close()
        for writer in self._writers.values():
            writer.close()
        self._closed.update(self._writers)
        for name in [*self._writers, *self._finished]:
            _fsync(self.version / f"{name}.parquet")
        reports.write_parquet(self.version / "reports.parquet", compression="zstd", statistics=True)
        _fsync(self.version / "reports.parquet")
        write_duckdb(self.version, kept_database)
        _swap_in(self.out, self.version)
        return self.version

    def abort(self) -> None:
        self._appends.close()
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


SPILL_FLUSH_BYTES = 16 * 2**20  # operands gathered before a write (a few batches' worth)


class Gathering:
    """Frames held until they reach ``limit`` (by ``measure``: bytes by default), then handed back
    together: one write or check for many small frames."""

    def __init__(self, limit: int, measure=pl.DataFrame.estimated_size):
        self.limit, self.measure = limit, measure
        self._frames: list[pl.DataFrame] = []
        self._size = 0

    @property
    def first(self) -> pl.DataFrame | None:
        return self._frames[0] if self._frames else None

    def add(self, frame: pl.DataFrame) -> list[pl.DataFrame]:
        """The frames gathered, this one last, once they reach the limit; else none."""
        self._frames.append(frame)
        self._size += self.measure(frame)
        return self.take() if self._size >= self.limit else []

    def take(self) -> list[pl.DataFrame]:
        """The frames gathered so far (none are held after)."""
        frames, self._frames, self._size = self._frames, [], 0
        return frames


ORDER = "_order"  # a spilled row's position among the frames added (its batch's, in a build)


class Spill:
    """Frames appended to ``n`` bucket files by a key column's hash, read back one bucket at a time.

    Cross-year rules compare reports of one agency only; bucketing their operands by agency keeps the
    memory of the final check to one bucket, whatever the number of reports. Frames are gathered up
    to ``flush_bytes`` before they are split and written: one write per bucket for many batches, not
    per batch. Each frame is added with its position (``order``); a bucket's rows come back in the
    order of their positions, with rows from elsewhere (``buckets(more=...)``) merged in by theirs.
    """

    def __init__(self, folder: Path, key: str, n: int = 16, flush_bytes: int = SPILL_FLUSH_BYTES):
        self.folder, self.key, self.n = folder, key, n
        folder.mkdir(parents=True, exist_ok=True)
        self._writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
        self._schema: pa.Schema | None = None
        self._gathering = Gathering(flush_bytes)

    def add(self, frame: pl.DataFrame, order: int = 0) -> None:
        if not frame.height:
            return
        frame = frame.with_columns(*[pl.col(c).cast(pl.String) for c, t in frame.schema.items()
                                     if t == pl.Categorical], pl.lit(order, dtype=pl.UInt32).alias(ORDER))
        first = self._gathering.first
        if first is not None and frame.schema != first.schema:
            frame = frame.cast(dict(first.schema))  # as the first frame's columns (the file's schema)
        self._write(self._gathering.add(frame))

    def _split(self, frames: list[pl.DataFrame]) -> dict[int, pa.Table]:
        """Gathered frames split by bucket, as the bucket files hold them."""
        if not frames:
            return {}
        frame = pl.concat(frames, rechunk=False)
        table = frame.with_columns((pl.col(self.key).hash() % self.n).alias("_bucket")).partition_by(
            "_bucket", as_dict=True, include_key=False)
        if self._schema is None:
            self._schema = arrow_schema(dict(frame.schema))
        return {bucket: part.to_arrow().cast(self._schema) for (bucket,), part in sorted(table.items())}

    def _write(self, frames: list[pl.DataFrame]) -> None:
        for bucket, part in self._split(frames).items():
            if bucket not in self._writers:
                # Arrow IPC, not Parquet: read back once, so encoding it would only cost time (a third
                # of the spill's time at 100,000 reports)
                self._writers[bucket] = pa.ipc.new_file(self.folder / f"bucket-{bucket:03d}.arrow", self._schema,
                                                        options=pa.ipc.IpcWriteOptions(compression="lz4"))
            self._writers[bucket].write_table(part)

    def buckets(self, more=None, keep=None):
        """Each bucket's rows (without their positions). ``more(bucket)``: rows to merge in (with
        ``ORDER``) or None; ``keep(bucket, rows)`` is given each bucket's rows with their positions."""
        # the rows gathered last are in memory already: split, not written and read back (at 10,000
        # reports that is every row)
        held = self._split(self._gathering.take())
        for writer in self._writers.values():
            writer.close()
        for bucket in range(self.n):
            spilled = self.folder / f"bucket-{bucket:03d}.arrow"
            held_part = held.pop(bucket, None)
            parts = [part for part in (pl.read_ipc(spilled) if bucket in self._writers else None,
                                       pl.from_arrow(held_part) if held_part is not None else None)
                     if part is not None]  # in the order added: written first
            frames = [frame for frame in (more(bucket) if more else None,
                                          pl.concat(parts) if parts else None)
                      if frame is not None and frame.height]
            if not frames:
                continue
            if len(frames) > 1:  # each position's rows are either spilled or merged in, never both
                frames[0] = frames[0].cast(dict(frames[1].schema))
                rows = pl.concat(frames).sort(ORDER, maintain_order=True)
            else:
                rows = frames[0]
            if keep:
                keep(bucket, rows)
            yield rows.drop(ORDER)
        shutil.rmtree(self.folder, ignore_errors=True)


class Staged:
    """Frames set aside in a temporary Parquet file, to be written after others (in the order added)
    without holding them in memory; ``frames`` gives them back a row group at a time, then the frames
    still gathered (never written), and removes the file.

    With ``gather_bytes``, frames are gathered up to that size and written as one row group: many
    small frames (a batch's report rows) cost a write and a read each, 2.7 s for 100,000 reports."""

    def __init__(self, path: Path, schema: dict, gather_bytes: int = 0):
        self.path = path
        self._columns = schema
        self._schema = arrow_schema(schema)
        self._writer: pq.ParquetWriter | None = None
        self._gathering = Gathering(gather_bytes)

    def add(self, frame: pl.DataFrame) -> None:
        if not frame.height:
            return
        if frame.schema != self._columns:
            frame = frame.cast(self._columns)  # gathered frames must agree to be concatenated
        self._write(self._gathering.add(frame))

    def _write(self, frames: list[pl.DataFrame]) -> None:
        if not frames:
            return
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, self._schema)
        self._writer.write_table(pl.concat(frames).to_arrow().cast(self._schema))

    def frames(self):
        # the frames gathered last are in memory already: given back as one, not written and read back
        # (at 10,000 reports that is every row)
        held = self._gathering.take()
        try:
            if self._writer is not None:
                self._writer.close()
                source = pq.ParquetFile(self.path)
                for group in range(source.num_row_groups):
                    yield pl.from_arrow(source.read_row_group(group))
            if held:
                yield pl.concat(held).rechunk()
        finally:
            self.path.unlink(missing_ok=True)


def write_dataset(out: Path, facts: pl.DataFrame, reports: pl.DataFrame, violations: pl.DataFrame,
                  cross_year: pl.DataFrame | None = None) -> Path:
    """Write whole frames as one dataset version (small builds and tests)."""
    with DatasetWriter(out) as writer:
        writer.write("facts", facts)
        writer.write("violations", violations)
        if cross_year is not None:
            writer.write("cross_year_checks", cross_year)
        return writer.commit(reports)


STALE_SECONDS = 24 * 3600  # a private file or folder this old was left by a build that was killed


def remove_stale_private(folder: Path) -> None:
    """The private files and folders (``.<purpose>-<id>``) in ``folder`` older than ``STALE_SECONDS``:
    a build's own are removed when it ends, so these were left by a build that was killed."""
    now = time.time()
    for private in folder.glob(".*-*"):
        try:
            if now - private.stat().st_mtime > STALE_SECONDS:
                private.unlink() if private.is_file() else shutil.rmtree(private)
        except OSError:
            pass  # another build's, just removed


def remove_stale_versions(out: Path) -> None:
    """Version folders other than the current one (left by a build that was killed)."""
    out = Path(os.path.abspath(out))
    builds = builds_folder(out)
    if not out.is_symlink() or not builds.is_dir():
        return
    current = out.resolve()
    for old in builds.iterdir():
        if old.name.startswith(VERSION_PREFIX) and old.resolve() != current:
            shutil.rmtree(old, ignore_errors=True)


def _swap_in(out: Path, version: Path) -> None:
    check_output(out)  # again: the folder may have changed while the build ran
    if out.is_dir() and not out.is_symlink():
        # an empty folder, or a dataset folder of an older builder holding only dataset files: it
        # becomes an old version, removed below like any other
        out.rename(version.parent / f"{VERSION_PREFIX}previous-{uuid.uuid4().hex[:8]}")
    link = out.parent / f".{out.name}.link-{uuid.uuid4().hex[:8]}"
    os.symlink(os.path.relpath(version, out.parent), link)
    os.replace(link, out)  # atomic on POSIX
    remove_stale_versions(out)
