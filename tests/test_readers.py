from pipeline.ingest.readers import read_document
from pipeline.ingest.readers.text import split_fields


def test_pipe_fields_ignore_the_pipes_that_open_and_close_a_row():
    assert [t for _, t in split_fields("| 行政许可 | 0 | |")] == ["行政许可", "0", ""]
    assert [t for _, t in split_fields("0 |")] == ["0"]
    assert split_fields("plain line") is None


def test_text_reader_makes_one_cell_per_line_and_fields_for_pipes_and_tabs():
    doc = read_document("标题\n\n规章 | 0 | 1\n行政许可\t5\t6\n||||\n", "text")
    assert [(c.text, c.line, c.structured) for c in doc.cells] == [
        ("标题", 1, False), ("规章", 3, True), ("0", 3, True), ("1", 3, True),
        ("行政许可", 4, True), ("5", 4, True), ("6", 4, True),
    ]


def test_text_reader_converts_traditional_documents():
    doc = read_document("衡陽市人民政府辦公室\n政府信息公開年度報告\n收到依申請公開事項49件\n" * 3, "text")
    assert doc.cells[0].text == "衡阳市人民政府办公室"
    assert doc.cells[0].raw == "衡陽市人民政府辦公室"


HTML = """<html><head><title>某县2021年政府信息公开工作年度报告</title><script>var x=1;</script></head>
<body><p>一、总体情况</p>
<table>
<tr><td rowspan="2">三、本<br/>年度办理结果</td><td>(一)予以公开</td><td><span>1</span><span>2</span></td><td colspan="2">&nbsp;</td></tr>
<tr><td>(二)部分<p>公开</p></td><td>3</td><td>4</td><td>5</td></tr>
</table>
<table><tr><td><table><tr><td>内层</td><td>9</td></tr></table></td></tr></table>
</body></html>"""


def test_html_cells_follow_the_grid_with_spans_and_join_split_text():
    doc = read_document(HTML, "html")
    cells = [(c.text, c.row, c.col) for c in doc.cells if c.structured]
    rows = sorted({r for _, r, _ in cells})
    first = [(t, c) for t, r, c in cells if r == rows[0]]
    second = [(t, c) for t, r, c in cells if r == rows[1]]
    assert first == [("三、本年度办理结果", 0), ("(一)予以公开", 1), ("12", 2), ("", 3)]
    # the rowspan of the stub pushes the second row one column to the right
    assert second == [("(二)部分公开", 1), ("3", 2), ("4", 3), ("5", 4)]


def test_html_nested_tables_give_their_own_cells_and_scripts_are_dropped():
    doc = read_document(HTML, "html")
    texts = [c.text for c in doc.cells]
    assert "内层" in texts and "9" in texts
    assert not any("var x" in t for t in texts)
    assert doc.lines[0] == "某县2021年政府信息公开工作年度报告"


def test_a_table_nested_in_a_cell_of_a_wider_table_gives_its_own_cells_not_one_cell():
    html = ("<html><body><table><tr><td>行政许可</td><td>5</td></tr>"
            "<tr><td>外层<!-- note --></td><td><div><table><tr><td>内层</td><td>9</td></tr></table></div></td></tr>"
            "</table></body></html>")
    cells = [(c.text, c.structured) for c in read_document(html, "html").cells]
    assert cells == [("行政许可", True), ("5", True), ("外层", True), ("内层", True), ("9", True)]


def test_comma_separated_rows_of_a_sheet_are_fields_but_prose_is_not():
    doc = read_document('一、本年新收政府信息公开申请数量,21,0,0,"1",0,0,22\n'
                        "2021年,我局认真落实条例,主动公开信息,接受社会监督。\n", "text")
    fields = [c.text for c in doc.cells if c.structured]
    assert fields == ["一、本年新收政府信息公开申请数量", "21", "0", "0", "1", "0", "0", "22"]
    assert not doc.cells[-1].structured


def test_a_number_with_thousands_separators_on_its_own_line_is_one_number():
    doc = read_document("2,792,220.8元\n1,234\n", "text")
    assert [(c.text, c.structured) for c in doc.cells] == [("2,792,220.8元", False), ("1,234", False)]
