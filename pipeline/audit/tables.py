"""The three tables of one report laid out as the template prints them (Chinese labels, English on
hover), each cell coloured by its status and linked to where its number came from."""

from __future__ import annotations

from html import escape

from pipeline.knowledge import domain, labels


def cell_id(section: str, row: str, col: str) -> str:
    return f"c-{section}-{row}-{col}"


def _english() -> dict[tuple[str, str, str], str]:
    return {(c.section, c.axis, c.code): c.label_en for c in labels.code_labels()}


def _printed(section: str, kind: str, code: str, template: str) -> str:
    try:
        return labels.printed_label(section, kind, code, template)
    except KeyError:
        return next((c.label_zh for c in labels.code_labels() if (c.section, c.axis, c.code) == (section, kind, code)),
                    code)


def number(value) -> str:
    if value is None:
        return ""
    return f"{value:g}" if float(value).is_integer() else f"{value:.6f}".rstrip("0").rstrip(".")


class TableView:
    """Renders one report's cells; ``cells`` maps (section, row, col) to a facts row (dict)."""

    def __init__(self, cells: dict, template: str, marks: dict, conflicts: set):
        self.cells, self.template, self.marks, self.conflicts = cells, template, marks, conflicts
        self.english = _english()

    def td(self, section: str, row: str, col: str) -> str:
        cell = self.cells.get((section, row, col))
        key = (section, row, col)
        if cell is None:
            return '<td class="n missing" title="no fact for this cell"></td>'
        classes = ["n", cell["status"]] + (["conflict"] if key in self.conflicts else []) + (
            ["finding"] if key in self.marks else [])
        shown = number(cell["value"]) if cell["status"] in domain.USABLE_STATUSES else {
            "blank": "–", "ambiguous": "?", "not_printed": "·"}.get(cell["status"], "")
        where = f'{cell["source_file"]}, {"page" if cell["raw"] and " @p" in (cell["raw"] or "") else "line"} ' \
                f'{cell["line"] if cell["line"] is not None else "-"}'
        hover = (f'{self.english.get((section, "row", row), row)} / {self.english.get((section, "col", col), col)}: '
                 f'{cell["status"]}; raw: {cell["raw"] or "-"}; {where}' + (f'; {cell["evidence"]}' if cell["evidence"]
                                                                            else ""))
        badges = "".join(f'<span class="badge">{n}</span>' for n in self.marks.get(key, []))
        return (f'<td class="{" ".join(classes)}" title="{escape(hover)}" data-status="{cell["status"]}" '
                f'data-findings="{" ".join(self.marks.get(key, []))}"><a href="#{cell_id(*key)}">'
                f'{escape(shown)}{badges}</a></td>')

    def label(self, section: str, kind: str, code: str, css: str = "stub", attrs: str = "") -> str:
        english = self.english.get((section, "row" if kind == "row" else "col", code), "")
        return (f'<th class="{css}" title="{escape(english)}"{attrs}>'
                f'{escape(_printed(section, kind, code, self.template))}</th>')

    # --- Table 2 -------------------------------------------------------------------------------------

    def proactive(self) -> str:
        out = []
        layout = domain.layout(self.template, "proactive")
        caption_of = {labels.group_members("proactive", g.group)[0]: g for g in labels.groups()
                      if (g.section, g.axis) == ("proactive", "row")}
        width = 1 + max(len(r.columns) for r in layout)
        content = escape(labels.printed_label("proactive", "header", "content"))
        for row in layout:
            group = caption_of.get(row.code)
            if group is not None:
                out.append(f'<tr><th colspan="{width}" title="{escape(group.label_en)}">{escape(group.label_zh)}</th></tr>')
                out.append(f"<tr><th>{content}</th>" + "".join(self.label("proactive", "col", c.code, "")
                                                                for c in row.columns) + "</tr>")
            pad = width - 1 - len(row.columns)
            out.append("<tr>" + self.label("proactive", "row", row.code) + "".join(
                self.td("proactive", row.code, c.code) for c in row.columns)
                + (f'<td colspan="{pad}"></td>' if pad else "") + "</tr>")
        return "<table class=\"report-table\" id=\"table-proactive\">" + "".join(out) + "</table>"

    # --- Table 3 -------------------------------------------------------------------------------------

    def _request_rows(self) -> list:
        rows = list(domain.layout(self.template, "requests"))
        codes = {r.code for r in rows}
        derived = domain.derived_row("requests")
        extra = {row for (section, row, _) in self.cells if section == "requests"} - codes
        if derived and derived.row in extra:  # printed as the single older row, or derived from its parts
            columns = domain.layout(derived.template, "requests")[0].columns
            rows.append(domain.Row(derived.row, columns))
        return rows

    def requests(self) -> str:
        columns = [c.code for c in domain.layout(self.template, "requests")[0].columns]
        group = next(g for g in labels.groups() if (g.section, g.axis) == ("requests", "col"))
        members = [c for c in columns if any((c2.section, c2.axis, c2.code, c2.group) == ("requests", "col", c, group.group)
                                             for c2 in labels.code_labels())]
        first, last = columns[0], columns[-1]
        two = ' rowspan="2"'
        head = (f'<tr><th rowspan="3" colspan="2">{escape(labels.printed_label("requests", "header", "rule_note"))}</th>'
                f'<th colspan="{len(columns)}">{escape(labels.printed_label("requests", "header", "applicants"))}</th></tr>'
                f'<tr>{self.label("requests", "col", first, "", two)}<th colspan="{len(members)}" '
                f'title="{escape(group.label_en)}">{escape(group.label_zh)}</th>'
                f'{self.label("requests", "col", last, "", two)}</tr>'
                "<tr>" + "".join(self.label("requests", "col", c, "") for c in members) + "</tr>")
        body = []
        seen_groups = set()
        for row in self._request_rows():
            parent = next((c.group for c in labels.code_labels()
                           if (c.section, c.axis, c.code) == ("requests", "row", row.code)), None)
            group_label = ""
            if parent and parent not in seen_groups:
                seen_groups.add(parent)
                g = labels.group("requests", "row", parent)
                group_label = escape(g.label_zh)
            body.append(f'<tr><td class="stub small">{group_label}</td>{self.label("requests", "row", row.code)}'
                        + "".join(self.td("requests", row.code, c) for c in columns) + "</tr>")
        return f'<table class="report-table" id="table-requests">{head}{"".join(body)}</table>'

    # --- Table 4 -------------------------------------------------------------------------------------

    def appeals(self) -> str:
        rows = domain.layout(self.template, "appeals")
        outcomes = [c.code for c in rows[0].columns]
        review, *lawsuits = rows
        litigation = next(g for g in labels.groups() if (g.section, g.axis) == ("appeals", "row"))
        outcome_heads = "".join(self.label("appeals", "col", c, "") for c in outcomes)
        outcome_heads_tall = "".join(self.label("appeals", "col", c, "", ' rowspan="2"') for c in outcomes)
        head = (f'<tr><th colspan="{len(outcomes)}" title="{escape(self.english.get(("appeals", "row", review.code), ""))}">'
                f'{escape(_printed("appeals", "row", review.code, self.template))}</th>'
                f'<th colspan="{len(outcomes) * len(lawsuits)}" title="{escape(litigation.label_en)}">'
                f'{escape(litigation.label_zh)}</th></tr>'
                f'<tr>{outcome_heads_tall}'
                + "".join(f'<th colspan="{len(outcomes)}">{escape(_printed("appeals", "row", r.code, self.template))}</th>'
                          for r in lawsuits) + "</tr>"
                f'<tr>{outcome_heads * len(lawsuits)}</tr>')
        data = "<tr>" + "".join(self.td("appeals", r.code, c) for r in rows for c in outcomes) + "</tr>"
        return f'<table class="report-table" id="table-appeals">{head}{data}</table>'
