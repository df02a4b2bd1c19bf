"""The build, end to end: sources -> batches (read in worker processes, cached) -> Parquet and DuckDB.

The work per report and per batch is in :mod:`pipeline.process`; this module plans the batches,
runs them in parallel, streams each batch's frames into the dataset as it arrives (memory does not
grow with the number of reports), runs the cross-year rules over the whole set (on a small subset of
cells, one agency bucket at a time) and commits the dataset atomically.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline import cache as cache_mod
from pipeline.checks import across_years, copies, copies_merge, rules
from pipeline.ingest.decode import starts_as_binary
from pipeline.ingest.discover import SourceFile
from pipeline.knowledge import schemas
from pipeline.process import (
    BATCH_FRAMES,
    BatchResult,
    Limits,
    _duplicate_reason,
    batch_key,
    process_batch,
)
from pipeline.worker import CachedBatch, process_batch_into_cache
from pipeline.warehouse import store
from pipeline.warehouse.kept_rows import KeptRows

# the operands of the rules across reports each batch gives (BatchResult's fields), spilled by agency
OPERANDS = ("cross_year", "across")
BATCH_TARGET = 150  # reports per batch, on average (rarely more than twice that)


def plan_batches(sources: list[SourceFile], target: int | None = None) -> list[list[SourceFile]]:
    """Split the (sorted) inputs into batches whose boundaries depend only on the files' names: a
    batch ends after a file whose name hashes to 0 modulo ``target``. Adding or changing a file then
    changes only the batch it falls in, so every other batch is found in the cache."""
    target = target or BATCH_TARGET
    batches: list[list[SourceFile]] = []
    current: list[SourceFile] = []
    for source in sources:
        current.append(source)
        boundary = int.from_bytes(hashlib.blake2b(source.source_file.encode(), digest_size=8).digest(), "big")
        # a long batch also ends at a weaker name-defined boundary, so that even the cap stays local
        if (boundary % target == 0 or (len(current) >= 2 * target and boundary % max(1, target // 8) == 0)
                or len(current) >= 4 * target):
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    return batches


def _duplicate_reasons(reports: pl.DataFrame, first_seen: dict[str, str]) -> list[str | None]:
    """For each report row, ``duplicate of <file>`` when an earlier batch had a file with the same
    bytes (``first_seen``, updated here), else None."""
    shas = reports["sha256"].to_list()
    if first_seen.keys().isdisjoint(shas) and len(set(shas)) == len(shas):
        # the common case, decided without a call per report: no file seen before, none twice here
        first_seen.update(zip(shas, reports["source_file"].to_list()))
        return [None] * len(shas)
    columns = reports.select("source_file", "sha256", "bytes", "status", "reason").to_dict(as_series=False)
    return [_duplicate_reason({"source_file": source_file, "sha256": sha256, "bytes": size}, first_seen)
            if status != "rejected" or not (reason or "").startswith("duplicate of") else None
            for source_file, sha256, size, status, reason in zip(*columns.values())]


def _drop_duplicates(result: BatchResult, reasons: list[str | None]) -> BatchResult:
    """Files with the same bytes as a file of an earlier batch: rejected as duplicates, rows dropped."""
    if not any(reasons):
        return result
    duplicate = pl.Series(reasons, dtype=pl.String)
    dup_files = [f for f, r in zip(result.reports["source_file"], reasons) if r]
    reports = result.reports.with_columns(
        pl.when(duplicate.is_not_null()).then(pl.lit("rejected")).otherwise(pl.col("status")).alias("status"),
        pl.when(duplicate.is_not_null()).then(duplicate).otherwise(pl.col("reason")).alias("reason"),
        *[pl.when(duplicate.is_not_null()).then(0).otherwise(pl.col(c)).cast(pl.Int32).alias(c)
          for c in ("n_cells", "n_ambiguous", "n_violations")],
    )
    # a duplicate's report_id is its original's, already written with an earlier batch
    dup_ids = list(set(reports.filter(pl.col("source_file").is_in(dup_files))["report_id"]))
    return BatchResult(reports, result.facts.filter(~pl.col("source_file").is_in(dup_files)),
                       result.violations.filter(~pl.col("report_id").is_in(dup_ids)),
                       result.cross_year.filter(~pl.col("report_id").is_in(dup_ids)),
                       result.across.filter(~pl.col("report_id").is_in(dup_ids)))


# Workers pay off only past their start: each imports the pipeline (0.5 s) before its first report,
# while a small text report takes about 5 ms to read here. Work under this many bytes, in files that are
# all text, is read in the build's own process. Rebuilds of 10,000 reports on 2 cores after adding 100,
# 250 or 600 files (0.5, 1.3, 2.9 MB to read with the batches they fall in): 4.83, 5.6, 6.4 s with
# 2 workers; 4.3, 5.0, 6.8 s without. PDFs, Word files and pictures (30 ms a page, seconds a page of OCR)
# always go to the workers.
IN_PROCESS_BYTES = 2_000_000
_HEAD_BYTES = 16


def workers_for(batches: list[list[SourceFile]], jobs: int) -> int:
    """How many worker processes read ``batches``: 1 (none: this process reads them) when they hold
    so little text that starting workers would cost more than it saves."""
    if jobs < 2 or len(batches) < 2:
        return 1
    sources = [source for batch in batches for source in batch]
    if sum(source.size or 0 for source in sources) > IN_PROCESS_BYTES or any(s.size is None for s in sources):
        return jobs
    return jobs if any(_starts_as_binary(source) for source in sources) else 1


def _starts_as_binary(source: SourceFile) -> bool:
    try:
        with open(source.path, "rb") as file:
            return starts_as_binary(file.read(_HEAD_BYTES))
    except OSError:
        return False  # a file that cannot be opened is rejected at once


# Batches a worker may have running or read and waiting (without a cache, in the build's memory):
# results are taken in input order and batches differ in size (4 to 359 reports at 10k), so with one
# result of slack a worker done with a short batch often waited for the other's long one (10k
# synthetic reports, --no-cache, 2 workers: 36.2-36.3 s with 3 for both workers, 34.1-34.5 s with 6)
RESULTS_PER_WORKER = 3


class _Batches:
    """Batch results in input order, read by ``jobs`` worker processes started at once.

    Workers run ahead of the build, holding a bounded number of results in its memory at a time; a
    batch a worker put into the cache itself (``CachedBatch``) holds nothing, so in a rebuild the
    workers read every new batch while the build copies the cached ones before it (``refill`` is
    called between those)."""

    def __init__(self, batches: list, limits: Limits, cache_folder: Path | None, jobs: int):
        self._queue = iter(batches)
        self._limits, self._cache_folder, self._jobs = limits, cache_folder, jobs
        self._futures: deque = deque()
        self._pool = None
        if jobs > 1 and len(batches) > 1:
            context = multiprocessing.get_context("spawn")  # polars' thread pool does not survive fork
            # one polars thread per worker: the workers already fill the cores, more threads only contend
            previous = os.environ.get("POLARS_MAX_THREADS")
            os.environ["POLARS_MAX_THREADS"] = "1"
            try:
                self._pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context)
            finally:
                if previous is None:
                    os.environ.pop("POLARS_MAX_THREADS", None)
                else:
                    os.environ["POLARS_MAX_THREADS"] = previous
            self.refill()

    def _held(self) -> int:
        """Batches running, or read and held here (a batch put into the cache holds nothing)."""
        return sum(1 for future in self._futures
                   if not future.done() or future.exception() is not None
                   or not isinstance(future.result(), CachedBatch))

    @property
    def started(self) -> int:
        """Batches handed to the workers so far (and not yet taken by ``next``)."""
        return len(self._futures)

    def refill(self) -> None:
        if self._pool is None:
            return
        while self._held() < self._jobs * RESULTS_PER_WORKER:
            batch = next(self._queue, None)
            if batch is None:
                return
            self._futures.append(self._pool.submit(process_batch_into_cache, batch, self._limits,
                                                   self._cache_folder))

    def __next__(self) -> BatchResult | CachedBatch:
        if self._pool is None:
            return process_batch(next(self._queue), self._limits, self._cache_folder)
        self.refill()
        result = self._futures.popleft().result()
        self.refill()
        return result

    def __enter__(self) -> _Batches:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """The workers stop (a batch not started is dropped); again: nothing more."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


