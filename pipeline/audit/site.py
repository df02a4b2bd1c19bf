"""``ogi audit``: a static site over a dataset, one page per report and an index of them all.

Self-contained (inline CSS and JavaScript, no CDN, no web font), readable without JavaScript and from
``file://``. The source files are copied into the site when they are found (the build records where
its inputs were), so that each page links to its report as published.
"""

from __future__ import annotations

import json
import shutil
from html import escape
from pathlib import Path

import polars as pl

from pipeline.audit.assets import CSS, INDEX_JS
from pipeline.audit.cells_html import with_html
from pipeline.audit.report_page import ReportContext, page_name, render
from pipeline.checks.quality import REVIEW_FAMILIES
from pipeline.warehouse import query

REPORTS_FOLDER = "reports"
SOURCES_FOLDER = "sources"
MAX_SOURCE_BYTES = 50 * 2**20
FAMILIES = ("sums", *REVIEW_FAMILIES)


def _frames(dataset: Path) -> dict[str, pl.DataFrame]:
    """What every page needs, one row per report (the cells and findings are streamed: ``_ByReport``)."""
    con = query.connect(dataset)
    try:
        return {
            "reports": con.sql("SELECT * FROM reports ORDER BY year, agency, source_file").pl(),
            "rules": con.sql("SELECT rule, \"check\" FROM rules").pl(),
            "reuse": con.sql("SELECT * FROM prose_reuse").pl(),
            "summary": con.sql("SELECT * FROM report_summary_all").pl(),
            "quality": con.sql("SELECT * FROM report_quality").pl(),
        }
    finally:
        con.close()


# a report's cells in the order of its source (line or page), so its provenance table reads like the report
CELLS_SQL = ("SELECT report_id, source_file, section, row, col, value, status, unit, line, raw, evidence FROM cells "
             "ORDER BY report_id, line NULLS LAST, section, row, col, source_file")
VIOLATIONS_SQL = "SELECT * FROM violations ORDER BY report_id, rule, section, row, col, cells, message"
STREAM_ROWS = 100_000  # rows fetched from DuckDB at a time
PAGES_AT_ONCE = 500  # reports whose cells are turned into HTML together


class _ByReport:
    """The rows of a query ordered by report_id, taken a range of report ids at a time, so that the
    memory holds a few hundred reports' cells, not the dataset's."""

    def __init__(self, dataset: Path, sql: str):
        self._con = query.connect(dataset)
        self._batches = iter(self._con.sql(sql).to_arrow_reader(STREAM_ROWS))
        self._held: pl.DataFrame | None = None

    def upto(self, last_id: str) -> pl.DataFrame | None:
        """Rows whose report_id is at most ``last_id`` (and after those taken before)."""
        parts = []
        while True:
            if self._held is None:
                batch = next(self._batches, None)
                if batch is None:
                    break
                self._held = pl.from_arrow(batch)
            if self._held.height and self._held["report_id"][-1] > last_id:
                later = pl.col("report_id") > last_id
                parts.append(self._held.filter(~later))
                self._held = self._held.filter(later)
                break
            parts.append(self._held)
            self._held = None
        return pl.concat(parts) if parts else None

    def close(self) -> None:
        self._con.close()


def _by_report(frame: pl.DataFrame | None) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in frame.iter_rows(named=True) if frame is not None else ():
        out.setdefault(row["report_id"], []).append(row)
    return out


def _cells_by_report(cells: pl.DataFrame | None) -> dict[str, tuple[dict, str]]:
    """report_id -> (cell key -> its HTML, the report's provenance rows), made for many reports at once."""
    if cells is None or cells.is_empty():
        return {}
    grouped = with_html(cells).group_by("report_id", maintain_order=True).agg(
        "section", "row", "col", "td", pl.col("prov").str.join(""))
    return {rid: (dict(zip(zip(sections, rows, cols), tds)), prov)
            for rid, sections, rows, cols, tds, prov in grouped.iter_rows()}


