"""The three tables of one report laid out as the template prints them (Chinese labels, English on
hover), each cell coloured by its status and linked to where its number came from.

The labels and headers of a template are rendered once (cached); a page only places its cells, whose
HTML is made for all reports at once (:mod:`pipeline.audit.cells_html`).
"""

from __future__ import annotations

from functools import cache
from html import escape

from pipeline.audit.cells_html import marked
from pipeline.knowledge import domain, labels

MISSING = '<td class="n missing" title="no fact for this cell"></td>'


def cell_id(section: str, row: str, col: str) -> str:
    return f"c-{section}-{row}-{col}"


def number(value) -> str:
    if value is None:
        return ""
    return f"{value:g}" if float(value).is_integer() else f"{value:.6f}".rstrip("0").rstrip(".")


@cache
def _english() -> dict[tuple[str, str, str], str]:
    return {(c.section, c.axis, c.code): c.label_en for c in labels.code_labels()}


@cache
def _parent(section: str, row: str) -> str | None:
    return next((c.group for c in labels.code_labels() if (c.section, c.axis, c.code) == (section, "row", row)), None)


def _printed(section: str, kind: str, code: str, template: str) -> str:
    try:
        return labels.printed_label(section, kind, code, template)
    except KeyError:
        return next((c.label_zh for c in labels.code_labels() if (c.section, c.axis, c.code) == (section, kind, code)),
                    code)


@cache
def label(section: str, kind: str, code: str, template: str, css: str = "stub", attrs: str = "") -> str:
    english = _english().get((section, "row" if kind == "row" else "col", code), "")
    return f'<th class="{css}" title="{escape(english)}"{attrs}>{escape(_printed(section, kind, code, template))}</th>'


class TableView:
    """Places one report's cells: ``tds`` maps (section, row, col) to the cell's HTML; ``marks`` to
    the numbers of the failed findings on it; ``conflicts`` are cells its copies print differently."""

    def __init__(self, tds: dict, template: str, marks: dict, conflicts: set):
        self.tds, self.template, self.marks, self.conflicts = tds, template, marks, conflicts

    def td(self, section: str, row: str, col: str) -> str:
        key = (section, row, col)
        html = self.tds.get(key)
        if html is None:
            return MISSING
        if key in self.marks or key in self.conflicts:
            return marked(html, self.marks.get(key, []), key in self.conflicts)
        return html

    def proactive(self) -> str:
        out = []
        for row, head in _proactive_rows(self.template):
            cells = "".join(self.td("proactive", row.code, c.code) for c in row.columns)
            out.append(f"{head}<tr>{label('proactive', 'row', row.code, self.template)}{cells}"
                       f"{_pad(self.template, row.code)}</tr>")
        return '<table class="report-table" id="table-proactive">' + "".join(out) + "</table>"

    def requests(self) -> str:
        derived = domain.derived_row("requests")
        with_derived = bool(derived) and any(key[1] == derived.row for key in self.tds if key[0] == "requests")
        columns, head, rows = _requests_layout(self.template, with_derived)
        body = "".join(f"<tr>{stub}" + "".join(self.td("requests", code, c) for c in columns) + "</tr>"
                       for code, stub in rows)
        return f'<table class="report-table" id="table-requests">{head}{body}</table>'

    def appeals(self) -> str:
        rows, outcomes, head = _appeals_layout(self.template)
        data = "<tr>" + "".join(self.td("appeals", r, c) for r in rows for c in outcomes) + "</tr>"
        return f'<table class="report-table" id="table-appeals">{head}{data}</table>'


# --- the template's layout, rendered once per template ----------------------------------------------


