"""The Word reader on .docx files written in the tests with python-docx, and the .doc/.wps path."""

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from docx import Document as new_docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.table import _Cell
from report_documents import expected_values, report_blocks, write_docx

from pipeline.process import process_bytes
from pipeline.ingest.discover import SourceFile
from pipeline.ingest.readers import docx as docx_reader
from pipeline.ingest.readers.docx import read_docx

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


def process(data: bytes, name: str = "report.docx"):
    return process_bytes(SourceFile(Path(name), name), data)


def printed(result) -> dict:
    return {(f["section"], f["row"], f["col"]): (f["status"], f["value"]) for f in result.fact_rows()
            if f["status"] != "derived"}


def saved(word) -> bytes:
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("split_at", [None, 12], ids=["one_table", "split_by_page_break"])
def test_docx_round_trip_gives_every_value_back_exactly(split_at):
    result = process(write_docx(report_blocks(), split_requests_at=split_at))
    assert result.report["status"] == "parsed", result.report["reason"]
    assert (result.report["agency"], result.report["year"], result.report["template"]) == ("测试县某某局", 2022, "2021")
    assert result.report["format"] == "docx"
    expected = {key: ("reported", value) for key, value in expected_values().items()}
    got = printed(result)
    assert {k: got.get(k) for k in expected} == expected
    assert set(got) == set(expected)


def test_docx_table_split_by_a_page_break_is_one_table_with_the_merge_going_on():
    doc = read_docx(write_docx(report_blocks(), split_requests_at=12))
    assert doc.notes == ["1 Word table(s) continued after a break joined to the one before"]
    after_break = next(i for i, c in enumerate(doc.cells) if c.text == "6.属于四类过程性信息")
    # the stub and group cells continue from the first part: not given again before the label
    assert doc.cells[after_break].col == 2
    assert doc.cells[after_break - 1].text == "0" and doc.cells[after_break - 1].col == 9


def _merged_table_docx(gap_paragraph: str | None = None) -> bytes:
    """Row 0: A (merged down into row 1) and B over two columns; row 1: C, D. Then a second table
    whose first cell continues a vertical merge."""
    word = new_docx()
    word.add_paragraph("标题")
    table = word.add_table(rows=2, cols=3)
    table.cell(0, 0).text, table.cell(0, 1).text = "A", "B"
    table.cell(1, 1).text, table.cell(1, 2).text = "C", "D"
    table.cell(0, 1).merge(table.cell(0, 2))
    table.cell(0, 0).merge(table.cell(1, 0))
    if gap_paragraph is not None:
        word.add_paragraph(gap_paragraph)
    second = word.add_table(rows=1, cols=3)
    second.cell(0, 0).text, second.cell(0, 1).text, second.cell(0, 2).text = "", "E", "F"
    merge = OxmlElement("w:vMerge")  # "continue": no w:val
    second.cell(0, 0)._tc.get_or_add_tcPr().append(merge)
    return saved(word)


def test_docx_grid_columns_follow_gridspan_and_vmerge_like_html():
    doc = read_docx(_merged_table_docx(gap_paragraph=""))
    cells = [(c.text, c.row, c.col, c.line) for c in doc.cells if c.structured]
    assert cells == [("A", 0, 0, 2), ("B", 0, 1, 2), ("C", 1, 1, 3), ("D", 1, 2, 3), ("E", 2, 1, 5), ("F", 2, 2, 5)]
    assert doc.lines == ["标题"] and doc.cells[0].line == 1


def test_docx_tables_with_text_between_them_are_not_joined():
    doc = read_docx(_merged_table_docx(gap_paragraph="四、政府信息公开行政复议、行政诉讼情况"))
    second = [(c.text, c.col) for c in doc.cells if c.structured and c.row == 2]
    assert second == [("", 0), ("E", 1), ("F", 2)]  # a continuation without a start is an ordinary cell
    assert doc.notes == []


def test_docx_grid_before_shifts_a_row_and_nested_tables_give_their_own_cells():
    word = new_docx()
    table = word.add_table(rows=2, cols=3)
    table.cell(0, 0).text, table.cell(0, 1).text, table.cell(0, 2).text = "x", "y", "z"
    row = table.rows[1]._tr
    row.remove(row.tc_lst[0])
    grid_before = OxmlElement("w:gridBefore")
    grid_before.set(qn("w:val"), "1")
    row.get_or_add_trPr().append(grid_before)
    _Cell(row.tc_lst[0], table).text = "shifted"  # the row's first cell, after one grid column skipped
    inner = table.rows[0].cells[2].add_table(rows=1, cols=2)
    inner.cell(0, 0).text, inner.cell(0, 1).text = "内层", "9"
    doc = read_docx(saved(word))
    texts = [(c.text, c.col) for c in doc.cells if c.structured]
    assert ("shifted", 1) in texts
    assert ("内层", 0) in texts and ("9", 1) in texts
    assert ("z", 2) not in texts and "z" in doc.lines  # the cell's own text around the nested table


