"""One report's audit page: what is wrong with it and where each number came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from pipeline.audit.assets import CSS
from pipeline.audit.findings import concerned_cells
from pipeline.audit.tables import TableView, cell_id, number
from pipeline.checks.review import deadline_of
from pipeline.knowledge import labels

STATUS_LEGEND = (("reported", "read from the source"), ("blank", "printed empty"),
                 ("ambiguous", "not determined by the text"), ("derived", "computed"),
                 ("not_printed", "not in this report's tables"), ("conflict", "copies disagree"))


@dataclass
class ReportContext:
    report: dict
    tds: dict[tuple[str, str, str], str]  # each cell's HTML (cells_html.with_html)
    provenance: str  # the rows of the provenance table, in HTML
    findings: list[dict]  # violations rows
    families: dict[str, str]  # rule -> check family
    reuse: dict | None = None
    summary: dict | None = None  # report_summary_all row of this file
    previous: dict | None = None  # report_summary row of the agency's report of the year before
    neighbours: dict[str, tuple[str, int]] = field(default_factory=dict)  # previous/next -> (report_id, year)
    source_link: str | None = None


def page_name(report_id: str) -> str:
    return f"{report_id}.html"


def _meta(report: dict, source_link: str | None) -> str:
    deadline = deadline_of(report.get("kind"), report.get("year"))
    place = " ".join(p for p in (report.get("province"), report.get("prefecture"), report.get("county"),
                                 report.get("township")) if p)
    source = (f'<a href="{escape(source_link)}">{escape(report["source_file"])}</a>' if source_link
              else escape(report["source_file"]))
    rows = [("file", source), ("status", escape(f'{report["status"]}' + (f' — {report["reason"]}' if report["reason"]
                                                                          else ""))),
            ("template", escape(str(report.get("template")))),
            ("place", escape(f'{place} ({report.get("region_code") or "no code"})' if place else "not matched")),
            ("level, kind", escape(f'{report.get("level") or "-"}, {report.get("kind") or "-"}')),
            ("published", escape(f'{report.get("published") or "unknown"}'
                                 + (f' ({report.get("published_source")})' if report.get("published") else "")
                                 + (f'; deadline {deadline}' if deadline else ""))),
            ("copies", escape(f'{report.get("copies")} file(s) give this report'
                              + ("; this is the preferred copy" if report.get("preferred") else ""))),
            ("page address", escape(report.get("source_url") or "-"))]
    return '<table class="meta">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _finding_items(ctx: ReportContext, numbered: list[tuple[str, dict]]) -> str:
    if not numbered:
        return "<p class=\"passed\">No finding: every rule that could be checked holds.</p>"
    items = []
    for n, f in numbered:
        cells = concerned_cells(f)
        link = f' <a href="#{cell_id(*cells[0])}">see the cells</a>' if cells and f["section"] else ""
        values = (f' — expected <b>{number(f["expected"])}</b>, actual <b>{number(f["actual"])}</b>'
                  if f["expected"] is not None or f["actual"] is not None else "")
        items.append(f'<li id="f{n}"><span class="badge">{n}</span> <span class="{f["outcome"]}">{f["outcome"]}</span> '
                     f'<code>{escape(f["rule"])}</code> ({escape(ctx.families.get(f["rule"], ""))}){values}: '
                     f'<span class="q">{escape(f["message"])}</span>{link}</li>')
    return f'<ul class="findings">{"".join(items)}</ul>'


def _year_on_year(ctx: ReportContext) -> str:
    if not ctx.previous or not ctx.summary:
        return "<p>No report of the year before for this agency.</p>"
    flagged = {f["cells"] for f in ctx.findings if ctx.families.get(f["rule"]) == "year_on_year"}
    rows = []
    for column in labels.summary_columns():
        before, now = ctx.previous.get(column.column), ctx.summary.get(column.column)
        mark = ' class="failed"' if column.column in flagged else ""
        rows.append(f'<tr{mark}><th class="stub" title="{escape(column.label_en)}">{escape(column.label_zh)}</th>'
                    f'<td class="n">{number(before)}</td><td class="n">{number(now)}</td></tr>')
    return ("<table><tr><th></th><th>" + escape(str(ctx.previous.get("year"))) + "</th><th>"
            + escape(str(ctx.summary.get("year"))) + "</th></tr>" + "".join(rows) + "</table>")


def _reuse(ctx: ReportContext) -> str:
    if not ctx.reuse:
        return "<p>No report of the year before to compare the prose with.</p>"
    share = ctx.reuse["reuse_share"]
    repeated = ctx.reuse["repeated"] or []
    sentences = "".join(f"<li>{escape(s)}</li>" for s in repeated)
    return (f'<p>{share:.0%} of the prose ({len(repeated)} of {ctx.reuse["n_sentences"]} sentences) repeats the report '
            f'of the year before (numbers written #).</p>' + (f"<details><summary>the repeated sentences</summary>"
                                                              f"<ol>{sentences}</ol></details>" if repeated else ""))


def _provenance(rows: str) -> str:
    return ("<table><tr><th>section</th><th>row</th><th>col</th><th>value</th><th>status</th><th>file</th>"
            f"<th>line / page</th><th>raw</th><th>evidence</th></tr>{rows}</table>")


def render(ctx: ReportContext) -> str:
    report = ctx.report
    shown = [f for f in ctx.findings if f["outcome"] == "failed"] + [f for f in ctx.findings if f["outcome"] != "failed"]
    numbered = [(str(n), f) for n, f in enumerate(shown, start=1)]
    marks: dict[tuple, list[str]] = {}
    for n, f in numbered:
        if f["outcome"] == "failed":
            for key in concerned_cells(f):
                marks.setdefault(key, []).append(n)
    conflicts = {key for _, f in numbered if ctx.families.get(f["rule"]) == "copies" for key in concerned_cells(f)}
    view = TableView(ctx.tds, report.get("template") or "2021", marks, conflicts)
    nav = " ".join(f'<a href="{page_name(rid)}">{which} year ({year})</a>' for which, (rid, year) in ctx.neighbours.items())
    legend = "".join(f'<span class="legend-item"><span class="swatch {k}"></span>{escape(k)}: {escape(v)}</span>'
                     for k, v in STATUS_LEGEND)
    title = f'{report.get("agency") or report["source_file"]} {report.get("year") or ""}'
    tables = (view.proactive() + view.requests() + view.appeals()) if ctx.tds else "<p>No table was read.</p>"
    return f"""<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>{CSS}</style></head><body>
<nav><a href="../index.html">all reports</a> {nav}</nav>
<h1>{escape(title)}</h1>{_meta(report, ctx.source_link)}
<h2>Findings</h2>{_finding_items(ctx, numbered)}
<h2>Tables</h2><p class="legend">{legend}</p>
<p class="small">Hover a cell for its raw text, file and line; click it for the details below. A red outline marks a
cell a failed rule concerns (its number in the findings above).</p>
{tables}
<h2>Prose reused from the year before</h2>{_reuse(ctx)}
<h2>Against the year before</h2>{_year_on_year(ctx)}
<h2>Where each number comes from</h2>{_provenance(ctx.provenance)}
</body></html>"""
