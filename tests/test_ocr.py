"""OCR of scanned pages and pictures of tables: generated scans (the test report drawn as page pictures
at 100-300 dpi, turned up to 1°, with noise) must come back exactly or ambiguous, never wrong; the
confirmation of OCR numbers by the sum rules; Tesseract missing."""

import base64
import io
from pathlib import Path

import pytest
from report_documents import appeals_table, expected_values, proactive_table, requests_table
from scan_documents import cjk_font, draw_table, png, scanned_pdf

from conftest import requests_values
from pipeline.extract.align import align
from pipeline.extract.confirm import confirm_by_sums
from pipeline.extract.readings import RowReading, TableReading
from pipeline.extract.stream import Stream
from pipeline.ingest.discover import SourceFile
from pipeline.ingest.normalize import normalize_text
from pipeline.ingest.readers import Cell, ocr_engine
from pipeline.ingest.readers.ocr_cells import candidates
from pipeline.ingest.readers.ocr_rows import fill_row_labels
from pipeline.ingest.readers.ocr_text import snap_label, undo_confusions
from pipeline.knowledge import domain, labels
from pipeline.process import process_bytes, process_file

needs_ocr = pytest.mark.skipif(ocr_engine.missing() is not None,
                               reason=f"Tesseract is not installed ({ocr_engine.missing()})")
needs_font = pytest.mark.skipif(cjk_font() is None, reason="no CJK font to draw the generated scans "
                                "(apt-get install fonts-wqy-microhei)")


def facts_of(result) -> dict:
    return {(f["section"], f["row"], f["col"]): f for f in result.fact_rows() if f["status"] != "derived"}


def verdicts(result) -> tuple[int, list]:
    """(cells right, cells with a wrong number) against the test report's values."""
    got = facts_of(result)
    right, wrong = 0, []
    for key, value in expected_values().items():
        fact = got.get(key)
        if fact is None or fact["status"] == "ambiguous":
            continue
        if fact["status"] == "reported" and fact["value"] == value:
            right += 1
        else:
            wrong.append((key, value, fact["status"], fact["value"], fact["raw"]))
    return right, wrong


# --- without Tesseract ---------------------------------------------------------------------------------

def _picture_pdf() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("L", (600, 800), 255)
    ImageDraw.Draw(img).rectangle([100, 100, 500, 300], outline=0, width=2)
    buffer = io.BytesIO()
    img.save(buffer, "PDF", resolution=72)
    return buffer.getvalue()


def test_a_scan_without_tesseract_is_rejected_with_the_install_command_and_not_cached(monkeypatch):
    monkeypatch.setattr(ocr_engine, "missing", lambda: "install Tesseract to read it by OCR: " + ocr_engine.INSTALL)
    result = process_bytes(SourceFile(Path("scan.pdf"), "scan.pdf"), _picture_pdf())
    assert result.report["status"] == "rejected"
    assert "scanned PDF without a text layer" in result.report["reason"]
    assert "apt-get install tesseract-ocr tesseract-ocr-chi-sim" in result.report["reason"]
    assert result.cacheable is False


# --- the pieces, no Tesseract needed ------------------------------------------------------------------

def test_candidates_need_two_independent_readings():
    assert candidates(("12", "12", "", "")) == ("12",)  # A and B
    assert candidates(("12", "", "12", "")) == ("12",)  # eng and chi_sim
    assert candidates(("2", "", "7", "7")) == ()  # chi_sim twice is one model's confusion
    assert candidates(("30", "80", "80", "30")) == ("30", "80")


def _unsure(text: str, cands: tuple[str, ...], row: int, col: int) -> Cell:
    return Cell(text, text + " @p1:0,0,1,1", 1, row, col, True, readings=(text, "", *cands[:1], ""),
                confidence=40.0, candidates=cands)


def _table(values: dict[str, list], template: str = "2021") -> TableReading:
    """Table 3 rows whose cells are numbers or (text, candidates) OCR cells."""
    rows = {}
    for r, row in enumerate(domain.layout(template, "requests")):
        cells = []
        for c, value in enumerate(values.get(row.code, [0] * 7)):
            if isinstance(value, tuple):
                cells.append(_unsure(value[0], value[1], r, c))
            else:
                cells.append(Cell(str(value), str(value), 1, r, c, True))
        tokens, _ = Stream(cells).tokens(0, 10_000)
        rows[row.code] = RowReading(row.code, align(tokens, row.columns, False), 1, tokens)
    return TableReading("requests", True, template, rows)


def test_an_unconfirmed_ocr_number_is_ambiguous_with_its_readings():
    table = _table({"granted": [5, 0, 0, 0, 0, 0, ("5", ("5",))]})
    reading = table.rows["granted"].alignment.readings[6]
    assert (reading.status, reading.value) == ("ambiguous", None)
    assert "OCR reading 5" in reading.evidence


def test_a_sum_rule_confirms_the_only_candidate_that_makes_it_hold():
    values = {"new_received": [3, 0, 0, 0, 0, 0, 3], "granted": [3, 0, 0, 0, 0, 0, ("8", ("3", "8"))],
              "total": [3, 0, 0, 0, 0, 0, 3]}
    confirmed = confirm_by_sums(_table(values))
    reading = confirmed.rows["granted"].alignment.readings[6]
    assert (reading.status, reading.value) == ("reported", 3.0)
    assert "confirmed by" in reading.evidence


