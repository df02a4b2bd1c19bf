"""PDF grid reconstruction on synthetic geometry: ruling lines and glyph boxes, no PDF needed."""

from pipeline.ingest.readers.grid import (
    Glyph,
    Grid,
    GridCell,
    Rule,
    build_grids,
    cell_text,
    group_lines,
    merge_rules,
    place_glyphs,
    split_fields,
)
from pipeline.ingest.readers.pdf import blocks_to_document
from pipeline.ingest.readers.pdf_pages import join_continued_tables, merge_split_rows
from pipeline.ingest.readers.pdf_content import drop_duplicate_glyphs
from pipeline.ingest.readers.pdf_unruled import Block


def h(y, x0, x1):
    return Rule(True, y, x0, x1)


def v(x, y0, y1):
    return Rule(False, x, y0, y1)


def word(text, x, top, size=10.0):
    """Glyphs of a word set left to right from x, one em per character."""
    return [Glyph(ch, x + i * size, top, x + (i + 1) * size, top + size) for i, ch in enumerate(text)]


def spans(grid):
    return sorted((c.row, c.col, c.rowspan, c.colspan) for c in grid.cells)


# A 3x4 table: the first column's top two cells are one (rowspan 2); the last row's right three
# cells are one (colspan 3). Lines are drawn per cell edge, as word processors do.
XS, YS = [0, 100, 150, 200, 250], [0, 20, 40, 60]
TABLE = [
    h(0, 0, 250), h(20, 100, 250), h(40, 0, 250), h(60, 0, 250),
    v(0, 0, 60), v(100, 0, 60), v(150, 0, 40), v(200, 0, 40), v(250, 0, 60),
]


def test_grid_from_lines_gives_rowspans_and_colspans_where_no_line_separates_cells():
    [grid] = build_grids(TABLE)
    assert [round(x) for x in grid.xs] == XS and [round(y) for y in grid.ys] == YS
    assert spans(grid) == [
        (0, 0, 2, 1), (0, 1, 1, 1), (0, 2, 1, 1), (0, 3, 1, 1),
        (1, 1, 1, 1), (1, 2, 1, 1), (1, 3, 1, 1),
        (2, 0, 1, 1), (2, 1, 1, 3),
    ]


def test_lines_split_into_pieces_and_slightly_off_are_merged_into_one():
    pieces = [h(10.0, 0, 50), h(10.6, 50.5, 120), h(10.3, 119, 200), v(5, 0, 10)]
    merged = merge_rules(pieces)
    horizontal = [r for r in merged if r.horizontal]
    assert len(horizontal) == 1
    assert (round(horizontal[0].start), round(horizontal[0].end)) == (0, 200)


def test_a_double_border_is_one_boundary_not_a_thin_column():
    double = TABLE + [v(253, 0, 60), h(63, 0, 253)]  # outer border drawn twice, 3 points apart
    [grid] = build_grids(double)
    assert len(grid.xs) == len(XS) and len(grid.ys) == len(YS)


def test_a_character_printed_twice_for_fake_bold_is_read_once():
    bold = word("规章", 0, 0) + [Glyph(g.text, g.x0 + 0.4, g.top + 0.2, g.x1 + 0.4, g.bottom + 0.2)
                                 for g in word("规章", 0, 0)]
    assert "".join(g.text for g in drop_duplicate_glyphs(bold)) == "规章"
    assert len(drop_duplicate_glyphs(word("11", 0, 0))) == 2  # the same digit side by side is two
    column = [Glyph("0", 100, 20 * i, 105, 20 * i + 10) for i in range(30)]
    bold_column = column + [Glyph("0", 100.4, 20 * i + 0.3, 105.4, 20 * i + 10.3) for i in range(30)]
    assert drop_duplicate_glyphs(bold_column) == column


def test_lines_that_do_not_make_a_table_give_no_grid():
    underline = [h(50, 0, 300)]
    box_around_a_paragraph = [h(0, 0, 300), h(80, 0, 300), v(0, 0, 80), v(300, 0, 80)]
    assert build_grids(underline) == []
    assert build_grids(box_around_a_paragraph) == []


def test_two_separate_tables_on_a_page_are_two_grids_top_to_bottom():
    lower = [Rule(r.horizontal, r.pos + 300, r.start, r.end) if r.horizontal else
             Rule(False, r.pos, r.start + 300, r.end + 300) for r in TABLE]
    grids = build_grids(lower + TABLE)
    assert [round(g.top) for g in grids] == [0, 300]


def test_glyphs_go_to_the_cell_holding_their_centre_and_the_rest_stays_text():
    [grid] = build_grids(TABLE)
    stub = [Glyph(ch, 45, 2 + 9 * i, 55, 11 + 9 * i) for i, ch in enumerate("三、本年")]  # one per line
    outside = word("正文", 0, 100)
    rest = place_glyphs([grid], stub + word("12", 160, 25) + word("7730.28", 105, 45) + outside)
    assert rest == outside
    text = {(c.row, c.col): cell_text(c.glyphs) for c in grid.cells}
    assert text[(0, 0)] == "三、本年"  # a vertical stub: line breaks between CJK characters are nothing
    assert text[(1, 2)] == "12"
    assert text[(2, 1)] == "7730.28"
    assert text[(0, 1)] == ""


