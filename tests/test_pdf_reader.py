"""The PDF reader on PDFs written in the tests (reportlab): tables with merged cells, a table split
over two pages, a table without ruling lines, and the files that must be rejected with a reason."""

import io
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
from report_documents import Span, expected_values, report_blocks, write_docx, write_pdf
from reportlab.lib import pdfencrypt
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from test_cli_and_store import build

from pipeline.process import process_bytes
from pipeline.ingest.discover import SourceFile
from pipeline.ingest.readers import Unreadable
from pipeline.ingest.readers import docx as docx_reader
from pipeline.ingest.readers import pdf as pdf_reader
from pipeline.ingest.readers import pdf_content, pdf_unruled
from pipeline.ingest.readers.grid import Glyph, Rule, line_text, merge_rules, split_fields
from pipeline.ingest.readers.pdf import check_text_layer, measure_pages_per_second, read_pdf
from pipeline.ingest.readers.pdf_content import PageContent


def process(data: bytes, name: str = "report.pdf"):
    return process_bytes(SourceFile(Path(name), name), data)


def printed(result) -> dict:
    return {(f["section"], f["row"], f["col"]): (f["status"], f["value"]) for f in result.fact_rows()
            if f["status"] != "derived"}


@pytest.fixture(scope="module")
def split_report_pdf() -> bytes:
    # Table 3 ends page 1 inside the 三、本年度办理结果 stub and the (三)不予公开 group
    return write_pdf(report_blocks(), split_requests_at=12)


def test_pdf_round_trip_gives_every_printed_value_back_exactly(split_report_pdf):
    result = process(split_report_pdf)
    assert result.report["status"] == "parsed", result.report["reason"]
    assert (result.report["agency"], result.report["year"], result.report["template"]) == ("测试县某某局", 2022, "2021")
    assert result.report["format"] == "pdf"
    got = printed(result)
    expected = {key: ("reported", value) for key, value in expected_values().items()}
    assert {k: got.get(k) for k in expected} == expected
    assert set(got) == set(expected)


def test_pdf_table_split_over_two_pages_is_joined_and_keeps_page_provenance(split_report_pdf):
    result = process(split_report_pdf)
    assert "1 table(s) continued on the next page joined" in result.report["notes"]
    facts = {(f["row"], f["col"]): f for f in result.fact_rows() if f["section"] == "requests"}
    assert facts[("granted", "total")]["line"] == 1
    assert facts[("denied_process_info", "natural_person")]["line"] == 2  # first row after the break
    raw = facts[("denied_process_info", "natural_person")]["raw"]
    assert raw.startswith("1 @p2:") and len(raw.split(":")[1].split(",")) == 4


def test_pdf_cells_sit_on_one_grid_across_the_page_break(split_report_pdf):
    doc = read_pdf(split_report_pdf)
    first_after_break = [c for c in doc.cells if c.line == 2 and c.structured][:3]
    # the stub and group columns go on as empty merged cells, then the row label in column 2
    assert [(c.text, c.col) for c in first_after_break] == [("", 0), ("", 1), ("6.属于四类过程性信息", 2)]
    stub = next(c for c in doc.cells if c.text == "三、本年度办理结果")
    assert stub.col == 0 and stub.structured


def test_pdf_in_traditional_script_is_read_like_its_simplified_original():
    import opencc

    to_traditional = opencc.OpenCC("s2t").convert
    blocks = [to_traditional(b) if isinstance(b, str) else
              [[Span(to_traditional(s.text), s.colspan, s.rowspan) for s in row] for row in b]
              for b in report_blocks()]
    assert blocks[0] == "測試縣某某局2022年政府信息公開工作年度報告"
    result = process(write_pdf(blocks))
    assert result.report["agency"] == "测试县某某局"
    assert printed(result) == {key: ("reported", value) for key, value in expected_values().items()}


def test_pdf_row_broken_over_two_pages_is_read_as_one_row():
    # the row 4.无正当理由大量反复申请 starts on page 1 (label head and numbers) and ends on page 2
    result = process(write_pdf(report_blocks(), split_requests_at=21, break_label_after=4))
    assert "1 row(s) broken by a page break read as one" in result.report["notes"]
    assert printed(result) == {key: ("reported", value) for key, value in expected_values().items()}


def test_underlined_labels_wrapped_in_narrow_cells_are_one_cell_each():
    # a web page exported by an office suite: every cell's text underlined (links, <u>), labels
    # wrapped over several lines flush against the cell border; each line's underline starts at the
    # border and covers most of the cell, but it is not a row border
    pdf = write_pdf(report_blocks(), narrow=True, underline=True, split_requests_at=12)
    labels = [c.text for c in read_pdf(pdf).cells if c.col == 2 and c.text]
    assert {"1.属于国家秘密", "2.其他法律行政法规禁止公开", "5.属于三类内部事务信息",
            "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"} <= set(labels)
    result = process(pdf)
    assert result.report["status"] == "parsed", result.report["reason"]
    assert printed(result) == {key: ("reported", value) for key, value in expected_values().items()}


