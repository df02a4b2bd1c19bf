"""Reading OCR'd tables: Table 4's values taken from its grid row when header words are garbled, an
unconfirmed OCR number left ambiguous on its own (its neighbours still placed), and tables that are
not found still giving every cell of the template (ambiguous)."""

from pathlib import Path

import pytest
from report_documents import Span, appeals_table, appeals_values, expected_values, placed, report_blocks
from scan_documents import cjk_font, scanned_pdf

from pipeline.ingest.discover import SourceFile
from pipeline.ingest.readers import ocr_engine
from pipeline.process import process_bytes

needs_ocr = pytest.mark.skipif(ocr_engine.missing() is not None, reason="Tesseract is not installed")
needs_font = pytest.mark.skipif(cjk_font() is None, reason="no CJK font to draw the generated scans")
COLUMNS = ("upheld", "corrected", "other", "pending", "total")


def garbled_appeals_table():
    """Table 4 with two header words as OCR garbles them, a digit among the characters."""
    table = [list(row) for row in appeals_table()]
    table[1][3] = Span("XL十1审结", rowspan=2)
    table[2][8] = Span("2L-全15审结")
    return table


def _blocks(table):
    blocks = report_blocks()
    index = next(i for i, b in enumerate(blocks) if not isinstance(b, str) and len(b) == 4)
    return blocks[:index] + [table] + blocks[index + 1:]


def _html(blocks) -> bytes:
    parts = []
    for block in blocks:
        if isinstance(block, str):
            parts.append(f"<p>{block}</p>")
            continue
        rows: dict[int, list[str]] = {}
        for r, _, span in placed(block):
            rows.setdefault(r, []).append(f'<td colspan="{span.colspan}" rowspan="{span.rowspan}">{span.text}</td>')
        parts.append("<table>" + "".join(f"<tr>{''.join(cells)}</tr>" for _, cells in sorted(rows.items())) + "</table>")
    return ("<html><body>" + "\n".join(parts) + "</body></html>").encode()


def _appeals(result) -> dict:
    return {(f["row"], f["col"]): (f["status"], f["value"]) for f in result.fact_rows()
            if f["section"] == "appeals" and f["status"] != "derived"}


