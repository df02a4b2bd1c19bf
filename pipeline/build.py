"""The pipeline, end to end: files -> per-report results -> frames -> rules -> validated dataset.

``process_file`` is pure per report (bytes in, one report row and its facts out), so it runs in any
process and is cached by content hash. Reports are processed in batches (in parallel worker
processes); each batch is validated and streamed to Parquet as it arrives, so memory does not grow
with the number of reports. Only the cross-year rules see the whole set, on a small subset of cells.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import os
import re
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline import cache as cache_mod
from pipeline import rules, schemas, store
from pipeline.decode import decode
from pipeline.discover import SourceFile, sha256_hex
from pipeline.facts import REPORT_FIELDS, FactCell, reading_findings, table_facts
from pipeline.metadata import read_metadata
from pipeline.readers import BINARY_FORMATS, Document, Unreadable, read_binary_document, read_document
from pipeline.tables import Tables, read_tables
from pipeline.timelimit import TimeLimitExceeded, time_limit

FIRST_TEMPLATE_YEAR = 2019
_REPORT_HEADING = re.compile(r"收到和处理(?:政府)?信息公开申请")
_UNSUPPORTED = {
    "zip": "zip archive: unpack it and give the files inside",
    "xlsx": "Excel workbook: the tables of a sheet are read when it is saved as CSV (UTF-8) or HTML",
}


@dataclass
class ReportResult:
    report: dict
    facts: list[FactCell]  # the report's fields (report_id, source_file, agency, year) are in ``report``
    findings: list[dict] = field(default_factory=list)  # problems seen while reading (violation rows)

    def fact_rows(self) -> list[dict]:
        """The facts as dicts with every column (for inspection and tests)."""
        base = {name: self.report[name] for name in REPORT_FIELDS}
        return [{**base, **cell._asdict()} for cell in self.facts]

    def facts_frame(self) -> pl.DataFrame:
        return schemas.facts_frame([(self.report, self.facts)])


@dataclass(frozen=True)
class Limits:
    """Per-file limits, so that no input can hang the build or eat the memory."""

    max_bytes: int = 50 * 2**20
    seconds: float = 60.0


def _hash_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def process_file(source: SourceFile, limits: Limits = Limits()) -> ReportResult:
    """One input file to one report row (and its facts). Never raises."""
    data = _read(source, limits)
    return data if isinstance(data, ReportResult) else process_data(source, data, limits)


def _read(source: SourceFile, limits: Limits) -> bytes | ReportResult:
    """The file's bytes, or a rejected report when it is too large or cannot be read."""
    try:
        size = source.path.stat().st_size
        if size > limits.max_bytes:
            digest, size = _hash_file(source.path)
            report = _report(source, b"", None, None, "rejected", (
                f"file is {size / 2**20:.1f} MB, above the {limits.max_bytes / 2**20:.0f} MB limit per file "
                "(raise it with --max-mb if this really is one report)"))
            report.update(sha256=digest, report_id=digest[:16], bytes=size)
            return ReportResult(report, [])
        return source.path.read_bytes()
    except OSError as exc:
        return ReportResult(_report(source, b"", None, None, "rejected",
                                    f"cannot read the file: {exc.strerror or exc}"), [])


def process_data(source: SourceFile, data: bytes, limits: Limits = Limits()) -> ReportResult:
    """``process_bytes`` under the time limit, with any reader error turned into a rejected report."""
    try:
        with time_limit(limits.seconds):
            return process_bytes(source, data)
    except TimeLimitExceeded:
        reason = (f"reading stopped after {limits.seconds:g} s, the time limit per file (--timeout): "
                  "the file is too large or too unusual to read")
    except RecursionError:
        reason = "the document is nested too deeply to read"
    except Exception as exc:  # a reader bug must not stop the build, nor hide
        reason = f"reader error, a bug in the builder (please report it with this file): {type(exc).__name__}: {exc}"
    return ReportResult(_report(source, data, None, None, "rejected", reason), [])


def process_bytes(source: SourceFile, data: bytes) -> ReportResult:
    decoded = decode(data, source.source_file)
    if decoded.format in BINARY_FORMATS:
        try:
            doc = read_binary_document(data, decoded.format)
        except Unreadable as exc:
            return ReportResult(_report(source, data, decoded.format, None, "rejected", str(exc)), [])
    elif decoded.text is None:
        reason = decoded.problem or _UNSUPPORTED.get(decoded.format, f"unsupported format {decoded.format}")
        return ReportResult(_report(source, data, decoded.format, decoded.encoding, "rejected", reason), [])
    else:
        doc = read_document(decoded.text, decoded.format)
    result = _process_document(source, data, decoded, doc)
    _add_reader_notes(result.report, doc)
    return result