def test_underlined_narrow_row_broken_over_two_pages_is_read_as_one_row():
    # the wrapped, underlined label 4.无正当理由大量反复申请 goes on at the top of the next page
    result = process(write_pdf(report_blocks(), narrow=True, underline=True, split_requests_at=21,
                               break_label_after=6))
    assert "1 row(s) broken by a page break read as one" in result.report["notes"]
    assert printed(result) == {key: ("reported", value) for key, value in expected_values().items()}


def test_underlines_are_dropped_and_borders_under_text_kept():
    glyphs = [Glyph(ch, 100 + 12 * i, 100, 112 + 12 * i, 112) for i, ch in enumerate("属于国家秘")]
    glyphs += [Glyph("0", 200, 100, 206, 112)]
    underline = [Rule(True, 113.2, 100, 124), Rule(True, 113.2, 124, 160)]  # one piece per text run
    border_at_text = Rule(True, 113.5, 100, 240)  # a row border under text that fills its cell
    strike = Rule(True, 108, 200, 206)  # a struck-through number
    verticals = [Rule(False, x, 90, 130) for x in (100, 160, 240)]
    kept = pdf_content.drop_text_decorations([*underline, strike, *verticals], glyphs)
    assert kept == merge_rules(verticals)
    assert border_at_text in pdf_content.drop_text_decorations([border_at_text, *verticals], glyphs)


def test_labels_wrapped_in_narrow_cells_without_ruling_lines_are_read_exactly():
    # no ruling lines, label columns so narrow that labels wrap over two to four lines, cells without
    # padding (the texts of neighbouring columns touch) and Table 3 split over two pages: the row's
    # numbers are centred between the lines of its label (1.属于国家秘 / numbers / 密) and the stub
    # 三、本年度办理结果 wraps into the rows beside it
    pdf = write_pdf(report_blocks(), ruled=False, narrow=True, split_requests_at=12)
    doc = read_pdf(pdf)
    texts = [c.text for c in doc.cells]
    assert {"1.属于国家秘密", "三、本年度办理结果", "(三)不予公开", "行政事业性收费"} <= set(texts)
    result = process(pdf)
    assert "line(s) of text without ruling lines joined to the wrapped label they continue" in result.report["notes"]
    assert printed(result) == {key: ("reported", value) for key, value in expected_values().items()}


def test_group_label_centred_between_a_row_label_and_its_numbers_is_settled_by_the_sums():
    # numbers centred in their cells, text underlined, no ruling lines: the group label (三)不予公开,
    # centred over its eight rows, is printed between 4.保护第三方 and that row's numbers, so the row
    # cannot be read after its label; the table holds exactly 25 x 7 values and R1-R3 hold in
    # template order, which places that row (with that evidence); every other cell is read as before
    result = process(write_pdf(report_blocks(), ruled=False, narrow=True, underline=True))
    got = printed(result)
    for key, value in expected_values().items():
        assert got[key] == ("reported", value), key
    evidence = {f["evidence"] for f in result.fact_rows() if f["row"] == "denied_third_party"}
    assert evidence == {"read in template order: R1_balance, R2_row_total, R3_result_total hold for every row "
                        "and column"}


def _glyphs(text: str, x: float, top: float, size: float = 7.5) -> list[Glyph]:
    return [Glyph(ch, x + i * size, top, x + (i + 1) * size, top + size) for i, ch in enumerate(text)]


def test_wrapped_lines_join_only_where_a_row_label_runs_across_the_wrap():
    # label column at x=100 (six characters wide), numbers at x=200; no ruling lines
    lines = [_glyphs("1.属于国家秘"[:2], 100, 10) + _glyphs("属于国家秘", 100 + 2 * 7.5, 10),
             _glyphs("0", 200, 15) + _glyphs("4", 240, 15) + _glyphs("4", 280, 15),
             _glyphs("密", 100, 20),
             _glyphs("2.重复申请", 100, 32),  # the next row: its own cell, not a wrapped line
             _glyphs("0", 200, 32) + _glyphs("0", 240, 32) + _glyphs("0", 280, 32)]
    blocks = [pdf_unruled.Block(min(g.top for g in line), line=line) for line in lines]
    assert pdf_unruled.join_wrapped_fields([blocks], traditional=False) == 1
    doc = pdf_reader.blocks_to_document([blocks], traditional=False)
    assert [c.text for c in doc.cells] == ["1.属于国家秘密", "0", "4", "4", "2.重复申请", "0", "0", "0"]


