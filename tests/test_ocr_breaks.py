"""OCR'd tables across page breaks: a row broken by the break is read as one row when its text or its
pixels prove it, an empty cell next to the break is never ``blank`` unless proven, and a cell's
readings stay with the cell when the parts of a table are renumbered on one set of columns."""

from pathlib import Path

import pytest
from report_documents import expected_values, report_blocks, requests_table
from scan_documents import broken_row_blocks, cjk_font, scanned_pdf

from conftest import requests_values
from pipeline.ingest.discover import SourceFile
from pipeline.ingest.readers import ocr_engine
from pipeline.ingest.readers.grid import Glyph, Grid, GridCell
from pipeline.ingest.readers.ocr import OcrPage, to_document
from pipeline.ingest.readers.ocr_breaks import join_broken_row, unproven
from pipeline.ingest.readers.ocr_cells import CellReading
from pipeline.ingest.readers.ocr_text import snap_label
from pipeline.knowledge import labels
from pipeline.process import process_bytes

needs_ocr = pytest.mark.skipif(ocr_engine.missing() is not None, reason="Tesseract is not installed")
needs_font = pytest.mark.skipif(cjk_font() is None, reason="no CJK font to draw the generated scans")


def _values_with_a_number_in_the_broken_row() -> dict[str, list[int]]:
    values = requests_values()
    values["other_unpaid_fee"] = [1, 0, 0, 0, 0, 0, 1]
    leaves = [c for c in values if c not in ("new_received", "carried_over", "total", "carried_forward")]
    values["total"] = [sum(values[c][i] for c in leaves) for i in range(7)]
    values["new_received"] = [values["total"][i] + values["carried_forward"][i] - values["carried_over"][i]
                              for i in range(7)]
    return values


@needs_ocr
@needs_font
@pytest.mark.parametrize("dpi,numbers_after", [(150, False), (150, True), (100, False)])
def test_a_row_broken_by_a_page_break_is_read_as_one_row(dpi, numbers_after):
    values = _values_with_a_number_in_the_broken_row()
    label = labels.printed_label("requests", "row", "other_unpaid_fee")
    table = requests_table(values)
    at = next(i for i, row in enumerate(table) if any(span.text == label for span in row))
    blocks = broken_row_blocks(at, 6, numbers_after, report_blocks(values=values))
    result = process_bytes(SourceFile(Path("scan.pdf"), "scan.pdf"), scanned_pdf(dpi, 0.4, 5.0, blocks))
    facts = {(f["section"], f["row"], f["col"]): f for f in result.fact_rows() if f["status"] != "derived"}
    wrong = [(k, v, facts[k]["status"], facts[k]["value"]) for k, v in expected_values(values).items()
             if k in facts and facts[k]["status"] != "ambiguous"
             and (facts[k]["status"], facts[k]["value"]) != ("reported", v)]
    assert wrong == []
    assert "1 row(s) broken by a page break read as one" in result.report["notes"]
    broken = [facts[("requests", "other_unpaid_fee", col)] for col in ("natural_person", "commercial", "total")]
    assert [(f["status"], f["value"]) for f in broken] == [("reported", 1.0), ("reported", 0.0), ("reported", 1.0)]


# --- the pieces, without Tesseract -------------------------------------------------------------------

def _row(row: int, top: float, texts: list[str], kinds: list[str], readings: dict) -> list[GridCell]:
    cells = []
    for col, (text, kind) in enumerate(zip(texts, kinds)):
        cell = GridCell(row, col, 1, 1, 100.0 * col, top, 100.0 * col + 100, top + 20)
        cell.glyphs = [Glyph(ch, cell.x0 + 5 + 8 * i, top + 5, cell.x0 + 13 + 8 * i, top + 15)
                       for i, ch in enumerate(text)]
        readings[id(cell)] = CellReading(kind, text)
        cells.append(cell)
    return cells


def _grid(rows: list[list[GridCell]]) -> Grid:
    cells = [c for row in rows for c in row]
    top = min(c.top for c in cells)
    return Grid([0.0, 100.0, 200.0, 300.0], sorted({top} | {c.bottom for c in cells}), cells)


def test_empty_cells_next_to_an_unproven_break_are_not_blank():
    readings: dict = {}
    # both parts hold a value in the first number column: two rows, not one broken row
    before = _grid([_row(0, 680, ["行政处罚", "1", "2"], ["text", "number", "number"], readings),
                    _row(1, 700, ["行政许可", "3", ""], ["text", "number", "empty"], readings)])
    after = _grid([_row(0, 30, ["其他内容", "4", ""], ["text", "number", "empty"], readings)])
    assert join_broken_row(before, after, readings) is False
    assert unproven(readings[id(before.cells[5])]) and unproven(readings[id(after.cells[2])])
    assert not unproven(readings[id(before.cells[4])]) and not unproven(readings[id(before.cells[3])])


def test_a_break_is_joined_by_its_pixels_only_when_one_part_holds_all_the_numbers():
    readings: dict = {}
    # labels too garbled for the text proof (as read at 150 dpi), numbers all after the break
    before = _grid([_row(0, 700, ["2.中坑人这", "", ""], ["text", "empty", "empty"], readings)])
    after = _grid([_row(0, 30, ["期未过站费", "1", "0"], ["text", "number", "number"], readings)])
    assert join_broken_row(before, after, readings) is True
    assert before.cells[1].continuation is after.cells[1] and after.cells[1].continues_previous
    readings = {}
    # the text after the break starts a row of its own (3.): not one row, and its empty cells unproven
    before = _grid([_row(0, 700, ["2.申请人逾期", "1", "0"], ["text", "number", "number"], readings)])
    after = _grid([_row(0, 30, ["3.其他", "", ""], ["text", "empty", "empty"], readings)])
    assert join_broken_row(before, after, readings) is False
    assert unproven(readings[id(after.cells[1])])


def test_readings_stay_with_their_cell_when_a_continued_table_is_renumbered():
    # page 2's part lacks the column boundary at x=100 (a label spanning two columns): the join
    # renumbers its cells, and the unconfirmed reading must still belong to its own cell
    readings: dict = {}
    first = _grid([_row(0, 700, ["规章", "5", "6"], ["number", "number", "number"], readings)])
    first.cells[0].glyphs = [Glyph("规", 5, 705, 13, 715), Glyph("章", 13, 705, 21, 715)]
    wide = GridCell(0, 0, 1, 2, 0.0, 30, 200.0, 50, [Glyph("总", 5, 35, 13, 45), Glyph("计", 13, 35, 21, 45)])
    unsure = GridCell(0, 1, 1, 1, 200.0, 30, 300.0, 50, [Glyph("7", 205, 35, 213, 45)])
    second = Grid([0.0, 200.0, 300.0], [30.0, 50.0], [wide, unsure])
    page1 = OcrPage(1, 150.0, 0.0, [first], {(0, 0, c): CellReading("number", t) for c, t in enumerate("x56")})
    page1.cells[(0, 0, 0)] = CellReading("text", "规章")
    page2 = OcrPage(2, 150.0, 0.0, [second], {
        (0, 0, 0): CellReading("text", "总计"),
        (0, 0, 1): CellReading("number", "7", readings=("7", "1", "", ""), candidates=())})
    doc = to_document([page1, page2])
    by_text = {c.text: c for c in doc.cells}
    assert by_text["7"].readings == ("7", "1", "", "")
    assert by_text["5"].readings is None and by_text["6"].readings is None


def test_a_label_cut_short_is_not_snapped_to_another_label():
    assert snap_label("2.申请人逾期") == "2.申请人逾期"  # the start of (六)2, no garbled 2.重复申请
