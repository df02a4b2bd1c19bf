"""What a researcher meets first: honest statuses, integer counts, one panel, where and what each agency
is, and a command line that explains itself."""

import json

import duckdb
import polars as pl
import pytest
from conftest import pipe_report_2021
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.warehouse import query


def ogi(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def two_years(tmp_path_factory):
    folder = tmp_path_factory.mktemp("two_years")
    (folder / "in").mkdir()
    (folder / "in" / "a2021.txt").write_text(pipe_report_2021(agency="盐池县财政局", year=2021), encoding="utf-8")
    (folder / "in" / "a2022.txt").write_text(pipe_report_2021(agency="盐池县财政局", year=2022), encoding="utf-8")
    result = ogi("build", folder / "in", "--out", folder / "out")
    assert result.exit_code == 0, result.output
    return folder / "out"


def test_build_names_every_file_not_parsed_with_its_reason_first_twenty_then_a_count(tmp_path):
    (tmp_path / "in").mkdir()
    for i in range(23):
        (tmp_path / "in" / f"notice{i:02d}.txt").write_text(f"关于做好工作的通知{i}\n请认真落实。\n", encoding="utf-8")
    result = ogi("build", tmp_path / "in", "--out", tmp_path / "out", "--strict")
    assert result.exit_code == 1
    assert "notice00.txt: not a report" in result.output and "notice19.txt" in result.output
    assert "notice20.txt" not in result.output and "and 3 more" in result.output
    assert "--strict: 23 file(s) not parsed" in result.output


def test_manifest_rows_without_a_file_warn_and_a_contradicting_year_is_noted(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "r.txt").write_text(pipe_report_2021(year=2022), encoding="utf-8")
    manifest = tmp_path / "m.csv"
    manifest.write_text("file,agency,year\nr.txt,,2023\ngone.txt,,2021\n", encoding="utf-8")
    result = ogi("build", tmp_path / "in", "--out", tmp_path / "out", "--manifest", manifest)
    assert result.exit_code == 0 and "1 manifest row(s) name no input file: gone.txt" in result.output
    report = pl.read_parquet(tmp_path / "out" / "reports.parquet").row(0, named=True)
    assert report["year"] == 2023 and "the manifest says year 2023, the text says 2022" in report["notes"]
    record = json.loads((tmp_path / "out" / "build.json").read_text(encoding="utf-8"))
    assert record["manifest_rows_without_file"] == ["gone.txt"]


def test_version_and_check_with_db(two_years):
    assert ogi("--version").output.startswith("ogi ")
    result = ogi("check", "--db", two_years)
    assert result.exit_code == 0 and "Rules" in result.output


def test_several_statements_print_every_result_and_csv_refuses_them(two_years):
    result = ogi("sql", "SELECT 1 AS first_answer; SELECT 2 AS second_answer", "--db", two_years)
    assert result.exit_code == 0
    assert "first_answer" in result.output and "second_answer" in result.output
    refused = ogi("sql", "SELECT 1; SELECT 2", "--db", two_years, "--csv")
    assert refused.exit_code == 2 and "2 statements" in refused.output


def test_a_result_too_wide_for_the_terminal_is_printed_record_by_record(two_years):
    result = ogi("sql", "SELECT * FROM report_summary", "--db", two_years)
    assert result.exit_code == 0
    assert "-[ row 1 ]-" in result.output and "received" in result.output
    narrow = ogi("sql", "SELECT year FROM report_summary ORDER BY year", "--db", two_years)
    assert "-[ row" not in narrow.output


def test_counts_are_integers_and_division_by_zero_is_null(two_years):
    con = query.connect(two_years)
    kinds = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'requests'")
                 .fetchall())
    assert kinds["value"] == "BIGINT"
    assert dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = "
                            "'report_summary'").fetchall())["received"] == "BIGINT"
    proactive = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = "
                                 "'proactive'").fetchall())
    assert proactive["value"] == "BIGINT" and proactive["amount"].startswith("DECIMAL")
    assert con.execute("SELECT 100 * received / 0 FROM report_summary LIMIT 1").fetchone() == (None,)
    result = ogi("sql", "SELECT received FROM report_summary ORDER BY year", "--db", two_years, "--csv")
    assert result.output.splitlines()[1].isdigit()  # 23, not 23.0


