"""A 2021-template report as paragraphs and tables with merged cells, written as .docx or .pdf.

The tables follow the official layout (spec/templates.md): Table 3 has the vertical stub
三、本年度办理结果 spanning every result row, the group labels (三)–(六) spanning their sub-rows, and a
three-row header with merged cells; Table 4 has a two-row header. ``expected_values`` gives every
number the tables print, keyed by (section, row, col), so a reader's facts can be compared exactly.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from conftest import GROUPS_BEFORE, T3_LABELS, requests_values

APPLICANTS = ("natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total")
APPEAL_COLUMNS = ("upheld", "corrected", "other", "pending", "total")


@dataclass(frozen=True)
class Span:
    """A cell that starts at this position of its row (cells covered by spans are not listed)."""

    text: str
    colspan: int = 1
    rowspan: int = 1


Table = list[list[Span]]


def proactive_values() -> dict[tuple[str, str], float]:
    return {("regulations", "issued"): 0, ("regulations", "repealed"): 2, ("regulations", "in_force"): 5,
            ("normative_documents", "issued"): 3, ("normative_documents", "repealed"): 1,
            ("normative_documents", "in_force"): 12, ("administrative_licensing", "decisions"): 120,
            ("administrative_penalty", "decisions"): 7, ("administrative_enforcement", "decisions"): 31,
            ("administrative_fees", "fee_amount"): 12.5}


def appeals_values() -> dict[str, list[int]]:
    return {"review": [1, 0, 1, 0, 2], "litigation_direct": [0, 0, 0, 1, 1], "litigation_after_review": [3, 0, 0, 0, 3]}


def _number(value: float) -> str:
    return f"{value:g}"


def proactive_table() -> Table:
    v = {k: _number(x) for k, x in proactive_values().items()}
    caption = lambda item: [Span(f"第二十条第（{item}）项", colspan=4)]  # noqa: E731
    return [
        caption("一"),
        [Span("信息内容"), Span("本年制发件数"), Span("本年废止件数"), Span("现行有效件数")],
        [Span("规章"), *(Span(v[("regulations", c)]) for c in ("issued", "repealed", "in_force"))],
        [Span("行政规范性文件"), *(Span(v[("normative_documents", c)]) for c in ("issued", "repealed", "in_force"))],
        caption("五"),
        [Span("信息内容"), Span("本年处理决定数量", colspan=3)],
        [Span("行政许可"), Span(v[("administrative_licensing", "decisions")], colspan=3)],
        caption("六"),
        [Span("信息内容"), Span("本年处理决定数量", colspan=3)],
        [Span("行政处罚"), Span(v[("administrative_penalty", "decisions")], colspan=3)],
        [Span("行政强制"), Span(v[("administrative_enforcement", "decisions")], colspan=3)],
        caption("八"),
        [Span("信息内容"), Span("本年收费金额（单位：万元）", colspan=3)],
        [Span("行政事业性收费"), Span(v[("administrative_fees", "fee_amount")], colspan=3)],
    ]


_GROUP_SIZES = {"denied_state_secret": 8, "unable_not_held": 3, "ignored_petition": 5, "other_no_correction": 3}
_RESULT_ROWS = [c for c in T3_LABELS if c not in ("new_received", "carried_over", "carried_forward",
                                                  "other_processing")]


def requests_table(values: dict[str, list[int]]) -> Table:
    """Table 3: 3 label columns and 7 applicant columns."""
    rows: Table = [
        [Span("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", colspan=3, rowspan=3),
         Span("申请人情况", colspan=7)],
        [Span("自然人", rowspan=2), Span("法人或其他组织", colspan=5), Span("总计", rowspan=2)],
        [Span("商业企业"), Span("科研机构"), Span("社会公益组织"), Span("法律服务机构"), Span("其他")],
    ]
    numbers = lambda code: [Span(str(x)) for x in values[code]]  # noqa: E731
    rows.append([Span(T3_LABELS["new_received"], colspan=3), *numbers("new_received")])
    rows.append([Span(T3_LABELS["carried_over"], colspan=3), *numbers("carried_over")])
    for code in _RESULT_ROWS:
        row: list[Span] = []
        if code == "granted":
            row.append(Span("三、本年度办理结果", rowspan=len(_RESULT_ROWS)))
        if code in GROUPS_BEFORE:
            row.append(Span(GROUPS_BEFORE[code], rowspan=_GROUP_SIZES[code]))
        grouped = any(code in _group_members(g) for g in GROUPS_BEFORE)
        row.append(Span(T3_LABELS[code], colspan=1 if grouped else 2))
        rows.append(row + numbers(code))
    rows.append([Span(T3_LABELS["carried_forward"], colspan=3), *numbers("carried_forward")])
    return rows


def _group_members(first: str) -> list[str]:
    start = _RESULT_ROWS.index(first)
    return _RESULT_ROWS[start:start + _GROUP_SIZES[first]]


def appeals_table() -> Table:
    heads = [Span(h) for h in ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")]
    v = appeals_values()
    return [
        [Span("行政复议", colspan=5), Span("行政诉讼", colspan=10)],
        [*(Span(h.text, rowspan=2) for h in heads), Span("未经复议直接起诉", colspan=5), Span("复议后起诉", colspan=5)],
        heads + heads,
        [Span(str(x)) for x in v["review"] + v["litigation_direct"] + v["litigation_after_review"]],
    ]


def report_blocks(agency: str = "测试县某某局", year: int = 2022, values=None) -> list[str | Table]:
    values = values or requests_values()
    return [
        f"{agency}{year}年政府信息公开工作年度报告",
        "一、总体情况",
        f"{year}年，{agency}认真贯彻落实《中华人民共和国政府信息公开条例》。",
        "二、主动公开政府信息情况",
        proactive_table(),
        "三、收到和处理政府信息公开申请情况",
        requests_table(values),
        "四、政府信息公开行政复议、行政诉讼情况",
        appeals_table(),
        "五、存在的主要问题及改进情况",
        "一是公开内容还需丰富。",
        "六、其他需要报告的事项",
        "无。",
    ]


def expected_values(values=None) -> dict[tuple[str, str, str], float]:
    values = values or requests_values()
    out = {("proactive", row, col): float(x) for (row, col), x in proactive_values().items()}
    for code, row in values.items():
        for col, x in zip(APPLICANTS, row):
            out[("requests", code, col)] = float(x)
    for code, row in appeals_values().items():
        for col, x in zip(APPEAL_COLUMNS, row):
            out[("appeals", code, col)] = float(x)
    return out


def grid_size(table: Table) -> tuple[int, int]:
    return len(table), sum(span.colspan for span in table[0])


def placed(table: Table) -> list[tuple[int, int, Span]]:
    """(row, col, span) of every cell, columns found as HTML does (skipping cells covered by spans)."""
    covered: set[tuple[int, int]] = set()
    out = []
    for r, row in enumerate(table):
        c = 0
        for span in row:
            while (r, c) in covered:
                c += 1
            out.append((r, c, span))
            for dr in range(span.rowspan):
                for dc in range(span.colspan):
                    covered.add((r + dr, c + dc))
            c += span.colspan
    return out


def split_table(table: Table, at: int) -> tuple[Table, Table]:
    """The table cut before row ``at``: a span crossing the cut is shortened above and goes on below
    as an empty merged cell, as a word processor prints a merged cell over a page break."""
    top: Table = [list(row) for row in table[:at]]
    bottom: Table = [list(row) for row in table[at:]]
    first_row = [(c, span) for r, c, span in placed(table) if r == at]
    for r, c, span in placed(table):
        if r < at < r + span.rowspan:
            top[r][top[r].index(span)] = Span(span.text, span.colspan, at - r)
            first_row.append((c, Span("", span.colspan, r + span.rowspan - at)))
    bottom[0] = [span for _, span in sorted(first_row, key=lambda item: item[0])]
    return top, bottom


def break_row(table: Table, at: int, keep: int) -> tuple[Table, Table]:
    """The table cut inside row ``at``, as a word processor breaks a row over two pages: the first
    ``keep`` characters of its label and all its numbers before the break, the rest of the label
    after it (in the same cell; the numbers' cells empty there). The row must not start a span."""
    top, bottom = split_table(table, at + 1)
    *start, label = [span for span in top[-1] if not span.text.replace(".", "").isdigit()]
    values = top[-1][len(start) + 1:]
    top[-1] = start + [Span(label.text[:keep], label.colspan)] + values
    going_on = [Span("", span.colspan, span.rowspan + 1) for span in bottom[0] if span.text == ""]
    bottom[0] = [span for span in bottom[0] if span.text != ""]
    bottom.insert(0, going_on + [Span(label.text[keep:], label.colspan)] + [Span("") for _ in values])
    return top, bottom


# --- writers ----------------------------------------------------------------------------------------


def write_docx(blocks, split_requests_at: int | None = None) -> bytes:
    """A .docx built with python-docx; merged cells through its merge (gridSpan / vMerge).

    With ``split_requests_at``, Table 3 is two Word tables with a page break between them, the
    stub's vertical merge continuing in the second table.
    """
    from docx import Document
    from docx.enum.text import WD_BREAK

    word = Document()
    for block in blocks:
        if isinstance(block, str):
            word.add_paragraph(block)
            continue
        if split_requests_at is not None and block and block[0][0].text.startswith("（本列数据"):
            top, bottom = split_table(block, split_requests_at)
            _docx_table(word, top)
            word.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            _docx_table(word, bottom, continued=True)
        else:
            _docx_table(word, block)
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


def _docx_table(word, table: Table, continued: bool = False) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    n_rows, n_cols = grid_size(table)
    out = word.add_table(rows=n_rows, cols=n_cols)
    out.style = "Table Grid"
    for r, c, span in placed(table):
        cell = out.cell(r, c)
        cell.text = span.text
        if span.colspan > 1 or span.rowspan > 1:
            cell.merge(out.cell(r + span.rowspan - 1, c + span.colspan - 1))
    if continued:
        # cells continuing a merge from the previous table: vMerge "continue" in the first row
        firsts = [out.cell(0, c)._tc for r, c, span in placed(table) if r == 0 and span.text == ""]
        for tc in firsts:
            merge = tc.get_or_add_tcPr().find(qn("w:vMerge"))
            if merge is None:
                merge = OxmlElement("w:vMerge")
                tc.get_or_add_tcPr().append(merge)
            merge.attrib.pop(qn("w:val"), None)


def _pdf_styles():
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=10.5, leading=16, wordWrap="CJK")
    cell = ParagraphStyle("cell", fontName="STSong-Light", fontSize=7.5, leading=9.5, wordWrap="CJK")
    return body, cell