# the report rows as set aside until every batch is in, with their batch's key (None: read again next
# time), which says whether the copies' merge of the last build still holds for them
_STAGED_REPORT_SCHEMA = {**schemas.REPORT_SCHEMA, "batch_key": pl.String}


@dataclass
class BuildSummary:
    reports: pl.DataFrame
    n_cells: int
    n_ambiguous: int
    n_failed: int
    version: Path


def _load_batch(cache: cache_mod.Cache, key: str) -> BatchResult | None:
    frames = cache.get_frames("batch", key, BATCH_FRAMES)
    return BatchResult(**frames) if frames else None


# A cached batch also keeps its facts and violations encoded as Parquet parts (parquet_parts) and
# its counts, so that a rebuild copies them into the new files without decoding a row.
ENCODED = ("facts", "violations")
_COUNTS_FILE = "counts.json"
_LIGHT_FRAMES = tuple(name for name in BATCH_FRAMES if name not in ENCODED)


@dataclass
class EncodedBatch:
    """A batch as written: its facts and violations encoded, the rest as frames (operands None: the
    last build kept them, ``KeptRows``)."""
    reports: pl.DataFrame
    cross_year: pl.DataFrame | None
    across: pl.DataFrame | None
    parts: dict[str, bytes | None]  # stream -> Parquet part (None: no rows)
    counts: dict[str, int]  # printed cells, ambiguous cells, failed within-report rules