def test_cross_year_findings_name_both_files(two_years):
    view = query.run(two_years, "SELECT source_file, next_source_file FROM cross_year LIMIT 1").rows
    assert view == [("a2021.txt", "a2022.txt")]
    cells = pl.read_parquet(two_years / "violations.parquet").filter(pl.col("rule") == "X1_carry_over")["cells"]
    assert cells.len() and all("in a2021.txt" in c and "in a2022.txt" in c for c in cells)


def test_the_panel_is_one_typed_row_per_agency_year(two_years, tmp_path):
    result = ogi("export", "--db", two_years, "--out", tmp_path / "x", "--panel")
    assert result.exit_code == 0, result.output
    panel = pl.read_parquet(tmp_path / "x" / "panel.parquet")
    assert panel.height == 2 and panel["year"].to_list() == [2021, 2022]
    assert panel.schema["requests__granted__total"] == pl.Int64
    assert panel.schema["proactive__administrative_fees__fee_amount"] == pl.Float64
    assert panel["region_code"].to_list() == ["640323", "640323"] and panel["kind"].to_list() == ["department"] * 2
    from_duckdb = duckdb.sql(f"SELECT count(*), sum(requests__new_received__total) FROM "
                             f"read_parquet('{tmp_path / 'x' / 'panel.parquet'}')").fetchall()[0]
    assert from_duckdb[0] == 2 and from_duckdb[1] == 2 * panel["requests__new_received__total"][0]
    assert (tmp_path / "x" / "panel.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_rows_a_report_does_not_print_are_not_printed_not_ambiguous():
    from conftest import requests_values

    from pipeline.ingest.discover import SourceFile
    from pipeline.process import process_bytes

    text = pipe_report_2021(requests_values()).replace(
        "（六）其他处理 | 1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "（六）其他处理")
    text = "\n".join(line for line in text.splitlines() if not line.startswith(("2.申请人逾期", "3.其他")))
    result = process_bytes(SourceFile(None, "r.txt"), text.encode())
    statuses = {f.status for f in result.facts if f.row in ("other_no_correction", "other_unpaid_fee", "other_other")}
    assert statuses == {"not_printed"} and result.report["n_ambiguous"] == 0


def test_corpus_agencies_are_placed_and_hongze_reviews_flagged(shared, tmp_path):
    result = ogi("build", shared / "corpus" / "raw", shared / "corpus" / "pdf", shared / "seeds", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    reports = pl.read_parquet(tmp_path / "o" / "reports.parquet").filter(pl.col("status") == "parsed")
    placed = reports.filter(pl.col("region_code").is_not_null())
    assert placed.height / reports.height >= 0.95
    codes = dict(reports.select("agency", "region_code").unique().rows())
    assert codes["淮安市洪泽区人民政府"] == "320813" and codes["衡阳市人民政府办公室"] == "430400"
    assert codes["双柏县政务服务管理局"] == "532322" and codes["盐池县大水坑镇"] == "640323"
    assert codes["高安市独城镇"] == "360983" and codes["恩平市君堂镇人民政府"] == "440785"
    assert codes["平潭综合实验区"] == "350128"
    hongze_pdf = reports.filter(pl.col("format") == "pdf")
    assert hongze_pdf["n_ambiguous"].to_list() == [0, 0]  # the (六) sub-rows are not_printed
    flagged = query.run(tmp_path / "o", "SELECT year FROM report_summary WHERE agency = '淮安市洪泽区人民政府' "
                                        "AND reviews_fails_parts").rows
    assert flagged == [(2023,)]
