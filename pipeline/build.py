"""The pipeline, end to end: files -> per-report results -> frames -> rules -> validated dataset.

``process_file`` is pure per report (bytes in, one report row and its facts out), so it can run in
any process and be cached by content hash. Only ``assemble`` sees the whole set.
"""

from __future__ import annotations

import hashlib
import re
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline import rules, schemas
from pipeline.decode import decode
from pipeline.discover import SourceFile, sha256_hex
from pipeline.facts import reading_findings, table_facts
from pipeline.metadata import read_metadata
from pipeline.readers import read_document
from pipeline.tables import Tables, read_tables

FIRST_TEMPLATE_YEAR = 2019
_REPORT_HEADING = re.compile(r"收到和处理(?:政府)?信息公开申请")
_UNSUPPORTED = {
    "pdf": "PDF input is not read yet: give the text of the PDF (pdftotext) or the HTML page instead",
    "docx": "Word .docx input is not read yet: save it as HTML or text",
    "doc": "legacy Word/WPS binary document: convert it to .docx or HTML (LibreOffice --convert-to html)",
    "zip": "zip archive: unpack it and give the files inside",
}


@dataclass
class ReportResult:
    report: dict
    facts: list[dict]
    findings: list[dict] = field(default_factory=list)  # problems seen while reading (violation rows)


@dataclass(frozen=True)
class Limits:
    """Per-file limits, so that no input can hang the build or eat the memory."""

    max_bytes: int = 50 * 2**20
    seconds: float = 60.0


class _TimeLimitExceeded(Exception):
    pass


@contextmanager
def _time_limit(seconds: float):
    """Interrupt the work after ``seconds`` (POSIX timer; only where signals can be used)."""
    usable = seconds > 0 and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise _TimeLimitExceeded

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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
    try:
        size = source.path.stat().st_size
        if size > limits.max_bytes:
            digest, size = _hash_file(source.path)
            report = _report(source, b"", None, None, "rejected", (
                f"file is {size / 2**20:.1f} MB, above the {limits.max_bytes / 2**20:.0f} MB limit per file "
                "(raise it with --max-mb if this really is one report)"))
            report.update(sha256=digest, report_id=digest[:16], bytes=size)
            return ReportResult(report, [])
        data = source.path.read_bytes()
    except OSError as exc:
        return ReportResult(_report(source, b"", None, None, "rejected",
                                    f"cannot read the file: {exc.strerror or exc}"), [])
    try:
        with _time_limit(limits.seconds):
            return process_bytes(source, data)
    except _TimeLimitExceeded:
        reason = (f"reading stopped after {limits.seconds:g} s, the time limit per file (--timeout): "
                  "the file is too large or too unusual to read")
    except RecursionError:
        reason = "the document is nested too deeply to read"
    except Exception as exc:  # a reader bug must not stop the build, nor hide
        reason = f"reader error, a bug in the builder (please report it with this file): {type(exc).__name__}: {exc}"
    return ReportResult(_report(source, data, None, None, "rejected", reason), [])


def process_bytes(source: SourceFile, data: bytes) -> ReportResult:
    decoded = decode(data, source.source_file)
    if decoded.text is None:
        reason = decoded.problem or _UNSUPPORTED.get(decoded.format, f"unsupported format {decoded.format}")
        return ReportResult(_report(source, data, decoded.format, decoded.encoding, "rejected", reason), [])

    doc = read_document(decoded.text, decoded.format)
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
    facts = table_facts(tables, report)
    report.update(_status(tables, facts))
    report["notes"] = "; ".join(n for t in tables.all() for n in t.notes) or None
    return ReportResult(report, facts, reading_findings(tables, report["report_id"]))


def _compact_text(doc) -> str:
    return re.sub(r"\s+", "", "".join(doc.lines[:300]))


_TABLE_NAMES = {"proactive": "Table 2 (主动公开)", "requests": "Table 3 (收到和处理申请)",
                "appeals": "Table 4 (行政复议、行政诉讼)"}


def _status(tables: Tables, facts: list[dict]) -> dict:
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
    cells = [f for f in facts if f["status"] != "derived"]
    incomplete = bool(missing) or any(t.missing_rows for t in tables.all())
    return {
        "status": "partial" if incomplete else "parsed",
        "reason": "; ".join(problems) or None,
        "n_cells": len(cells),
        "n_ambiguous": sum(1 for f in cells if f["status"] == "ambiguous"),
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


def assemble(results: list[ReportResult]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Frames for the whole run: facts, reports (with violation counts), violations; validated."""
    facts = schemas.facts_frame([f for r in results for f in r.facts])
    findings = schemas.violations_frame([v for r in results for v in r.findings])
    violations = pl.concat([rules.check(facts), findings]).sort(
        ["report_id", "rule", "section", "row", "col"], nulls_last=True)
    failed = (violations.filter(pl.col("outcome") == "failed").group_by("report_id").len("n_violations"))
    reports = schemas.reports_frame([r.report for r in results])
    reports = (reports.drop("n_violations").join(failed, on="report_id", how="left")
               .with_columns(pl.when(pl.col("status") == "rejected").then(0)
                             .otherwise(pl.col("n_violations").fill_null(0)).cast(pl.Int32).alias("n_violations")))
    reports = reports.select(schemas.REPORT_COLUMNS)
    schemas.validate(facts, reports, violations)
    return facts, reports, violations


def mark_duplicates(results: list[ReportResult]) -> list[ReportResult]:
    """A file with the same bytes as an earlier one is rejected as its duplicate; its facts are dropped."""
    first: dict[str, str] = {}
    out = []
    for result in results:
        report = result.report
        original = first.get(report["sha256"]) if report["bytes"] else None
        if original is None:
            first.setdefault(report["sha256"], report["source_file"])
            out.append(result)
            continue
        report = {**report, "status": "rejected", "reason": f"duplicate of {original} (same bytes)",
                  "n_cells": 0, "n_ambiguous": 0}
        out.append(ReportResult(report, []))
    return out


def build(sources: list[SourceFile], on_progress=None, limits: Limits = Limits()):
    results = []
    for source in sources:
        results.append(process_file(source, limits))
        if on_progress:
            on_progress(source)
    return assemble(mark_duplicates(results))


def input_paths(inputs: list[str]) -> list[Path]:
    return [Path(p) for p in inputs]