def _load_encoded(cache: cache_mod.Cache, key: str, writer: store.DatasetWriter,
                  kept: KeptRows) -> EncodedBatch | None:
    """A cached batch with its parts in this writer's encoding (None: decode it, or read it again); its
    report rows and operands from those the last build kept, when it kept them."""
    files = cache.get_files("batch", key, (*(writer.part_file(name) for name in ENCODED), _COUNTS_FILE))
    kept_reports = kept.report_rows(key) if files else None
    if kept_reports is not None:
        frames = {"reports": kept_reports, "cross_year": None, "across": None}
    else:
        frames = cache.get_frames("batch", key, _LIGHT_FRAMES) if files else None
    if not frames:
        return None
    parts = {name: files[writer.part_file(name)] or None for name in ENCODED}  # an empty file: no rows
    return EncodedBatch(**frames, parts=parts, counts=json.loads(files[_COUNTS_FILE]))


def _encode(writer: store.DatasetWriter, result: BatchResult) -> EncodedBatch:
    printed = result.facts.filter(pl.col("status") != "derived")
    counts = {"cells": printed.height, "ambiguous": printed.filter(pl.col("status") == "ambiguous").height,
              "failed": result.violations.filter(pl.col("outcome") == "failed").height}
    parts = {name: writer.encode(name, getattr(result, name)) for name in ENCODED}
    return EncodedBatch(result.reports, result.cross_year, result.across, parts, counts)


def _encoded_files(writer: store.DatasetWriter, batch: EncodedBatch) -> dict[str, bytes]:
    return {**{writer.part_file(name): batch.parts[name] or b"" for name in ENCODED},
            _COUNTS_FILE: json.dumps(batch.counts).encode()}


def run_build(sources: list[SourceFile], out: Path, limits: Limits = Limits(), jobs: int = 1,
              cache_folder: Path | None = None, on_progress=None, record: dict | None = None) -> BuildSummary:
    """Read every source, write the dataset to ``out`` atomically, return what was written.

    ``record``: more to keep in build.json (what discovery left out, manifest rows without a file)."""
    cache = cache_mod.Cache(cache_folder)
    stats = cache.load_stats()
    batches = plan_batches(sources)
    keys: list[str | None] = []
    for batch in batches:
        shas = [_known_sha(stats, s) for s in batch]
        keys.append(batch_key(batch, shas, limits) if all(shas) else None)
    if cache.folder is not None and all(keys):
        unchanged = _unchanged_dataset(out, keys)
        if unchanged is not None:
            if on_progress:
                on_progress(len(sources))
            return unchanged
    counts = {"cells": 0, "ambiguous": 0, "failed": 0}
    todo = [i for i, key in enumerate(keys) if key is None or not cache.has_frames("batch", key)]
    # the workers start first: they import while the build opens what the last build kept
    to_read = [batches[i] for i in todo]
    with _Batches(to_read, limits, cache.folder, workers_for(to_read, jobs)) as computed:
        return _build_with(sources, out, batches, keys, todo, computed, cache, stats, limits, counts, record,
                           on_progress)