def _add_reader_notes(report: dict, doc: Document) -> None:
    """What the reader did goes to notes; what it could not do (a limit hit) also to the reason of a
    report that is not parsed, since it may be why."""
    notes = [n for n in (report["notes"], *doc.notes, *doc.problems) if n]
    report["notes"] = "; ".join(notes) or None
    if doc.problems and report["status"] != "parsed":
        report["reason"] = "; ".join([*([report["reason"]] if report["reason"] else []), *doc.problems])


def _process_document(source: SourceFile, data: bytes, decoded, doc: Document) -> ReportResult:
    meta = read_metadata(doc.lines)
    report = _report(source, data, decoded.format, decoded.encoding, "parsed", None)
    report.update(
        agency=source.manifest_agency or meta.agency,
        year=source.manifest_year or meta.year,
        agency_source="manifest" if source.manifest_agency else ("text" if meta.agency else None),
        year_source="manifest" if source.manifest_year else ("text" if meta.year else None),
    )

    if report["year"] is not None and report["year"] < FIRST_TEMPLATE_YEAR:
        report.update(status="rejected", reason=(
            f"pre-2019 format: a report on {report['year']}, before the official tables of 国办公开办函〔2019〕60号; "
            "its free-form statistics are not extracted"))
        return ReportResult(report, [])

    tables = read_tables(doc)
    if not any(t.found for t in tables.all()):
        if meta.year_evidence.startswith("title") or _REPORT_HEADING.search(_compact_text(doc)):
            reason = ("a report, but its tables are not in the text (no row 本年新收政府信息公开申请数量): they may be "
                      "images or scans, which are not read (no OCR); give the report as text, HTML or Word")
        else:
            reason = "not a report: no 收到和处理政府信息公开申请情况 table (no row 本年新收政府信息公开申请数量)"
        report.update(status="rejected", reason=reason)
        return ReportResult(report, [])

    report["template"] = tables.template
    facts = table_facts(tables)
    report.update(_status(tables, facts))
    report["notes"] = "; ".join(n for t in tables.all() for n in t.notes) or None
    return ReportResult(report, facts, reading_findings(tables, report["report_id"]))


def _compact_text(doc) -> str:
    return re.sub(r"\s+", "", "".join(doc.lines[:300]))


_TABLE_NAMES = {"proactive": "Table 2 (主动公开)", "requests": "Table 3 (收到和处理申请)",
                "appeals": "Table 4 (行政复议、行政诉讼)"}


def _status(tables: Tables, facts: list[FactCell]) -> dict:
    problems = []
    order = [t.found for t in tables.all()]
    missing = [_TABLE_NAMES[t.section] for t in tables.all() if not t.found]
    if missing and any(order) and order == sorted(order, reverse=True):
        last = [_TABLE_NAMES[t.section] for t in tables.all() if t.found][-1]
        problems.append(f"truncated after {last}: {' and '.join(missing)} not found")
    else:
        problems.extend(f"{name} not found" for name in missing)
    for table in tables.all():
        if table.found and table.missing_rows:
            problems.append(f"{_TABLE_NAMES[table.section]}: rows not found: {', '.join(table.missing_rows)}")
    problems.extend(tables.notes)
    cells = [f for f in facts if f.status != "derived"]
    incomplete = bool(missing) or any(t.missing_rows for t in tables.all())
    return {
        "status": "partial" if incomplete else "parsed",
        "reason": "; ".join(problems) or None,
        "n_cells": len(cells),
        "n_ambiguous": sum(1 for f in cells if f.status == "ambiguous"),
    }


def _report(source: SourceFile, data: bytes, fmt, encoding, status, reason) -> dict:
    digest = sha256_hex(data)
    return {
        "report_id": digest[:16],
        "source_file": source.source_file,
        "sha256": digest,
        "bytes": len(data),
        "format": fmt,
        "encoding": encoding,
        "agency": None,
        "year": None,
        "agency_source": None,
        "year_source": None,
        "template": None,
        "status": status,
        "reason": reason,
        "n_cells": 0,
        "n_ambiguous": 0,
        "n_violations": 0,
        "notes": None,
    }


# --- batches: the unit of parallel work, caching and writing ---------------------------------------------

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


@dataclass
class BatchResult:
    reports: pl.DataFrame  # n_violations counts the within-report rules
    facts: pl.DataFrame
    violations: pl.DataFrame  # within-report rules and reading findings
    cross_year: pl.DataFrame  # the operands of the cross-year rules (checked once all batches are in)