def test_column_edges_cut_touching_texts_but_never_a_number():
    # a stub column at x=100 and a group column at x=130 without padding, numbers at 200 and 240
    line = lambda *parts: [g for text, x in parts for g in _glyphs(text, x, 0)]  # noqa: E731
    lines = [line(("(一)予以公开", 130), ("1", 200), ("2", 240)),
             line(("(二)部分公开", 130), ("3", 200), ("4", 240)),
             line(("(三)不予公开", 130), ("5", 200), ("6", 240)),
             line(("三、本年", 100), ("(四)无法", 130), ("7", 200), ("8", 240)),  # the stub's text fills it
             line(("12", 122.5), ("9", 200), ("0", 240))]  # a number drawn across the column edge
    lines = [[Glyph(g.text, g.x0, 10 * i, g.x1, 10 * i + 7.5) for g in glyphs] for i, glyphs in enumerate(lines)]
    assert [len(split_fields(glyphs)) for glyphs in lines] == [3, 3, 3, 3, 3]
    texts = [[line_text(f) for f in fields] for fields in pdf_unruled.column_fields(lines)]
    assert texts[3] == ["三、本年", "(四)无法", "7", "8"]
    assert texts[4] == ["12", "9", "0"]


def _has_cjk_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    return bool(subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip())


@pytest.mark.skipif(docx_reader.office_converter() is None or not _has_cjk_font(),
                    reason="needs LibreOffice and a Chinese font")
def test_pdf_exported_by_libreoffice_from_word_is_read_exactly(tmp_path):
    # a third PDF producer: LibreOffice breaks rows over pages and draws its own borders
    source = tmp_path / "report.docx"
    source.write_bytes(write_docx(report_blocks()))
    subprocess.run([docx_reader.office_converter(), f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
                    "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
                   check=True, timeout=180, capture_output=True)
    result = process((tmp_path / "report.pdf").read_bytes())
    assert result.report["status"] == "parsed"
    assert printed(result) == {key: ("reported", value) for key, value in expected_values().items()}


def test_pdf_without_ruling_lines_reads_rows_by_position_and_never_guesses():
    result = process(write_pdf(report_blocks(), ruled=False))
    got = printed(result)
    expected = expected_values()
    for key, value in expected.items():
        if key[0] in ("proactive", "requests"):
            assert got[key] == ("reported", value), key
    # Table 4's two-line headers wrap word by word without cell borders, so the header words do not
    # delimit its numbers; its fifteen values are read in template order because R4 holds in each block
    appeals = {k: v for k, v in expected.items() if k[0] == "appeals"}
    assert appeals and all(got[k] == ("reported", v) for k, v in appeals.items())
    evidence = {f["evidence"] for f in result.fact_rows() if f["section"] == "appeals"}
    assert evidence == {"read in template order: R4_appeals_total holds for every block"}


def _canvas_pdf(draw, **kwargs) -> bytes:
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, **kwargs)
    draw(c)
    c.showPage()
    c.save()
    return buffer.getvalue()


def _thin_filled_rect_table(c) -> None:
    """A 2x3 table whose borders are thin filled rectangles, behind it white paragraph boxes."""
    c.setFillColorRGB(1, 1, 1)
    c.rect(40, 600, 500, 30, stroke=0, fill=1)  # white background of a text line: not a border
    c.setFillColorRGB(0, 0, 0)
    for y in (700, 720, 740):
        c.rect(100, y, 300, 0.8, stroke=0, fill=1)
    for x in (100, 250, 325, 400):
        c.rect(x, 700, 0.8, 40.8, stroke=0, fill=1)
    c.setFont("Helvetica", 10)
    for text, x, y in (("Permits", 105, 725), ("Cases", 105, 705), ("12", 260, 725), ("3", 335, 725),
                       ("0", 260, 705), ("45", 335, 705)):
        c.drawString(x, y, text)
    c.drawString(45, 610, "Text in a white box")


def test_borders_drawn_as_thin_filled_rectangles_make_a_grid_and_white_boxes_do_not():
    doc = read_pdf(_canvas_pdf(_thin_filled_rect_table))
    rows = {}
    for cell in doc.cells:
        if cell.structured:
            rows.setdefault(cell.row, []).append((cell.col, cell.text))
    assert list(rows.values()) == [[(0, "Permits"), (1, "12"), (2, "3")], [(0, "Cases"), (1, "0"), (2, "45")]]
    assert "Text in a white box" in doc.lines