def _build_with(sources: list[SourceFile], out: Path, batches, keys: list[str | None], todo: list[int],
                computed: _Batches, cache: cache_mod.Cache, stats: dict, limits: Limits, counts: dict,
                record: dict | None, on_progress) -> BuildSummary:
    """The build once the workers have started on the batches to read (``todo``)."""
    kept = KeptRows(cache.folder, OPERANDS)
    try:
        with store.DatasetWriter(out) as writer:
            spills = tuple(store.Spill(writer.version / f".{name}-operands", key="agency_key") for name in OPERANDS)
            # the report rows wait on disk, not in memory, until every batch is in: held as many small
            # frames they grew the process by about 0.6 KB a report; gathered a few batches at a time
            reports = store.Staged(writer.version / ".reports.parquet", _STAGED_REPORT_SCHEMA,
                                   gather_bytes=store.SPILL_FLUSH_BYTES)
            _write_batches(writer, batches, keys, todo, computed, cache, limits, counts, spills, reports, kept,
                           on_progress)
            computed.close()  # the workers' memory is free before the checks across reports
            report_frame = _check_across_reports(writer, reports, spills, kept, counts, cache.folder)
            writer.write_json(BUILD_RECORD, {"builder": cache_mod.builder_version(), "batches": keys,
                                             "counts": counts, **(record or {})})
            version = writer.commit(report_frame, kept_database=cache.folder / "warehouse"
                                    if cache.folder is not None else None)
            kept.keep_parts(writer, version, ENCODED)
        kept.commit()
    finally:
        kept.close()
    _remember_stats(cache, stats, sources, report_frame)
    return BuildSummary(report_frame, counts["cells"], counts["ambiguous"], counts["failed"], version)


def _write_batches(writer: store.DatasetWriter, batches, keys: list[str | None], todo: list[int],
                   computed: _Batches, cache: cache_mod.Cache, limits: Limits, counts: dict,
                   spills: tuple[store.Spill, store.Spill], reports: store.Staged, kept: KeptRows,
                   on_progress) -> None:
    """Every batch, from the cache or read now, streamed into the dataset in input order. Fills
    ``keys`` (None for a batch that must be read again next time), ``counts``, the cross-year
    operands (spilled, or taken from those the last build kept) and the report rows.

    The leading batches the last build wrote alike are already in the files: they resume from the last
    build's after them (``KeptRows.resume``), so those batches' parts are neither read nor copied."""
    resumed = kept.resume(writer, keys, set(todo), ENCODED)
    first_seen: dict[str, str] = {}
    for index, batch in enumerate(batches):
        computed.refill()  # workers that finished a batch meanwhile start the next
        if index < resumed:
            written = EncodedBatch(kept.report_rows(keys[index]), None, None, dict.fromkeys(ENCODED),
                                   kept.counts(index))
        else:
            written = _load_encoded(cache, keys[index], writer, kept) if index not in todo else None
        reasons = _duplicate_reasons(written.reports, first_seen) if written is not None else None
        if index < resumed and any(reasons):  # the same files as last time, after the same files
            raise RuntimeError(f"batch {index} resumed from the last build has a new duplicate")
        if written is None or any(reasons):
            written, reasons = _batch_to_write(writer, batches, keys, index, todo, computed, cache, limits,
                                               first_seen, reasons)
        for name in ENCODED:
            writer.write_part(name, written.parts[name])
        if index >= resumed:
            writer.mark_batch(ENCODED)
        for name in counts:
            counts[name] += written.counts[name]
        kept.written(index, keys[index], not any(reasons), written.counts)
        rows = written.reports
        reports.add(rows if "batch_key" in rows.columns else
                    rows.with_columns(pl.lit(keys[index], dtype=pl.String).alias("batch_key")))
        if written.cross_year is None:
            kept.take(keys[index], index)
        else:
            for spill, name in zip(spills, OPERANDS):
                spill.add(getattr(written, name), order=index)
        if on_progress:
            on_progress(len(batch))


