"""Each batch's report rows and cross-year operands as the last build left them (``rows/`` in the cache).

A rebuild copies an unchanged batch's encoded facts and violations from the cache as they are; what
it still read per batch were three small frames (its report rows and the operands of the rules across
reports): at 100,000 reports, 7 ms a batch and half of the rebuild's batch loop. The last build keeps
them for all its batches together instead: the report rows in one file, the operands in the spill's
buckets with each row's batch position. A batch with the same key as one of the last build, written
as cached then and now (no file dropped as a duplicate of an earlier batch's), has the same rows: a
rebuild takes its report rows from the one file and its operands from the kept buckets, moved to the
batch's position in this build, and reads only the other batches' frames.

The last build also keeps where its facts and violations files stood after each batch, with their
footers' row group entries (``DatasetWriter.layout``). When this build's leading batches are the last
build's (same keys at the same positions, kept both times), its files start as a copy of the last
build's up to there (``resume``): files added at the end cost neither a read nor a copy of a cached
part before them (at 100,000 reports the parts' copies kept the batch loop waiting 3.4 s).

A generation is a folder (``gen-<id>``) named by the file ``current``; a build reads the one named
when it starts through links of its own, so a build replacing it meanwhile changes nothing it reads.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import polars as pl
import pyarrow as pa

from pipeline.warehouse.store import ORDER, WriteBehind, remove_stale_private

_INDEX, _REPORTS, _CURRENT = "index.json", "reports.arrow", "current"


def _write(rows: pl.DataFrame, path: Path) -> None:
    rows.write_ipc(path, compression="lz4")


def _bucket_file(stream: str, bucket: int) -> str:
    return f"{stream}-{bucket:03d}.arrow"


class KeptRows:
    """The last build's rows of its batches (read) and this build's (written, then made current)."""

    def __init__(self, cache_folder: Path | None, streams: tuple[str, ...]):
        self.folder = cache_folder / "rows" if cache_folder is not None else None
        self.streams = streams
        self._reading: Path | None = None
        self._reports: dict[str, pl.DataFrame] = {}  # batch key -> its report rows (with batch_key)
        self._position: dict[str, int] = {}  # batch key -> its position in the last build
        self._taken: dict[int, int] = {}  # a batch's position in the last build -> in this one
        self._keys_then: list[str | None] = []  # the last build's, by position (None: not kept)
        self._counts_then: list[dict[str, int] | None] = []  # its batches' counts, as ``written`` gave them
        self._parts_then: dict = {}  # where its dataset files stood after each batch (``keep_parts``)
        self._keys: list[str | None] = []  # this build's batch keys, None where not kept for the next
        self._counts: list[dict[str, int] | None] = []
        self._parts: dict = {}
        self._writing: Path | None = None
        self._writes = WriteBehind()  # the rows kept are written while the build goes on
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale_private(self.folder)
        try:
            self._read_current()
        except (OSError, ValueError, KeyError, pa.ArrowException, pl.exceptions.PolarsError):
            self._forget()  # none yet, or unreadable: this build reads every batch's frames

    def _private(self, purpose: str) -> Path:
        return self.folder / f".{purpose}-{uuid.uuid4().hex[:12]}"

    def _read_current(self) -> None:
        generation = self.folder / (self.folder / _CURRENT).read_text(encoding="utf-8").strip()
        self._reading = self._private("read")
        self._reading.mkdir()
        for file in generation.iterdir():
            os.link(file, self._reading / file.name)
        index = json.loads((self._reading / _INDEX).read_text(encoding="utf-8"))
        keys = index["batches"]
        for stream in self.streams:  # every bucket readable now: the batches taken have no other source
            for file in self._reading.glob(f"{stream}-*.arrow"):
                pa.ipc.open_file(file)  # reads the footer
        reports = pl.read_ipc(self._reading / _REPORTS)
        self._reports = {key: rows for (key,), rows in reports.partition_by("batch_key", as_dict=True).items()}
        self._position = {key: position for position, key in enumerate(keys) if key in self._reports}
        self._keys_then = [key if key in self._position else None for key in keys]
        self._counts_then, self._parts_then = index["counts"], index["parts"]

    def _forget(self) -> None:
        if self._reading is not None:
            shutil.rmtree(self._reading, ignore_errors=True)
        self._reading, self._reports, self._position = None, {}, {}
        self._keys_then, self._counts_then, self._parts_then = [], [], {}

    def report_rows(self, key: str | None) -> pl.DataFrame | None:
        """The report rows (with ``batch_key``) of the last build's batch ``key``, when it kept them;
        given once (a batch asks once: not held after)."""
        return self._reports.pop(key, None) if key in self._position else None

    def resume(self, writer, keys: list[str | None], todo: set[int], streams: tuple[str, ...]) -> int:
        """How many leading batches of this build (``keys``; ``todo``: read now) the last build's dataset
        holds as this build writes them (same keys at the same positions, kept both times): ``writer``'s
        ``streams`` then resume from its files after them. 0 when none, or a file is not as kept."""
        leading = 0
        while (leading < min(len(keys), len(self._keys_then)) and keys[leading] is not None
               and keys[leading] == self._keys_then[leading] and leading not in todo):
            leading += 1
        if not leading or not self._parts_then:
            return 0
        resumed = []
        try:
            for name in streams:
                layout = self._parts_then["streams"][name]
                source = Path(self._parts_then["dataset"]) / f"{name}.parquet"
                if layout["part_file"] != writer.part_file(name) or source.stat().st_size != layout["size"]:
                    return 0  # parts encoded otherwise now, or not the file the last build wrote
                writer.resume(name, source, layout, leading)
                resumed.append(name)
        except (OSError, ValueError, KeyError, IndexError):
            return 0
        finally:
            if len(resumed) < len(streams):
                for name in resumed:
                    writer.unresume(name)
        return leading

    def counts(self, position: int) -> dict[str, int]:
        """The counts of the last build's batch at ``position`` (one this build resumed after)."""
        return dict(self._counts_then[position])

    def take(self, key: str, position: int) -> None:
        """Batch ``key`` is at ``position`` in this build, with the operands the last build kept."""
        self._taken[self._position[key]] = position

    def written(self, position: int, key: str | None, as_cached: bool, counts: dict[str, int]) -> None:
        """This build wrote batch ``position`` (key ``key``, ``counts``): kept for the next build when
        ``as_cached`` (the batch's own rows, no file dropped as a duplicate)."""
        for kept in (self._keys, self._counts):
            kept.extend([None] * (position + 1 - len(kept)))
        self._keys[position] = key if as_cached else None
        self._counts[position] = dict(counts) if as_cached else None

    def operands(self, stream: str, bucket: int) -> pl.DataFrame | None:
        """The kept rows of ``bucket`` of the batches taken, at their positions in this build (``ORDER``)."""
        self._reports.clear()  # the batches are all in: the rows of batches gone from the inputs
        if not self._taken or self._reading is None:
            return None
        path = self._reading / _bucket_file(stream, bucket)
        if not path.exists():
            return None
        old = pl.Series(list(self._taken), dtype=pl.UInt32)
        new = pl.Series(list(self._taken.values()), dtype=pl.UInt32)
        return (pl.read_ipc(path).filter(pl.col(ORDER).is_in(old.implode()))
                .with_columns(pl.col(ORDER).replace_strict(old, new, return_dtype=pl.UInt32)))

    # what this build keeps for the next one

    def _folder_to_write(self) -> Path | None:
        if self.folder is None:
            return None
        if self._writing is None:
            self._writing = self._private("gen")
            self._writing.mkdir()
        return self._writing

    def keep_operands(self, stream: str, bucket: int, rows: pl.DataFrame) -> None:
        """A bucket of this build's operands, with their batch positions (``ORDER``)."""
        folder = self._folder_to_write()
        if folder is not None:
            self._writes.submit(_write, rows, folder / _bucket_file(stream, bucket))

    def keep_reports(self, rows: pl.DataFrame) -> None:
        """This build's report rows (with ``batch_key``); those of the batches kept are written."""
        folder = self._folder_to_write()
        if folder is not None:
            kept = pl.Series([key for key in self._keys if key is not None], dtype=pl.String)
            self._writes.submit(_write, rows.filter(pl.col("batch_key").is_in(kept.implode())), folder / _REPORTS)

    def keep_parts(self, writer, version: Path, streams: tuple[str, ...]) -> None:
        """Where ``writer``'s ``streams`` (committed into ``version``) stood after each batch, for
        ``resume``."""
        self._parts = {"dataset": str(version), "streams": {
            name: {**writer.layout(name), "part_file": writer.part_file(name),
                   "size": (version / f"{name}.parquet").stat().st_size} for name in streams}}

    def commit(self) -> None:
        """This build's rows become the ones the next build reads (after the dataset was swapped in)."""
        if self._writing is None:
            return
        try:
            self._writes.wait()
            (self._writing / _INDEX).write_text(json.dumps({"batches": self._keys, "counts": self._counts,
                                                            "parts": self._parts}), encoding="utf-8")
            generation = self.folder / f"gen-{uuid.uuid4().hex[:12]}"
            os.rename(self._writing, generation)
            pointer = self._private("current")
            pointer.write_text(generation.name, encoding="utf-8")
            os.replace(pointer, self.folder / _CURRENT)
            self._writing = None
            for old in self.folder.glob("gen-*"):
                if old != generation:  # a build reading it has its own links
                    shutil.rmtree(old, ignore_errors=True)
        except (OSError, pl.exceptions.PolarsError):
            pass  # rows that cannot be kept only cost time next build (the folder goes at close)

    def close(self) -> None:
        """Links and unfinished writes removed (what ``commit`` made current stays)."""
        self._writes.close()
        self._forget()
        if self._writing is not None:
            shutil.rmtree(self._writing, ignore_errors=True)
            self._writing = None