def test_table_4_values_are_its_one_row_of_value_cells_when_header_words_hold_digits():
    result = process_bytes(SourceFile(Path("r.html"), "r.html"), _html(_blocks(garbled_appeals_table())))
    got = _appeals(result)
    for row, values in appeals_values().items():
        assert [got[(row, c)] for c in COLUMNS] == [("reported", float(v)) for v in values]
    # the source breaks R4 (as a real report does): the grid row still places every value
    table = garbled_appeals_table()
    printed = [10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0]
    table[-1] = [Span(str(x)) for x in printed]
    got = _appeals(process_bytes(SourceFile(Path("r.html"), "r.html"), _html(_blocks(table))))
    rows = list(appeals_values())
    assert [got[(rows[i // 5], COLUMNS[i % 5])] for i in range(15)] == [("reported", float(x)) for x in printed]


def test_two_rows_of_value_cells_prove_nothing():
    table = garbled_appeals_table() + [[Span(str(x)) for x in range(15)]]
    result = process_bytes(SourceFile(Path("r.html"), "r.html"), _html(_blocks(table)))
    assert {status for status, _ in _appeals(result).values()} == {"ambiguous"}


@needs_ocr
@needs_font
def test_a_scan_whose_table_4_header_is_garbled_gives_its_values():
    result = process_bytes(SourceFile(Path("scan.pdf"), "scan.pdf"),
                           scanned_pdf(150, 0.3, 5.0, _blocks(garbled_appeals_table())))
    got = _appeals(result)
    expected = expected_values()
    for (row, col), (status, value) in got.items():
        assert status == "ambiguous" or (status, value) == ("reported", expected[("appeals", row, col)])
    assert sum(status == "reported" for status, _ in got.values()) >= 13


# --- row labels, without Tesseract -----------------------------------------------------------------------

def test_a_garbled_tail_of_a_row_label_cell_is_not_read_as_values():
    from pipeline.ingest.readers.ocr_text import clean_label_tail

    assert clean_label_tail("2.没有现成信息需要另 1JmJ1F") == "2.没有现成信息需要另JmJF"
    assert clean_label_tail('3危及"三安全-稳定,') == '3危及"三安全稳定,'
    assert clean_label_tail("1.属于国家秘密") == "1.属于国家秘密"
    assert clean_label_tail("重要通知 12") == "重要通知 12"  # no row label: left as it is


def test_a_label_is_not_snapped_to_a_row_label_the_table_already_prints():
    from pipeline.ingest.readers.grid import Glyph, Grid, GridCell
    from pipeline.ingest.readers.ocr import snap_labels
    from pipeline.ingest.readers.ocr_cells import CellReading
    from pipeline.knowledge import labels

    printed = labels.printed_label("requests", "row", "other_no_correction")
    garbled = "1.申请人无正当理由这期不补正、全政机关不再处理其政府信息公开中博"  # read twice
    cells, readings = [], {}
    for row, text in enumerate((printed, garbled)):
        cell = GridCell(row, 0, 1, 1, 0.0, 20.0 * row, 100.0, 20.0 * row + 20,
                        [Glyph(ch, i, 20.0 * row, i + 1, 20.0 * row + 10) for i, ch in enumerate(text)])
        readings[id(cell)] = CellReading("text", text)
        cells.append(cell)

    class Page:
        grids = [Grid([0.0, 100.0], [0.0, 20.0, 40.0], cells)]

    snap_labels([Page()], readings)
    assert "".join(g.text for g in cells[1].glyphs) == garbled


def test_a_label_is_not_snapped_to_a_label_of_another_number():
    from pipeline.ingest.readers.ocr_text import snap_label

    as_read = "2.申请人这期未按收费政机关不再处理其政府信息公开申请"  # (六)2 read at 150 dpi, not (六)1
    assert snap_label(as_read) == as_read


# --- cell pictures -------------------------------------------------------------------------------------

def test_aligned_text_strokes_inside_a_cell_are_not_line_pixels():
    """The bars of three characters side by side make a dark run longer than MIN_LINE_IN: it is no
    border (it meets no vertical line), so it is not painted white under the cell's text."""
    import numpy as np

    from pipeline.ingest.readers.ocr_pixels import find_grids

    gray = np.full((400, 600), 255, dtype=np.uint8)
    for y in (50, 150, 250):  # a table of two rows and two columns, 2 px borders
        gray[y:y + 2, 50:551] = 0
    for x in (50, 300, 550):
        gray[50:252, x:x + 2] = 0
    for x0 in (80, 102, 124):  # three 20 px strokes, 2 px apart (gaps this small are closed)
        gray[100:102, x0:x0 + 20] = 0
        gray[90:115, x0 + 9:x0 + 11] = 0  # and a down stroke each, so they are glyphs
    _, _, _, grids, lines = find_grids(gray, 150.0)
    assert len(grids) == 1 and len(grids[0].cells) == 4
    assert not lines[100:102, 80:144].any()  # the strokes stay ink
    assert lines[150:152, 60:540].all() and lines[60:240, 300:302].all()  # the borders are lines


def test_a_cell_whose_text_two_readings_miss_is_read_a_third_time_at_a_smaller_scale():
    """Tesseract finds no text line on some crops, erratically with scale and blur: the first pass
    tries (1.0, 0.5, 1.0), (1.5, 0.8, 1.5), then (0.75, 0.8, 1.0) of TEXT_PPI until one reads text."""
    import numpy as np

    from pipeline.ingest.readers.ocr_cells import TEXT_TRIES, _first_pass

    class Engines:
        text = "chi_sim"

        def __init__(self, answers):
            self.answers, self.widths = list(answers), []

        def read(self, handle, image, ppi=300):
            self.widths.append(image.width)
            return self.answers.pop(0), 90.0

    gray = np.full((30, 150), 255, dtype=np.uint8)
    gray[5:25, 5:145] = 0  # six characters' worth of ink, one line 20 px high
    engines = Engines(["", "", "政府集中采购"])
    assert _first_pass(engines, gray, 20, 140, 1, 150.0) == ("政府集中采购", 90.0)
    assert [t[0] for t in TEXT_TRIES] == [1.0, 1.5, 0.75]
    assert engines.widths[2] < engines.widths[0] < engines.widths[1]  # the third at the smallest scale
    engines = Engines(["政府集中采购"])  # read the first time: no other try
    assert _first_pass(engines, gray, 20, 140, 1, 150.0) == ("政府集中采购", 90.0)
    assert len(engines.widths) == 1


def test_the_base_of_a_two_is_no_underline_but_a_bar_apart_from_the_digits_is():
    """A bottom bar across the ink is painted white only when a blank row parts it from the glyphs or it
    runs on past them (a link's underline); the foot of a 2 touches the glyph and is as wide: kept."""
    import numpy as np

    from pipeline.ingest.readers.ocr_cells import _drop_bottom_underline

    two = np.zeros((17, 9), dtype=bool)
    two[0:2, 1:8] = True  # the top bow
    two[2:6, 7:9] = True
    for i in range(9):  # the diagonal down to the left
        two[6 + i, max(0, 7 - i):max(0, 7 - i) + 2] = True
    two[15:17, 0:9] = True  # the base, as wide as the glyph
    gray = np.where(two, 0, 255).astype(np.uint8)
    assert _drop_bottom_underline(gray, two)[1].sum() == two.sum()

    underlined = np.zeros((20, 9), dtype=bool)
    underlined[:17] = two
    underlined[17] = False  # a blank row, then the underline
    underlined[18:20, 0:9] = True
    gray = np.where(underlined, 0, 255).astype(np.uint8)
    assert _drop_bottom_underline(gray, underlined)[1][18:].sum() == 0

    from_border = np.zeros((19, 20), dtype=bool)
    from_border[0:17, 11:20] = two  # the underline starts at the cell's border, left of the digit
    from_border[17:19, 0:20] = True
    gray = np.where(from_border, 0, 255).astype(np.uint8)
    kept = _drop_bottom_underline(gray, from_border)[1]
    assert kept[17:].sum() == 0 and kept[:15].sum() == two[:15].sum()


def test_ink_too_short_for_two_lines_of_text_is_one_line():
    """A 2 eight pixels high in a 96-dpi picture: its diagonal is mid-grey, below the ink threshold, so
    its ink is two bands; shorter than ONE_LINE_IN it is one line (a number), taller it is two."""
    import numpy as np

    from pipeline.ingest.readers.ocr_cells import ONE_LINE_IN, _lines_of_text

    two = np.zeros((8, 6), dtype=bool)
    two[0, 1:5] = True
    two[1:4, 4] = True  # the diagonal (rows 4-5) is grey: no ink
    two[6, 1] = True
    two[7, 1:6] = True
    assert 8 < ONE_LINE_IN * 96
    assert _lines_of_text(two, 96.0) == 1
    label = np.zeros((30, 40), dtype=bool)  # two lines of a label, 0.2 inch at 150 dpi
    label[2:12, 2:38] = True
    label[18:28, 2:20] = True
    assert _lines_of_text(label, 150.0) == 2
    assert _lines_of_text(label, 300.0) == 1  # the same pixels at 300 dpi: 0.09 inch, one line


def test_reading_a_again_at_another_scale_gives_a_candidate_but_never_confirms_alone():
    """A lone 7 that the grey reading misses at 24 px is read at 28 px: with B it makes the candidate 7,
    which a sum rule must still confirm (the cell keeps its readings: not confirmed by them alone)."""
    import numpy as np

    from pipeline.ingest.readers.ocr_cells import DIGIT_PX_A_AGAIN, _read_number

    class Engines:
        eng_digits, chi_digits = "eng", "chi"

        def __init__(self):
            self.calls = []

        def read(self, handle, image, ppi=300):
            self.calls.append((handle, image.height))
            if handle == "chi":
                return "", 0.0
            grey = len([c for c in self.calls if c[0] == "eng"])
            return ("" if grey == 1 else "7"), 95.0  # A misses, B and A again read 7

    gray = np.full((40, 30), 255, dtype=np.uint8)
    gray[10:27, 10:20] = 0  # one glyph 17 px high, 10 wide
    engines = Engines()
    reading = _read_number(engines, gray, gray < 128, "区", False)
    assert reading.kind == "number" and reading.readings == ("7", "7", "", "区")
    assert reading.candidates == ("7",)
    assert [h for h, _ in engines.calls] == ["eng", "eng", "eng", "chi"]
    heights = [h for _, h in engines.calls]
    assert heights[2] > heights[0] and DIGIT_PX_A_AGAIN == 28