def _report_key(source: SourceFile, sha256: str, limits: Limits) -> str:
    return cache_mod.key("report", sha256, source.manifest_agency, source.manifest_year, limits)


def batch_key(batch: list[SourceFile], shas: list[str], limits: Limits) -> str:
    return cache_mod.key("batch", [(s.source_file, sha, s.manifest_agency, s.manifest_year)
                                   for s, sha in zip(batch, shas)], limits)


def process_file_cached(source: SourceFile, limits: Limits, cache: cache_mod.Cache) -> ReportResult:
    """``process_file``, or the stored result for the same bytes (only the file name may differ)."""
    data = _read(source, limits)
    if isinstance(data, ReportResult) or cache.folder is None:
        return data if isinstance(data, ReportResult) else process_data(source, data, limits)
    name = _report_key(source, sha256_hex(data), limits)
    stored = cache.get("report", name)
    if stored is not None:
        report, facts, findings = stored
        return ReportResult({**report, "source_file": source.source_file}, facts, findings)
    result = process_data(source, data, limits)
    if not (result.report["reason"] or "").startswith(("reading stopped", "reader error")):
        cache.put("report", name, (result.report, result.facts, result.findings))
    return result


def _duplicate_reason(report: dict, first_seen: dict[str, str]) -> str | None:
    """``duplicate of <file>`` for a file with the same bytes as an earlier one (empty files aside)."""
    original = first_seen.get(report["sha256"]) if report["bytes"] else None
    if original is None:
        first_seen.setdefault(report["sha256"], report["source_file"])
        return None
    return f"duplicate of {original} (same bytes)"


def batch_frames(results: list[ReportResult]) -> BatchResult:
    """Frames of one batch: facts, within-report violations, validated with the pandera models."""
    first_seen: dict[str, str] = {}
    kept = []
    for result in results:
        reason = _duplicate_reason(result.report, first_seen)
        if reason:  # identical files in the batch: the later ones are rejected, their rows dropped
            result = ReportResult({**result.report, "status": "rejected", "reason": reason,
                                   "n_cells": 0, "n_ambiguous": 0}, [])
        kept.append(result)
    facts = schemas.facts_frame([(r.report, r.facts) for r in kept])
    within = rules.evaluate(facts, scope="report")[0] if facts.height else schemas.violations_frame([])
    findings = schemas.violations_frame([v for r in kept for v in r.findings])
    violations = pl.concat([within, findings]).sort(["report_id", "rule", "section", "row", "col"], nulls_last=True)
    reports = schemas.reports_frame([r.report for r in kept])
    failed = violations.filter(pl.col("outcome") == "failed").group_by("report_id").len("n_failed")
    reports = (reports.join(failed, on="report_id", how="left", maintain_order="left")
               .with_columns(pl.when(pl.col("status") == "rejected").then(0)
                             .otherwise(pl.col("n_failed").fill_null(0)).cast(pl.Int32).alias("n_violations"))
               .drop("n_failed"))
    schemas.validate_facts(facts)
    schemas.validate_violations(violations)
    return BatchResult(reports, facts, violations, rules.cross_year_operands(facts))


def process_batch(batch: list[SourceFile], limits: Limits, cache_folder: Path | None) -> BatchResult:
    """One batch, start to finish (runs in a worker process)."""
    cache = cache_mod.Cache(cache_folder)
    return batch_frames([process_file_cached(source, limits, cache) for source in batch])


def _drop_duplicates(result: BatchResult, first_seen: dict[str, str]) -> BatchResult:
    """Files with the same bytes as a file of an earlier batch: rejected as duplicates, rows dropped."""
    reasons = [_duplicate_reason(row, first_seen) if row["status"] != "rejected" or not (row["reason"] or "")
               .startswith("duplicate of") else None
               for row in result.reports.select("source_file", "sha256", "bytes", "status", "reason").iter_rows(named=True)]
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
                       result.cross_year.filter(~pl.col("report_id").is_in(dup_ids)))


def _run_batches(batches, limits, cache_folder, jobs):
    """Batch results in input order; workers run ahead, a bounded number of batches at a time."""
    if jobs <= 1 or len(batches) <= 1:
        for batch in batches:
            yield process_batch(batch, limits, cache_folder)
        return
    context = multiprocessing.get_context("spawn")  # polars' thread pool does not survive fork
    # one polars thread per worker: the workers already fill the cores, more threads only contend
    previous = os.environ.get("POLARS_MAX_THREADS")
    os.environ["POLARS_MAX_THREADS"] = "1"
    try:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context)
    finally:
        if previous is None:
            os.environ.pop("POLARS_MAX_THREADS", None)
        else:
            os.environ["POLARS_MAX_THREADS"] = previous
    with pool:
        pending = deque()
        queue = iter(batches)
        for batch in itertools.islice(queue, jobs + 1):  # a bounded window: memory stays flat
            pending.append(pool.submit(process_batch, batch, limits, cache_folder))
        while pending:
            result = pending.popleft().result()
            for batch in itertools.islice(queue, 1):
                pending.append(pool.submit(process_batch, batch, limits, cache_folder))
            yield result


