"""The published PDFs of the corpus (../shared/corpus/pdf), read from their own structure."""

import subprocess
import sys

import polars as pl
import pytest
from conftest import cell_verdicts, scorer

from pipeline.ingest.readers.pdf import read_pdf


@pytest.fixture(scope="module")
def pdf_dataset(tmp_path_factory):
    from conftest import SHARED
    if not (SHARED / "corpus" / "pdf").is_dir():
        pytest.skip("../shared is not present")
    out = tmp_path_factory.mktemp("pdf") / "dataset"
    subprocess.run([sys.executable, "-m", "pipeline", "build", str(SHARED / "corpus" / "pdf"), "--out", str(out)],
                   check=True, capture_output=True)
    return out


def test_every_cell_of_the_real_pdfs_matches_the_truth(pdf_dataset, shared):
    verdicts = cell_verdicts(shared, pdf_dataset, shared / "corpus" / "pdf" / "truth.csv")
    assert set(verdicts) == {"right"}, {k: v[:5] for k, v in verdicts.items() if k != "right"}
    assert len(verdicts["right"]) == 414


def test_real_pdf_agency_year_and_template_match_the_truth(pdf_dataset, shared):
    right, total, lines = scorer(shared).score_meta(pdf_dataset, shared / "corpus" / "pdf" / "truth_meta.csv")
    assert (right, total) == (2, 2), lines


def test_real_pdfs_are_parsed_and_the_csv_files_beside_them_rejected(pdf_dataset):
    reports = pl.read_parquet(pdf_dataset / "reports.parquet").sort("source_file")
    assert reports.select("source_file", "format", "status").rows() == [
        ("015_hongze_2023.pdf", "pdf", "parsed"), ("016_hongze_2024.pdf", "pdf", "parsed"),
        ("truth.csv", "text", "rejected"), ("truth_meta.csv", "text", "rejected"),
    ]
    facts = pl.read_parquet(pdf_dataset / "facts.parquet")
    licensing = facts.filter((pl.col("source_file") == "015_hongze_2023.pdf")
                             & (pl.col("row") == "administrative_licensing")).row(0, named=True)
    assert (licensing["value"], licensing["line"]) == (550.0, 2)
    assert licensing["raw"].startswith("550 @p2:")


def test_real_pdf_table_3_is_one_grid_with_its_stub_and_joined_over_the_page_break(shared):
    doc = read_pdf((shared / "corpus" / "pdf" / "015_hongze_2023.pdf").read_bytes())
    assert doc.pages == 5
    assert doc.notes == ["2 table(s) continued on the next page joined"]
    stub = next(c for c in doc.cells if c.text == "三、本年度办理结果")
    assert (stub.line, stub.col, stub.structured) == (3, 0, True)
    continued = next(c for c in doc.cells if c.text == "3.补正后申请内容仍不明确")
    assert (continued.line, continued.col) == (4, 2)  # the same grid column as on page 3
    row = [c.text for c in doc.cells if c.row == continued.row]
    assert row == ["", "", "3.补正后申请内容仍不明确", "0", "0", "0", "0", "0", "0", "0"]