@cache
def _proactive_rows(template: str) -> tuple:
    """(row, the caption and header rows printed before it) of Table 2."""
    layout = domain.layout(template, "proactive")
    caption_of = {labels.group_members("proactive", g.group)[0]: g for g in labels.groups()
                  if (g.section, g.axis) == ("proactive", "row")}
    width = 1 + max(len(r.columns) for r in layout)
    content = escape(labels.printed_label("proactive", "header", "content"))
    out = []
    for row in layout:
        group = caption_of.get(row.code)
        head = ""
        if group is not None:
            head = (f'<tr><th colspan="{width}" title="{escape(group.label_en)}">{escape(group.label_zh)}</th></tr>'
                    f"<tr><th>{content}</th>" + "".join(label("proactive", "col", c.code, template, "")
                                                        for c in row.columns) + "</tr>")
        out.append((row, head))
    return tuple(out)


@cache
def _pad(template: str, row: str) -> str:
    layout = domain.layout(template, "proactive")
    width = max(len(r.columns) for r in layout)
    missing = width - len(next(r for r in layout if r.code == row).columns)
    return f'<td colspan="{missing}"></td>' if missing else ""


@cache
def _requests_layout(template: str, with_derived: bool) -> tuple:
    """Table 3's columns, header rows and (row, stub cells) in printed order."""
    columns = [c.code for c in domain.layout(template, "requests")[0].columns]
    group = next(g for g in labels.groups() if (g.section, g.axis) == ("requests", "col"))
    members = [c for c in columns if any((c2.section, c2.axis, c2.code, c2.group) == ("requests", "col", c, group.group)
                                         for c2 in labels.code_labels())]
    two = ' rowspan="2"'
    head = (f'<tr><th rowspan="3" colspan="2">{escape(labels.printed_label("requests", "header", "rule_note"))}</th>'
            f'<th colspan="{len(columns)}">{escape(labels.printed_label("requests", "header", "applicants"))}</th></tr>'
            f'<tr>{label("requests", "col", columns[0], template, "", two)}<th colspan="{len(members)}" '
            f'title="{escape(group.label_en)}">{escape(group.label_zh)}</th>'
            f'{label("requests", "col", columns[-1], template, "", two)}</tr>'
            "<tr>" + "".join(label("requests", "col", c, template, "") for c in members) + "</tr>")
    codes = [r.code for r in domain.layout(template, "requests")]
    derived = domain.derived_row("requests")
    if with_derived and derived.row not in codes:  # printed as the single older row, or derived from its parts
        codes.append(derived.row)
    rows, seen = [], set()
    for code in codes:
        parent = _parent("requests", code)
        group_label = ""
        if parent and parent not in seen:
            seen.add(parent)
            group_label = escape(labels.group("requests", "row", parent).label_zh)
        rows.append((code, f'<td class="stub small">{group_label}</td>{label("requests", "row", code, template)}'))
    return columns, head, tuple(rows)


@cache
def _appeals_layout(template: str) -> tuple:
    rows = domain.layout(template, "appeals")
    outcomes = [c.code for c in rows[0].columns]
    review, *lawsuits = rows
    litigation = next(g for g in labels.groups() if (g.section, g.axis) == ("appeals", "row"))
    english = _english()
    outcome_heads = "".join(label("appeals", "col", c, template, "") for c in outcomes)
    tall = "".join(label("appeals", "col", c, template, "", ' rowspan="2"') for c in outcomes)
    head = (f'<tr><th colspan="{len(outcomes)}" title="{escape(english.get(("appeals", "row", review.code), ""))}">'
            f'{escape(_printed("appeals", "row", review.code, template))}</th>'
            f'<th colspan="{len(outcomes) * len(lawsuits)}" title="{escape(litigation.label_en)}">'
            f'{escape(litigation.label_zh)}</th></tr>'
            f'<tr>{tall}' + "".join(f'<th colspan="{len(outcomes)}">{escape(_printed("appeals", "row", r.code, template))}'
                                    f'</th>' for r in lawsuits) + "</tr>"
            f'<tr>{outcome_heads * len(lawsuits)}</tr>')
    return tuple(r.code for r in rows), tuple(outcomes), head