def _sideways_headers(c) -> None:
    """Two ruled cells whose headers are set sideways: turned anticlockwise, then clockwise."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    for y in (500, 600):
        c.line(100, y, 200, y)
    for x in (100, 150, 200):
        c.line(x, 500, x, 600)
    c.setFont("STSong-Light", 10)
    for x, y, angle, text in ((130, 510, 90, "结果维持"), (170, 590, -90, "尚未审结")):
        c.saveState()
        c.translate(x, y)
        c.rotate(angle)
        c.drawString(0, 0, text)
        c.restoreState()


def test_text_turned_sideways_in_a_cell_reads_in_its_own_direction():
    doc = read_pdf(_canvas_pdf(_sideways_headers))
    assert [(c.text, c.col) for c in doc.cells] == [("结果维持", 0), ("尚未审结", 1)]


def test_encrypted_pdf_is_rejected_with_a_reason_that_says_so():
    locked = _canvas_pdf(lambda c: c.drawString(100, 700, "secret"),
                         encrypt=pdfencrypt.StandardEncryption("user-password", "owner-password"))
    result = process(locked)
    assert result.report["status"] == "rejected" and result.facts == []
    assert result.report["reason"].startswith("encrypted PDF: it needs a password")


def test_pdf_with_only_an_owner_password_is_read():
    restricted = _canvas_pdf(lambda c: c.drawString(100, 700, "readable text"),
                             encrypt=pdfencrypt.StandardEncryption("", "owner-password", canCopy=0))
    assert "readable text" in read_pdf(restricted).lines


def test_scanned_pdf_without_text_layer_is_rejected_as_scanned():
    from PIL import Image

    scan = _canvas_pdf(lambda c: c.drawImage(ImageReader(Image.new("L", (40, 40), 128)), 50, 50, 400, 600))
    result = process(scan)
    assert result.report["status"] == "rejected"
    assert result.report["reason"].startswith("scanned PDF without a text layer (1 page(s), 1 image(s)")
    assert "cannot be read by OCR" in result.report["reason"] or "install Tesseract" in result.report["reason"]


def test_pdf_whose_fonts_give_no_unicode_is_rejected_as_unusable_not_as_scanned():
    garbled = PageContent([Glyph("1", 0, 0, 5, 10)], [], unmapped=40, images=0)
    with pytest.raises(Unreadable, match=r"text layer is unusable: 40 of 41 characters have no Unicode"):
        check_text_layer([garbled], 1, [])


@pytest.mark.parametrize("data", [b"%PDF-1.4\n1 0 obj << /Type /Catalog", b"%PDF-1.7\n" + b"\x00\xff" * 500])
def test_corrupt_pdf_is_rejected_not_a_crash(data):
    result = process(data)
    assert result.report["status"] == "rejected"
    assert "corrupt" in result.report["reason"] or "without pages" in result.report["reason"]


def test_time_limit_stops_the_parse_and_says_so():
    with pytest.raises(Unreadable, match=r"time limit \(0 s\)"):
        read_pdf(write_pdf(report_blocks()), time_budget=0)


def test_page_limit_reads_the_first_pages_and_says_so_in_the_reason(split_report_pdf, monkeypatch):
    doc = read_pdf(split_report_pdf, page_limit=1)
    assert doc.pages == 1
    assert doc.problems == ["PDF page limit: only the first 1 of 2 pages read"]
    assert doc.cut_short
    monkeypatch.setattr(pdf_reader, "PAGE_LIMIT", 1)
    result = process(split_report_pdf)
    report = result.report
    assert report["status"] == "partial"  # the rest of Table 3 and Table 4 are on page 2
    assert report["reason"].endswith("; PDF page limit: only the first 1 of 2 pages read")
    assert not result.cacheable  # a result cut short by a limit is never cached
    monkeypatch.undo()
    assert process(split_report_pdf).cacheable


def test_pages_per_second_can_be_measured(split_report_pdf):
    ticks = iter([0.0, 0.5])
    assert measure_pages_per_second([split_report_pdf], clock=lambda: next(ticks)) == (2, 0.5)


def test_build_reads_pdf_and_docx_reports_into_the_dataset(tmp_path, split_report_pdf):
    result, out = build(tmp_path, {"a/report.pdf": split_report_pdf, "b/report.docx": write_docx(report_blocks())})
    assert result.exit_code == 0, result.output
    reports = pl.read_parquet(out / "reports.parquet").sort("source_file")
    assert reports.select("source_file", "format", "status", "n_cells", "n_ambiguous").rows() == [
        ("a/report.pdf", "pdf", "parsed", 200, 0), ("b/report.docx", "docx", "parsed", 200, 0)]
    facts = pl.read_parquet(out / "facts.parquet")
    by_format = facts.filter(pl.col("status") == "reported").group_by("source_file").agg(pl.col("value").sum())
    assert by_format["value"].n_unique() == 1  # the same report read from both formats