_COL_WIDTHS = {4: [120, 110, 110, 110], 10: [24, 56, 150] + [31] * 7, 15: [30] * 15}
# An office suite's export of a web page: Table 3's label columns so narrow that every label wraps
# over two to four lines of about six characters (``1.属于国家秘`` / ``密``).
_NARROW_WIDTHS = {4: [50, 110, 110, 110], 10: [24, 30, 48] + [40] * 7, 15: [30] * 15}


def write_pdf(blocks, ruled: bool = True, lead_paragraphs: int = 0, split_requests_at: int | None = None,
              break_label_after: int | None = None, narrow: bool = False, underline: bool = False) -> bytes:
    """An A4 PDF built with reportlab; tables with spans, split over pages where they do not fit.

    ``ruled`` draws the grid lines (else the tables are text positioned in columns only);
    ``lead_paragraphs`` adds filler text before the tables to move them down the pages;
    ``split_requests_at`` ends a page inside Table 3 before that row, the stub's span going on
    (empty) on the next page as a word processor prints it; with ``break_label_after`` that row is
    broken over the two pages after so many characters of its label. ``narrow`` makes the label
    columns narrow (labels wrap over several lines) with the text flush against the cell borders, and
    ``underline`` underlines every cell's text (links and ``<u>`` in a page exported by an office
    suite), each wrapped line with its own underline starting at the cell's left border.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    body, _ = _pdf_styles()
    widths = _NARROW_WIDTHS if narrow else _COL_WIDTHS
    story = []
    for i, block in enumerate(blocks):
        if isinstance(block, str):
            story.append(Paragraph(block, body))
            if i == 2:
                story += [Paragraph("各项工作有序推进，公开质量稳步提升。" * 3, body) for _ in range(lead_paragraphs)]
        elif split_requests_at is not None and block[0][0].text.startswith("（本列数据"):
            if break_label_after is None:
                top, bottom = split_table(block, split_requests_at)
            else:
                top, bottom = break_row(block, split_requests_at, break_label_after)
            story += [_pdf_table(top, ruled, widths[10], narrow, underline), PageBreak(),
                      _pdf_table(bottom, ruled, widths[10], narrow, underline)]
        else:
            story.append(_pdf_table(block, ruled, widths[grid_size(block)[1]], narrow, underline))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, topMargin=60, bottomMargin=60).build(story)
    return buffer.getvalue()


def _pdf_table(block: Table, ruled: bool, widths: list[int], narrow: bool = False, underline: bool = False):
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph
    from reportlab.platypus import Table as PdfTable

    _, cell_style = _pdf_styles()
    number_style = ParagraphStyle("number", parent=cell_style, alignment=TA_CENTER)
    n_rows, n_cols = grid_size(block)
    data = [[""] * n_cols for _ in range(n_rows)]
    padding = 0 if narrow else 2
    commands = [("FONT", (0, 0), (-1, -1), "STSong-Light", 7.5), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), padding), ("RIGHTPADDING", (0, 0), (-1, -1), padding)]
    if ruled:
        commands.append(("GRID", (0, 0), (-1, -1), 0.6, "black"))
    for r, c, span in placed(block):
        number = span.text.replace(".", "").isdigit()
        if underline and span.text:
            data[r][c] = Paragraph(f"<u>{span.text}</u>", number_style if number else cell_style)
        else:
            data[r][c] = span.text if number else Paragraph(span.text, cell_style)
        if span.colspan > 1 or span.rowspan > 1:
            commands.append(("SPAN", (c, r), (c + span.colspan - 1, r + span.rowspan - 1)))
    return PdfTable(data, colWidths=widths, style=commands, spaceAfter=8)


def raw_pdf(objects: list[bytes], info: int | None = None) -> bytes:
    """A PDF of the given object bodies (object 1 the catalog), numbered from 1, with its
    cross-reference table: for syntax that no PDF library writes on request."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer = b"/Size %d /Root 1 0 R" % (len(objects) + 1) + (b" /Info %d 0 R" % info if info else b"")
    out += b"trailer\n<< " + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def one_page_pdf(content: bytes, resources: bytes, objects: list[bytes]) -> bytes:
    """A one-page PDF whose content stream draws ``content`` with ``resources``; ``objects`` are
    numbered from 5, after the catalog, the page tree, the page and its content stream."""
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [ 3 0 R ] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [ 0 0 612 792 ] /Contents 4 0 R /Resources " + resources + b" >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        *objects,
    ])