def test_no_confirmation_when_two_choices_hold_or_no_candidate():
    # two unknowns in one row total, each could be 1 or 7: 1+1 = ... no unique choice
    values = {"granted": [("1", ("1", "7")), 0, 0, 0, 0, 0, ("7", ("1", "7"))]}
    table = confirm_by_sums(_table(values))
    assert table.rows["granted"].alignment.readings[0].status == "ambiguous"
    values = {"granted": [2, 0, 0, 0, 0, 0, ("7", ())]}  # the rule would say 2, but no reading gave it
    assert confirm_by_sums(_table(values)).rows["granted"].alignment.readings[6].status == "ambiguous"


def test_confusions_are_undone_only_where_a_label_proves_them():
    # the replacements that make a label match, or match more of it (数量 is optional in its pattern)
    assert undo_confusions("二、上竺结转政府信息公开申请效量") == "二、上年结转政府信息公开申请数量"
    assert undo_confusions("3.危及“三安全一稳定”") == "3.危及“三安全一稳定”"  # 全 stays where it is real
    assert undo_confusions("全国") == "全国"


def test_garbled_labels_snap_only_when_clearly_one_label():
    printed = labels.printed_label("requests", "row", "unable_not_held")
    assert snap_label("1.本机关不千握相关政府信恩") == printed
    assert snap_label("重要通知") == "重要通知"


def test_unreadable_row_labels_are_named_by_their_place_when_the_count_fits():
    order = [normalize_text(labels.printed_label("requests", "row", r.code, "2021"), False)
             for r in domain.layout("2021", "requests")]
    texts = list(order)
    texts[0] = "一、木乞补站政府信息公开申博效旺"
    texts[6] = "?.危一忌正人?"
    assert fill_row_labels(texts) == {0: order[0], 6: order[6]}
    del texts[7]  # a row missing: the count no longer fits around the unread label
    assert 6 not in fill_row_labels(texts)


# --- generated scans ------------------------------------------------------------------------------------

@needs_ocr
@needs_font
@pytest.mark.parametrize("dpi,skew,noise,least", [(150, 0.7, 6.0, 170), (300, -1.0, 8.0, 160), (100, 0.3, 4.0, 150)])
def test_generated_scans_come_back_exactly_or_ambiguous_never_wrong(dpi, skew, noise, least):
    result = process_bytes(SourceFile(Path("scan.pdf"), "scan.pdf"), scanned_pdf(dpi, skew, noise))
    right, wrong = verdicts(result)
    assert wrong == []
    assert right >= least, result.report["reason"]
    assert (result.report["agency"], result.report["year"], result.report["template"]) == ("测试县某某局", 2022, "2021")
    assert "read by OCR" in result.report["notes"]
    fact = facts_of(result)[("requests", "new_received", "total")]
    assert fact["line"] in (1, 2, 3) and " @p" in fact["raw"]


@needs_ocr
@needs_font
def test_a_web_page_with_pictures_of_its_tables_is_read_by_ocr(tmp_path):
    pictures = [draw_table(t, 96)[0] for t in (proactive_table(), requests_table(requests_values()), appeals_table())]
    folder = tmp_path / "page_files"
    folder.mkdir()
    for i, img in enumerate(pictures[:2], start=1):
        (folder / f"t{i}.png").write_bytes(png(img))
    inline = base64.b64encode(png(pictures[2])).decode()
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>测试县某某局2022年政府信息公开工作年度报告</title></head><body>"
        "<h1>测试县某某局2022年政府信息公开工作年度报告</h1><p>二、主动公开政府信息情况</p>"
        '<p><img src="page_files/t1.png"></p><p>三、收到和处理政府信息公开申请情况</p>'
        '<p><img src="page_files/t2.png"><img src="/images/logo.png"></p>'
        f'<p>四、政府信息公开行政复议、行政诉讼情况</p><img src="data:image/png;base64,{inline}">'
        "<p>五、存在的主要问题及改进情况</p></body></html>", encoding="utf-8")
    result = process_file(SourceFile(page, "page.html"))
    right, wrong = verdicts(result)
    assert wrong == []
    assert right >= 150, result.report["reason"]
    assert "3 picture(s) of tables read by OCR" in result.report["notes"]
    assert result.cacheable is False  # it read files beside the page


def test_a_cell_no_two_readings_agree_on_is_confirmed_only_by_two_sums_with_one_of_its_readings():
    # granted/total read 2 by one reading, 7 by the other model twice: R2 (its row) and R3 (its column)
    # both require 2, and a reading gave 2
    values = {"new_received": [2, 0, 0, 0, 0, 0, 2], "granted": [2, 0, 0, 0, 0, 0, ("7", ())],
              "total": [2, 0, 0, 0, 0, 0, 2]}
    table = _table(values)
    cell = table.rows["granted"].alignment.readings[6].token.cell
    table.rows["granted"].alignment.readings[6] = table.rows["granted"].alignment.readings[6]._replace(
        token=table.rows["granted"].alignment.readings[6].token._replace(cell=cell._replace(readings=("2", "", "7", "7"))))
    reading = confirm_by_sums(table).rows["granted"].alignment.readings[6]
    assert (reading.status, reading.value) == ("reported", 2.0)
    assert " and " in reading.evidence
    # only one sum pins it (the total row unread): ambiguous
    values["total"] = [2, 0, 0, 0, 0, 0, ("2", ())]
    table = _table(values)
    assert confirm_by_sums(table).rows["granted"].alignment.readings[6].status == "ambiguous"
