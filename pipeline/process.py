"""Per-report and per-batch work: one file's bytes to its report row, facts and findings; a batch of
them to validated frames.

Everything here is pure per report (bytes in, results out), so it runs in any worker process and is
cached by content hash: the cache key covers exactly the modules this module imports (see
:func:`pipeline.cache.builder_version`), so nothing here may import the warehouse or the CLI.
"""

from __future__ import annotations

import gc
import hashlib
import io
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline import cache as cache_mod
from pipeline.checks import across_years, review, rules
from pipeline.extract.facts import (
    REPORT_FIELDS,
    FactCell,
    reading_findings,
    table_facts,
)
from pipeline.extract.metadata import read_metadata
from pipeline.extract.publication import read_publication
from pipeline.extract.tables import Tables, read_tables
from pipeline.ingest.decode import decode
from pipeline.ingest.discover import SourceFile, sha256_hex
from pipeline.ingest.normalize import without_spaces
from pipeline.ingest.readers import (
    BINARY_FORMATS,
    Document,
    Unreadable,
    read_binary_document,
    read_document,
)
from pipeline.ingest.readers.pictures import folder_resolver
from pipeline.knowledge import divisions, domain, schemas
from pipeline.timelimit import TimeLimitExceeded, time_limit

_UNSUPPORTED = {
    "zip": "zip archive: unpack it and give the files inside",
    "xlsx": "Excel workbook: the tables of a sheet are read when it is saved as CSV (UTF-8) or HTML",
    "picture": "a picture, not a report by itself: a web page that shows it has its table read by OCR where it "
               "stands (give the page with its picture folder); a scanned report is read as a PDF",
}


@dataclass
class ReportResult:
    report: dict
    facts: list[FactCell]  # the report's fields (report_id, source_file, agency, year) are in ``report``
    findings: list[dict] = field(default_factory=list)  # problems seen while reading (violation rows)
    # False when the result depends on more than the file's bytes and the builder (a time or page
    # limit cut the reading short, a converter was missing or slow): such results are never cached
    cacheable: bool = True
    across: dict | None = None  # what the checks across years need of this report (checks.across_years)

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
    if source.problem:
        return ReportResult(_report(source, b"", None, None, "rejected", source.problem), [], cacheable=False)
    try:
        size = os.stat(source.path).st_size
        if size > limits.max_bytes:
            digest, size = _hash_file(Path(source.path))
            report = _report(source, b"", None, None, "rejected", (
                f"file is {size / 2**20:.1f} MB, above the {limits.max_bytes / 2**20:.0f} MB limit per file "
                "(raise it with --max-mb if this really is one report)"))
            report.update(sha256=digest, report_id=digest[:16], bytes=size)
            return ReportResult(report, [])
        return Path(source.path).read_bytes()
    except OSError as exc:
        return ReportResult(_report(source, b"", None, None, "rejected",
                                    f"cannot read the file: {exc.strerror or exc}"), [], cacheable=False)


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
    return ReportResult(_report(source, data, None, None, "rejected", reason), [], cacheable=False)


def process_bytes(source: SourceFile, data: bytes) -> ReportResult:
    decoded = decode(data, source.source_file)
    if decoded.format in BINARY_FORMATS:
        try:
            doc = read_binary_document(data, decoded.format)
        except Unreadable as exc:
            return ReportResult(_report(source, data, decoded.format, None, "rejected", str(exc)), [],
                                cacheable=exc.cacheable)
    elif decoded.text is None:
        reason = decoded.problem or _UNSUPPORTED.get(decoded.format, f"unsupported format {decoded.format}")
        return ReportResult(_report(source, data, decoded.format, decoded.encoding, "rejected", reason), [])
    else:
        resolve = folder_resolver(Path(source.path)) if decoded.format == "html" and source.path else None
        doc = read_document(decoded.text, decoded.format, resolve)
    if decoded.note:
        doc.notes.insert(0, decoded.note)
    result = _process_document(source, data, decoded, doc)
    _add_reader_notes(result.report, doc)
    result.cacheable = not doc.cut_short and not doc.machine_dependent
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
    report.update(_agency_fields(report["agency"]))
    publication = read_publication(doc.lines, doc.properties, report["year"])
    report.update(published=publication.published, published_source=publication.published_source,
                  source_url=publication.source_url)
    manifest_notes = _manifest_disagreements(source, meta)

    first = domain.TEMPLATES[0]
    if report["year"] is not None and report["year"] < domain.first_report_year(first):
        report.update(status="rejected", reason=domain.message(
            "before_templates", first=domain.first_report_year(first), year=report["year"],
            document=domain.template_document(first)))
        return ReportResult(report, [])

    tables = read_tables(doc)
    if not any(t.found for t in tables.all()):
        heading = domain.label("requests", "anchor", "heading").regex
        is_report = meta.year_evidence.startswith("title") or heading.search(_compact_text(doc))
        report.update(status="rejected", reason=domain.message("tables_not_in_text" if is_report else "not_a_report"))
        return ReportResult(report, [])

    report["template"] = tables.template
    facts = table_facts(tables)
    report.update(_status(tables, facts))
    report["notes"] = "; ".join([*manifest_notes, *(n for t in tables.all() for n in t.notes)]) or None
    findings = reading_findings(tables, report["report_id"]) + review.review(report, doc, tables, facts)
    return ReportResult(report, facts, findings, across=across_years.operands(report, tables.prose, facts))


def _agency_fields(agency: str | None) -> dict:
    """Where and what the agency is: its division (divisions.csv, looked up once per agency by
    divisions.place_of) and its kind (agency_suffixes.csv)."""
    place = divisions.place_of(agency) if agency else divisions.Place()
    return {"region_code": place.region_code, "province": place.province, "prefecture": place.prefecture,
            "county": place.county, "township": place.township, "level": place.level,
            "kind": divisions.agency_kind(agency) if agency else None}