def _batch_to_write(writer: store.DatasetWriter, batches, keys: list[str | None], index: int, todo: list[int],
                    computed, cache: cache_mod.Cache, limits: Limits, first_seen: dict[str, str],
                    reasons: list[str | None] | None) -> tuple[EncodedBatch, list[str | None]]:
    """Batch ``index`` read now or loaded whole from the cache, less the duplicates of earlier batches
    (``reasons`` when already found), encoded; caches what it can."""
    if index in todo:
        result = next(computed)
        fresh = not isinstance(result, CachedBatch)
        if not fresh:  # a worker put the batch it read into the cache itself
            keys[index] = result.key
            result = _load_batch(cache, result.key)
    else:
        result, fresh = _load_batch(cache, keys[index]), False
    if result is None:  # the cache entry is gone: read the batch here
        result, fresh = process_batch(batches[index], limits, cache.folder), True
    if fresh:
        keys[index] = batch_key(batches[index], result.reports["sha256"].to_list(), limits)
        if not result.cacheable:  # a limit or a missing tool decided part of it: read it again next time
            keys[index] = None
    if reasons is None:
        reasons = _duplicate_reasons(result.reports, first_seen)
    written = _encode(writer, _drop_duplicates(result, reasons))
    # the cache holds the batch as read; its encoded parts only when no duplicate changed them
    files = _encoded_files(writer, written) if not any(reasons) else {}
    if keys[index] is not None and fresh:
        cache.put_frames("batch", keys[index], {part: getattr(result, part) for part in BATCH_FRAMES}, files)
    elif keys[index] is not None and files:
        cache.add_files("batch", keys[index], files)  # an entry kept without them, or in another encoding
    return written, reasons


def _check_across_reports(writer: store.DatasetWriter, reports: store.Staged,
                          spills: tuple[store.Spill, store.Spill], kept: KeptRows, counts: dict,
                          cache_folder: Path | None) -> pl.DataFrame:
    """The rules that compare reports with each other (one copy per agency and year, chosen once for
    the whole dataset; then an agency bucket at a time) and the copies of one report with each other;
    returns the final report rows."""
    staged = pl.concat([pl.DataFrame(schema=_STAGED_REPORT_SCHEMA), *reports.frames()])
    kept.keep_reports(staged)
    batch_keys = staged.select("source_file", "batch_key")
    report_frame = copies.preferred_copies(staged.drop("batch_key"))
    del staged
    preferred = report_frame.filter(pl.col("preferred"))["report_id"]

    def buckets(stream: int):  # the spilled operands with those the last build kept, kept for the next
        name = OPERANDS[stream]
        return spills[stream].buckets(more=lambda bucket: kept.operands(name, bucket),
                                      keep=lambda bucket, rows: kept.keep_operands(name, bucket, rows))

    cross_failed, written = [], []
    for group in _grouped(buckets(0)):
        found = rules.evaluate(pl.concat(group, how="vertical_relaxed"), scope="cross_year", preferred=preferred)
        for violations, instances in zip(_by_bucket(group, found.violations), _by_bucket(group, found.cross_year)):
            writer.write("violations", violations)
            writer.write("cross_year_checks", instances)
            written.append(violations)
            cross_failed.append(violations.filter(pl.col("outcome") == "failed").select("report_id"))
    for group in _grouped(buckets(1)):  # the reviewer's checks across years: prose reused, counts jumping
        findings, shares = across_years.check_bucket(pl.concat(group, how="vertical_relaxed"), preferred)
        for bucket_findings, bucket_shares in zip(_by_bucket(group, findings), _by_bucket(group, shares)):
            writer.write("violations", bucket_findings)
            writer.write("prose_reuse", bucket_shares)
            written.append(bucket_findings)
            cross_failed.append(bucket_findings.select("report_id"))
    # validated once (a schema check costs the same for 10 rows as for 10,000); a failure still
    # aborts the build before anything is committed
    schemas.validate_violations(pl.concat(written) if written else schemas.violations_frame([]))
    cross_failed.append(copies_merge.merge_all_copies(writer, report_frame, batch_keys, cache_folder))
    cross_failed = pl.concat(cross_failed) if cross_failed else pl.DataFrame(schema={"report_id": pl.String})
    counts["failed"] += cross_failed.height
    return _final_reports(report_frame, cross_failed)