@dataclass
class BuildSummary:
    reports: pl.DataFrame
    n_cells: int
    n_ambiguous: int
    n_failed: int
    version: Path


_BATCH_PARTS = ("reports", "facts", "violations", "cross_year")


def _load_batch(cache: cache_mod.Cache, key: str) -> BatchResult | None:
    frames = cache.get_frames("batch", key, _BATCH_PARTS)
    return BatchResult(**frames) if frames else None


def _store_batch(cache: cache_mod.Cache, key: str, result: BatchResult) -> None:
    cache.put_frames("batch", key, {part: getattr(result, part) for part in _BATCH_PARTS})


def run_build(sources: list[SourceFile], out: Path, limits: Limits = Limits(), jobs: int = 1,
              cache_folder: Path | None = None, on_progress=None) -> BuildSummary:
    """Read every source, write the dataset to ``out`` atomically, return what was written."""
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
    todo = [i for i, key in enumerate(keys) if key is None or not cache.has_frames("batch", key)]
    first_seen: dict[str, str] = {}
    reports, counts = [], {"cells": 0, "ambiguous": 0, "failed": 0}
    with store.DatasetWriter(out) as writer:
        cross = store.Spill(writer.version.parent / f".cross-{writer.version.name}", key="agency_key")
        computed = _run_batches([batches[i] for i in todo], limits, cache.folder, jobs)
        for index, batch in enumerate(batches):
            result = _load_batch(cache, keys[index]) if index not in todo else None
            if result is None:
                result = next(computed) if index in todo else process_batch(batch, limits, cache.folder)
                keys[index] = batch_key(batch, result.reports["sha256"].to_list(), limits)
                _store_batch(cache, keys[index], result)
            result = _drop_duplicates(result, first_seen)
            writer.write("facts", result.facts)
            writer.write("violations", result.violations)
            printed = result.facts.filter(pl.col("status") != "derived")
            counts["cells"] += printed.height
            counts["ambiguous"] += printed.filter(pl.col("status") == "ambiguous").height
            counts["failed"] += result.violations.filter(pl.col("outcome") == "failed").height
            reports.append(result.reports)
            cross.add(result.cross_year)
            if on_progress:
                on_progress(len(batch))
        cross_failed = []
        for operands in cross.buckets():  # one agency bucket at a time
            found = rules.evaluate(operands, scope="cross_year")[0]
            schemas.validate_violations(found)
            writer.write("violations", found)
            cross_failed.append(found.filter(pl.col("outcome") == "failed").select("report_id"))
        cross_failed = pl.concat(cross_failed) if cross_failed else pl.DataFrame(schema={"report_id": pl.String})
        counts["failed"] += cross_failed.height
        report_frame = _final_reports(reports, cross_failed)
        writer.write_json(BUILD_RECORD, {"builder": cache_mod.builder_version(), "batches": keys, "counts": counts})
        version = writer.commit(report_frame)
    _remember_stats(cache, stats, sources, report_frame)
    return BuildSummary(report_frame, counts["cells"], counts["ambiguous"], counts["failed"], version)


BUILD_RECORD = "build.json"


def _unchanged_dataset(out: Path, keys: list[str]) -> BuildSummary | None:
    """The dataset at ``out`` when it was built from exactly these batches by this builder: then a
    new build would write the same bytes, and there is nothing to do."""
    try:
        record = json.loads((out / BUILD_RECORD).read_text(encoding="utf-8"))
        if record.get("builder") != cache_mod.builder_version() or record.get("batches") != keys:
            return None
        reports = pl.read_parquet(out / "reports.parquet")
        if not all((out / f"{name}.parquet").exists() for name in ("facts", "violations")):
            return None
    except (OSError, ValueError, pl.exceptions.ComputeError):
        return None
    counts = record["counts"]
    store.remove_stale_versions(out)
    return BuildSummary(reports, counts["cells"], counts["ambiguous"], counts["failed"], out.resolve())


def _final_reports(reports: list[pl.DataFrame], cross_failed: pl.DataFrame) -> pl.DataFrame:
    """All report rows; n_violations adds the failed cross-year rules (one row per failure given)."""
    frame = pl.concat(reports) if reports else schemas.reports_frame([])
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