def test_number_split_over_runs_and_paragraphs_is_one_number():
    word = new_docx()
    cell = word.add_table(rows=1, cols=2).cell(0, 1)
    paragraph = cell.paragraphs[0]
    paragraph.add_run("1")
    paragraph.add_run(" 2")
    cell.add_paragraph("34")
    assert [c.text for c in read_docx(saved(word)).cells] == ["", "1234"]


def test_word_file_without_extension_is_recognised_from_its_package():
    original = zipfile.ZipFile(io.BytesIO(write_docx(report_blocks())))
    repacked = io.BytesIO()
    with zipfile.ZipFile(repacked, "w") as archive:
        archive.writestr("docProps/padding.xml", "<x>" + "0" * 8000 + "</x>")  # word/ beyond the first 4 KiB
        for member in original.namelist():
            archive.writestr(member, original.read(member))
    data = repacked.getvalue()
    assert b"word/" not in data[:4096]
    result = process(data, "download")
    assert result.report["format"] == "docx" and result.report["status"] == "parsed"


def test_runs_inside_insertions_and_smart_tags_are_read_and_deleted_text_is_not():
    word = new_docx()
    paragraph = word.add_paragraph("某县")
    for wrapper, text in (("w:smartTag", "2023年"), ("w:ins", "政府信息公开"), ("w:del", "草稿")):
        outer = OxmlElement(wrapper)
        run = OxmlElement("w:r")
        piece = OxmlElement("w:delText" if wrapper == "w:del" else "w:t")
        piece.text = text
        run.append(piece)
        outer.append(run)
        paragraph._p.append(outer)
    paragraph.add_run("工作年度报告")
    assert read_docx(saved(word)).lines == ["某县2023年政府信息公开工作年度报告"]


def test_corrupt_docx_is_rejected_with_a_reason():
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("word/other.xml", "<x/>")
    for data in (broken.getvalue(), b"PK\x03\x04" + b"\x00" * 100):
        result = process(data)
        assert result.report["status"] == "rejected" and result.facts == []
        assert result.report["reason"].startswith("corrupt .docx")


def test_legacy_doc_without_libreoffice_is_rejected_with_the_fix(monkeypatch):
    monkeypatch.setattr(docx_reader, "office_converter", lambda: None)
    result = process(OLE2, "report.doc")
    assert result.report["status"] == "rejected" and result.report["format"] == "doc"
    assert result.report["reason"] == (
        "legacy Word/WPS binary document (.doc/.wps) and LibreOffice (soffice) is not installed to convert it: "
        "convert it to .docx (or install LibreOffice)")


def test_encrypted_word_document_is_rejected_as_encrypted():
    result = process(OLE2 + "EncryptedPackage".encode("utf-16-le"), "secret.docx")
    assert result.report["reason"].startswith("encrypted Word document")


def test_converter_that_hangs_is_stopped_by_the_time_limit(monkeypatch, tmp_path):
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setattr(docx_reader, "office_converter", lambda: str(fake))
    with pytest.raises(docx_reader.Unreadable, match="took longer than 0.5 s and was stopped"):
        docx_reader.read_doc(OLE2, timeout=0.5)


@pytest.mark.skipif(shutil.which("soffice") is None and shutil.which("libreoffice") is None,
                    reason="LibreOffice is not installed")
def test_legacy_doc_is_converted_with_libreoffice_and_read(tmp_path):
    source = tmp_path / "report.docx"
    source.write_bytes(write_docx(report_blocks()))
    command = shutil.which("soffice") or shutil.which("libreoffice")
    subprocess.run([command, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", "doc", "--outdir", str(tmp_path), str(source)], check=True, timeout=180,
                   capture_output=True)
    result = process((tmp_path / "report.doc").read_bytes(), "report.doc")
    assert result.report["status"] == "parsed", result.report["reason"]
    expected = {key: ("reported", value) for key, value in expected_values().items()}
    got = printed(result)
    assert {k: got.get(k) for k in expected} == expected
