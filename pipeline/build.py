"""The pipeline, end to end: files -> per-report results -> frames -> rules -> validated dataset.

``process_file`` is pure per report (bytes in, one report row and its facts out), so it can run in
any process and be cached by content hash. Only ``assemble`` sees the whole set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline import rules, schemas
from pipeline.decode import decode
from pipeline.discover import SourceFile, sha256_hex
from pipeline.facts import table_facts
from pipeline.metadata import read_metadata
from pipeline.readers import BINARY_FORMATS, Document, Unreadable, read_binary_document, read_document
from pipeline.tables import Tables, read_tables

FIRST_TEMPLATE_YEAR = 2019
_READABLE = ("text", "markdown", "html")
_UNSUPPORTED = {
    "zip": "zip archive: unpack it and give the files inside",
}


@dataclass
class ReportResult:
    report: dict
    facts: list[dict]


def process_file(source: SourceFile) -> ReportResult:
    try:
        data = source.path.read_bytes()
    except OSError as exc:
        return ReportResult(_report(source, b"", None, None, "rejected",
                                    f"cannot read the file: {exc.strerror or exc}"), [])
    return process_bytes(source, data)


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
    report.update(agency=meta.agency, year=meta.year)

    if meta.year is not None and meta.year < FIRST_TEMPLATE_YEAR:
        report.update(status="rejected", reason=(
            f"pre-2019 format: a report on {meta.year}, before the official tables of 国办公开办函〔2019〕60号; "
            "its free-form statistics are not extracted"))
        return ReportResult(report, [])

    tables = read_tables(doc)
    found = [t for t in tables.all() if t.found]
    if not tables.requests.found:
        report.update(status="rejected", reason=(
            "not a report: no 收到和处理政府信息公开申请情况 table (no row 本年新收政府信息公开申请数量)"
            + (f"; {len(found)} other table(s) found" if found else "")))
        return ReportResult(report, [])

    report["template"] = tables.template
    facts = table_facts(tables, report)
    report.update(_status(tables, facts))
    report["notes"] = "; ".join(n for t in tables.all() for n in t.notes) or None
    return ReportResult(report, facts)


def _status(tables: Tables, facts: list[dict]) -> dict:
    problems = []
    names = {"proactive": "Table 2 (主动公开)", "requests": "Table 3 (收到和处理申请)",
             "appeals": "Table 4 (行政复议、行政诉讼)"}
    for table in tables.all():
        if not table.found:
            problems.append(f"{names[table.section]} not found")
        elif table.missing_rows:
            problems.append(f"{names[table.section]}: rows not found: {', '.join(table.missing_rows)}")
    problems.extend(tables.notes)
    cells = [f for f in facts if f["status"] != "derived"]
    missing_table = any(not t.found for t in tables.all()) or any(t.missing_rows for t in tables.all())
    return {
        "status": "partial" if missing_table else "parsed",
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
    violations = rules.check(facts)
    failed = (violations.filter(pl.col("outcome") == "failed").group_by("report_id").len("n_violations"))
    reports = schemas.reports_frame([r.report for r in results])
    reports = (reports.drop("n_violations").join(failed, on="report_id", how="left")
               .with_columns(pl.col("n_violations").fill_null(0).cast(pl.Int32)))
    reports = reports.select(schemas.REPORT_COLUMNS)
    schemas.validate(facts, reports, violations)
    return facts, reports, violations


def build(sources: list[SourceFile], on_progress=None) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    results = []
    for source in sources:
        results.append(process_file(source))
        if on_progress:
            on_progress(source)
    return assemble(results)


def input_paths(inputs: list[str]) -> list[Path]:
    return [Path(p) for p in inputs]