def _manifest_disagreements(source: SourceFile, meta) -> list[str]:
    """A manifest value that contradicts the text is used, and said."""
    notes = []
    if source.manifest_year and meta.year and source.manifest_year != meta.year:
        notes.append(f"the manifest says year {source.manifest_year}, the text says {meta.year} "
                     f"({meta.year_evidence}): the manifest is used")
    if source.manifest_agency and meta.agency and source.manifest_agency != meta.agency:
        notes.append(f"the manifest says agency {source.manifest_agency}, the text says {meta.agency}: "
                     "the manifest is used")
    return notes


def _compact_text(doc) -> str:
    return without_spaces("".join(doc.lines[:300]))


def _table_name(section: str) -> str:
    """Table 2 (主动公开): how messages name a table (sections.csv)."""
    named = domain.section_table(section)
    return f"{named['table']} ({named['name_zh']})"


def _status(tables: Tables, facts: list[FactCell]) -> dict:
    problems = []
    order = [t.found for t in tables.all()]
    missing = [_table_name(t.section) for t in tables.all() if not t.found]
    if missing and any(order) and order == sorted(order, reverse=True):
        last = [_table_name(t.section) for t in tables.all() if t.found][-1]
        problems.append(f"truncated after {last}: {' and '.join(missing)} not found")
    else:
        problems.extend(f"{name} not found" for name in missing)
    for table in tables.all():
        if table.found and table.missing_rows:
            problems.append(f"{_table_name(table.section)}: rows not found: {', '.join(table.missing_rows)}")
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
        "copies": 0,  # set once every file is known (copies.preferred_copies)
        "preferred": False,
        **dict.fromkeys(("region_code", "province", "prefecture", "county", "township", "level", "kind",
                         "source_url", "published", "published_source")),
    }


# --- batches: the unit of parallel work, caching and writing ---------------------------------------------

@dataclass
class BatchResult:
    reports: pl.DataFrame  # n_violations counts the within-report rules
    facts: pl.DataFrame
    violations: pl.DataFrame  # within-report rules and reading findings
    cross_year: pl.DataFrame  # the operands of the cross-year rules (checked once all batches are in)
    across: pl.DataFrame  # the operands of the reviewer's checks across years (prose, counts)
    cacheable: bool = True  # every report of the batch is (see ReportResult.cacheable)

    def __reduce__(self):
        # how a worker sends a batch to the build: polars pickles a frame uncompressed (a batch of
        # 364 reports: 26 MB, held twice while pickling and once more on arrival); zstd Arrow IPC
        # makes it 1.3 MB, is faster both ways, and gives back the same columns, types and chunks
        frames = self.__dict__.get("_packed") or tuple(_ipc_bytes(getattr(self, name)) for name in BATCH_FRAMES)
        return _batch_from_ipc, (frames, self.cacheable)

    def __getattr__(self, name: str):
        # a batch that arrived from a worker keeps its frames packed until one is read: the build
        # holds several batches read ahead, and packed they are about ten times smaller
        packed = self.__dict__.get("_packed")
        if packed is None or name not in BATCH_FRAMES:
            raise AttributeError(name)
        self.__dict__.update(zip(BATCH_FRAMES, (pl.read_ipc(io.BytesIO(data)) for data in packed)))
        del self.__dict__["_packed"]
        return self.__dict__[name]


BATCH_FRAMES = ("reports", "facts", "violations", "cross_year", "across")


def _ipc_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="zstd")
    return buffer.getvalue()


def _batch_from_ipc(frames: tuple[bytes, ...], cacheable: bool) -> BatchResult:
    """A batch as sent by ``BatchResult.__reduce__``, its frames decoded when first read."""
    batch = BatchResult.__new__(BatchResult)
    batch.__dict__.update(_packed=frames, cacheable=cacheable)
    return batch


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
        report, fact_columns, findings, across = stored
        facts = list(map(FactCell._make, zip(*fact_columns)))
        return ReportResult({**report, "source_file": source.source_file}, facts, findings, across=across)
    result = process_data(source, data, limits)
    if result.cacheable:
        # the facts by column: pickling hundreds of named tuples one by one took five times as long
        cache.put("report", name, (result.report, tuple(zip(*result.facts)), result.findings, result.across))
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
                                   "n_cells": 0, "n_ambiguous": 0}, [], cacheable=result.cacheable)
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
    across = across_years.operands_frame([r.across for r in kept if r.across is not None])
    return BatchResult(reports, facts, violations, rules.cross_year_operands(facts), across,
                       cacheable=all(r.cacheable for r in kept))


# A batch allocates millions of small objects that live until its frames are built (tokens, readings,
# fact rows). At Python's default thresholds (700, 10, 10) the cycle collector ran every 700
# allocations and walked the same live objects over and over: about 10 % of a batch's time. A batch
# makes no reference cycles (a test checks), so collecting 30 times less often costs no memory
# (1,023 synthetic reports in one process: 150 -> 167 reports/s, median of three).
COLLECTOR_THRESHOLDS = (20_000, 10, 10)


@contextmanager
def fewer_collections():
    """Python's cycle collector at :data:`COLLECTOR_THRESHOLDS` inside the block, as it was after."""
    previous = gc.get_threshold()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def process_batch(batch: list[SourceFile], limits: Limits, cache_folder: Path | None) -> BatchResult:
    """One batch, start to finish (runs in a worker process), with fewer collections."""
    cache = cache_mod.Cache(cache_folder)
    with fewer_collections():
        with cache.deferred():  # the batch's reports go into the cache in one write
            results = [process_file_cached(source, limits, cache) for source in batch]
        return batch_frames(results)

