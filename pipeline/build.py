"""The pipeline, end to end: files -> per-report results -> frames -> rules -> validated dataset.

``process_file`` is pure per report (bytes in, one report row and its facts out), so it can run in
any process and be cached by content hash. Only ``assemble`` sees the whole set.
"""

from __future__ import annotations

import re
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
_READABLE = ("text", "markdown", "html")
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


def process_file(source: SourceFile) -> ReportResult:
    try:
        data = source.path.read_bytes()
    except OSError as exc:
        return ReportResult(_report(source, b"", None, None, "rejected",
                                    f"cannot read the file: {exc.strerror or exc}"), [])
    return process_bytes(source, data)


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