def _input_roots(dataset: Path) -> list[Path]:
    try:
        record = json.loads((dataset / "build.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [Path(p) for p in record.get("inputs", [])]


def _copy_source(source_file: str, roots: list[Path], site: Path) -> str | None:
    """The site-relative link of the report's own file, copied into the site when it is found."""
    for root in roots:
        for candidate in (root / source_file, root.parent / source_file, root):
            if candidate.is_file() and candidate.name == Path(source_file).name:
                if candidate.stat().st_size > MAX_SOURCE_BYTES:
                    return None
                target = site / SOURCES_FOLDER / source_file
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(candidate, target)
                return f"../{SOURCES_FOLDER}/{source_file}"
    return None


def _neighbours(reports: pl.DataFrame) -> dict[str, dict[str, tuple[str, int]]]:
    """report_id -> {"previous" | "next": (report_id, year)} of the agency's preferred reports."""
    preferred = {(r["agency"], r["year"]): r["report_id"] for r in reports.filter(pl.col("preferred")).iter_rows(named=True)
                 if r["agency"] and r["year"]}
    out = {}
    for r in reports.filter(pl.col("status") != "rejected").iter_rows(named=True):
        links = {}
        for which, year in (("previous", (r["year"] or 0) - 1), ("next", (r["year"] or 0) + 1)):
            other = preferred.get((r["agency"], year))
            if other:
                links[which] = (other, year)
        out[r["report_id"]] = links
    return out


def build_site(dataset: Path, out: Path) -> int:
    """Write the site; returns the number of report pages."""
    frames = _frames(dataset)
    pages = out / REPORTS_FOLDER
    pages.mkdir(parents=True, exist_ok=True)
    reuse = {r["report_id"]: r for r in frames["reuse"].to_dicts()}
    summary = {r["report_id"]: r for r in frames["summary"].to_dicts()}
    families = dict(frames["rules"].rows())
    neighbours = _neighbours(frames["reports"])
    roots = _input_roots(dataset)
    readable = frames["reports"].filter(pl.col("status") != "rejected").sort("report_id")
    streams = [_ByReport(dataset, CELLS_SQL), _ByReport(dataset, VIOLATIONS_SQL)]
    try:
        for chunk in readable.iter_slices(PAGES_AT_ONCE):
            last = chunk["report_id"][-1]
            cells = _cells_by_report(streams[0].upto(last))
            findings = _by_report(streams[1].upto(last))
            for report in chunk.iter_rows(named=True):
                rid = report["report_id"]
                previous = neighbours[rid].get("previous")
                tds, provenance = cells.get(rid, ({}, ""))
                ctx = ReportContext(report, tds, provenance, findings.get(rid, []), families, reuse.get(rid),
                                    summary.get(rid), summary.get(previous[0]) if previous else None,
                                    neighbours[rid], _copy_source(report["source_file"], roots, out))
                (pages / page_name(rid)).write_text(render(ctx), encoding="utf-8")
    finally:
        for stream in streams:
            stream.close()
    (out / "index.html").write_text(render_index(frames["reports"], frames["quality"]), encoding="utf-8")
    return readable.height


def render_index(reports: pl.DataFrame, quality: pl.DataFrame) -> str:
    outcomes = {r["report_id"]: r for r in quality.to_dicts()}
    years = sorted({y for y in reports["year"].to_list() if y is not None})
    rows = []
    for r in reports.iter_rows(named=True):
        q = outcomes.get(r["report_id"], {})
        failed = [f for f in FAMILIES if q.get(f) == "failed"]
        cells = "".join(f'<td class="n {q.get(f, "")}" data-sort="{q.get(f"{f}_failed", "")}">'
                        f'{q.get(f"{f}_failed", "") or ("" if q.get(f) != "not_assessable" else "n/a")}</td>'
                        for f in FAMILIES)
        name = escape(r["agency"] or r["source_file"])
        link = (f'<a href="{REPORTS_FOLDER}/{page_name(r["report_id"])}">{name}</a>' if r["status"] != "rejected"
                else name)
        read = (r["n_cells"] or 0) - (r["n_ambiguous"] or 0)
        rows.append(f'<tr data-agency="{escape(r["agency"] or "")}" data-year="{r["year"] or ""}" '
                    f'data-failed="{" ".join(failed)}"><td>{link}</td><td class="n">{r["year"] or ""}</td>'
                    f'<td>{r["template"] or ""}</td><td class="{r["status"]}">{r["status"]}</td>'
                    f'<td class="n">{read}</td><td class="n">{r["n_ambiguous"]}</td>{cells}'
                    f'<td>{r["published"] or ""}</td><td class="small">{escape(r["source_file"])}'
                    + (f'<br>{escape(r["reason"])}' if r["status"] == "rejected" and r["reason"] else "")
                    + "</td></tr>")
    head = ("<tr><th>agency</th><th>year</th><th>template</th><th>status</th><th>cells read</th><th>ambiguous</th>"
            + "".join(f"<th>{f}</th>" for f in FAMILIES) + "<th>published</th><th>file</th></tr>")
    options = "".join(f'<option value="{y}">{y}</option>' for y in years)
    family_options = "".join(f'<option value="{f}">{f}</option>' for f in FAMILIES)
    return f"""<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><title>Audit of the reports</title>
<style>{CSS}</style></head><body>
<h1>Government information disclosure annual reports: audit</h1>
<p>{reports.height} files. Columns per family of checks: failed findings (n/a: could not be checked). Click a
report for its tables, where each number comes from and every finding.</p>
<p id="filters" style="display:none">agency <input id="f-agency" size="14"> year <select id="f-year">
<option value="">all</option>{options}</select> failed family <select id="f-family"><option value="">any</option>
{family_options}</select> showing <span id="shown">{reports.height}</span></p>
<table id="reports"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>
<script>{INDEX_JS}</script></body></html>"""