def test_a_number_wrapped_in_a_narrow_cell_is_one_number_and_wrapped_words_keep_a_space():
    assert cell_text(word("12", 0, 0) + word("34", 0, 12)) == "1234"
    assert cell_text(word("Total", 0, 0) + word("cases", 0, 12)) == "Total cases"


def test_lines_group_glyphs_of_different_heights_on_one_baseline():
    digits = [Glyph("2", 100, 0, 107, 14), Glyph("1", 107, 0, 114, 14)]
    label = word("数量", 0, 2)
    [line] = group_lines(digits + label)
    assert "".join(g.text for g in line) == "数量21"


def test_a_line_without_ruling_lines_is_split_into_fields_at_wide_gaps():
    line = word("行政许可", 0, 0) + word("5", 120, 0) + word("0", 160, 0) + word("12", 200, 0)
    fields = split_fields(line)
    assert ["".join(g.text for g in f) for f in fields] == ["行政许可", "5", "0", "12"]


def _grid(xs, ys):
    [grid] = build_grids([h(y, xs[0], xs[-1]) for y in ys] + [v(x, ys[0], ys[-1]) for x in xs])
    return grid


def test_a_table_going_on_at_the_top_of_the_next_page_is_joined_onto_one_grid():
    end_of_page_1 = _grid([0, 100, 200, 300], [600, 620, 640])
    top_of_page_2 = _grid([0, 100, 300], [50, 70])  # fewer columns: a merged cell in every row
    pages = [
        [Block(10, line=word("标题", 0, 10)), Block(600, grid=end_of_page_1), Block(800, line=word("-1-", 0, 800))],
        [Block(50, grid=top_of_page_2), Block(100, line=word("正文", 0, 100))],
    ]
    assert join_continued_tables(pages) == [(end_of_page_1, top_of_page_2)]
    assert spans(top_of_page_2) == [(0, 0, 1, 1), (0, 1, 1, 2)]  # columns of the first part


def test_a_table_after_text_on_the_next_page_is_not_a_continuation():
    first = _grid([0, 100, 200, 300], [600, 620, 640])
    second = _grid([0, 100, 300], [150, 170])
    pages = [[Block(600, grid=first)], [Block(50, line=word("四、行政复议", 0, 50)), Block(150, grid=second)]]
    assert join_continued_tables(pages) == []
    assert spans(second) == [(0, 0, 1, 1), (0, 1, 1, 1)]


def test_document_gives_every_grid_cell_once_in_row_order_with_page_and_box_provenance():
    [grid] = build_grids(TABLE)
    place_glyphs([grid], word("三本", 40, 5) + word("9", 210, 45))
    doc = blocks_to_document([[Block(0, line=word("报告", 0, -20)), Block(0, grid=grid)]])
    table = [c for c in doc.cells if c.structured]
    assert len(table) == len(grid.cells)
    assert [(c.text, c.col) for c in table[:4]] == [("三本", 0), ("", 1), ("", 2), ("", 3)]
    assert table[-1].text == "9" and table[-1].line == 1
    assert table[-1].raw == "9 @p1:100,40,250,60"  # the merged cell spans x 100-250
    assert doc.lines == ["报告"]


def test_grid_cell_index_covers_every_elementary_position():
    grid = _grid([0, 10, 20], [0, 10, 20])
    assert isinstance(grid, Grid) and all(isinstance(c, GridCell) for c in grid.cells)
    assert set(grid.index) == {(0, 0), (0, 1), (1, 0), (1, 1)}


def _row_table(top, label, values):
    """A one-row table part: a label cell and one cell per value, at the given height."""
    xs = [0, 200] + [200 + 30 * (i + 1) for i in range(len(values))]
    grid = _grid(xs, [top, top + 20])
    place_glyphs([grid], word(label, 5, top + 5) + [g for i, text in enumerate(values)
                                                     for g in word(text, 205 + 30 * i, top + 5)])
    return grid


def _document_rows(pages):
    rows = {}
    for cell in blocks_to_document(pages).cells:
        rows.setdefault(cell.row, []).append(cell)
    return list(rows.values())


def test_a_row_broken_by_the_page_break_is_read_as_one_when_its_label_runs_across():
    before = _row_table(700, "4.无正当", ["0", "3"])
    after = _row_table(50, "理由大量反复申请", ["", ""])
    assert merge_split_rows(before, after)
    [row] = _document_rows([[Block(700, grid=before)], [Block(50, grid=after)]])
    assert [c.text for c in row] == ["4.无正当理由大量反复申请", "0", "3"]
    assert [c.line for c in row] == [1, 1, 1]
    assert row[0].raw.startswith("4.无正当理由大量反复申请 @p1:0,700,200,720,@p2:0,50,200,70")


def test_a_new_row_after_the_page_break_is_not_merged_even_with_empty_cells():
    before = _row_table(700, "2.申请人逾期未按收费通知要求缴纳费用", ["0", "0"])
    after = _row_table(50, "3.其他", ["", ""])  # a row printed with empty cells
    assert not merge_split_rows(before, after)
    rows = _document_rows([[Block(700, grid=before)], [Block(50, grid=after)]])
    assert [[c.text for c in row] for row in rows] == [["2.申请人逾期未按收费通知要求缴纳费用", "0", "0"],
                                                       ["3.其他", "", ""]]