# A check across reports costs about 30 ms a call before its first row (10,000 reports in 16 agency
# buckets: the cross-year rules took 0.53 s a bucket at a time, 0.33 s all at once), so consecutive
# buckets are checked together up to this size; a bucket of 100,000 reports' (27 MB) is still checked
# alone, so memory stays that of one bucket.
CHECK_GROUP_BYTES = 48 * 2**20


def _grouped(buckets, limit: int | None = None):
    """Consecutive bucket frames gathered into lists of up to ``limit`` bytes (a larger one alone)."""
    limit = CHECK_GROUP_BYTES if limit is None else limit
    group, size = [], 0
    for frame in buckets:
        frame_size = frame.estimated_size()
        if group and size + frame_size > limit:
            yield group
            group, size = [], 0
        group.append(frame)
        size += frame_size
    if group:
        yield group


def _by_bucket(group: list[pl.DataFrame], found: pl.DataFrame) -> list[pl.DataFrame]:
    """The rows of ``found`` (checked over a group of buckets) split by the bucket of their report, in
    the group's order: what checking each bucket alone gives (a report's agency is in one bucket, and
    the checks keep or sort their rows by report)."""
    if len(group) == 1:
        return [found]
    split = [found.filter(pl.col("report_id").is_in(bucket["report_id"].implode())) for bucket in group]
    if sum(part.height for part in split) != found.height:  # a row in no bucket, or in two: never written so
        raise RuntimeError("findings across reports do not split by agency bucket")
    return split


BUILD_RECORD = "build.json"


def _unchanged_dataset(out: Path, keys: list[str]) -> BuildSummary | None:
    """The dataset at ``out`` when it was built from exactly these batches by this builder: then a
    new build would write the same bytes, and there is nothing to do."""
    try:
        record = json.loads((out / BUILD_RECORD).read_text(encoding="utf-8"))
        if record.get("builder") != cache_mod.builder_version() or record.get("batches") != keys:
            return None
        reports = pl.read_parquet(out / "reports.parquet")
        if not all((out / f"{name}.parquet").exists() for name in store.STREAMS):
            return None
    except (OSError, ValueError, pl.exceptions.ComputeError):
        return None
    counts = record["counts"]
    store.remove_stale_versions(out)
    return BuildSummary(reports, counts["cells"], counts["ambiguous"], counts["failed"], out.resolve())


def _final_reports(frame: pl.DataFrame, cross_failed: pl.DataFrame) -> pl.DataFrame:
    """All report rows; n_violations adds the failed cross-year rules (one row per failure given)."""
    failed = cross_failed.group_by("report_id").len("n_cross").filter(pl.col("report_id").is_not_null())
    frame = (frame.join(failed, on="report_id", how="left", maintain_order="left")
             .with_columns((pl.col("n_violations") + pl.col("n_cross").fill_null(0)).cast(pl.Int32)
                           .alias("n_violations"))
             .with_columns(pl.when(pl.col("status") == "rejected").then(0).otherwise(pl.col("n_violations"))
                           .cast(pl.Int32).alias("n_violations"))
             .drop("n_cross").select(schemas.REPORT_COLUMNS))
    schemas.validate_reports(frame)
    return frame


def _known_sha(stats: dict, source: SourceFile) -> str | None:
    known = stats.get(os.path.abspath(source.path))
    if known and source.size is not None and known[0] == source.size and known[1] == source.mtime_ns:
        return known[2]
    return None


def _remember_stats(cache: cache_mod.Cache, stats: dict, sources: list[SourceFile], reports: pl.DataFrame) -> None:
    if cache.folder is None:
        return
    sha_of = dict(zip(reports["source_file"], reports["sha256"]))
    for source in sources:
        sha = sha_of.get(source.source_file)
        if sha and source.size is not None:
            stats[os.path.abspath(source.path)] = (source.size, source.mtime_ns, sha)
    cache.save_stats(stats)
