"""`ogi sql`, `ogi export` and `ogi dictionary` on the sample dataset."""

import csv
import json

import pytest
from typer.testing import CliRunner

from pipeline.warehouse import dictionary, query
from pipeline.cli import app
from conftest import REPO


def ogi(*args):
    return CliRunner().invoke(app, list(map(str, args)))


def test_sql_prints_csv_for_scripts(sample_dataset):
    result = ogi("sql", "SELECT year, agency, received, denied FROM report_summary ORDER BY year, agency",
                 "--db", sample_dataset, "--csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "year,agency,received,denied"
    assert lines[1] == "2019,衡阳市人民政府办公室,49,1"  # counts are integers
    assert "2021,双柏县政务服务管理局,," in lines  # unreadable totals are empty fields, not 0
    assert len(lines) == 6


def test_sql_prints_json_and_a_table(sample_dataset):
    result = ogi("sql", "SELECT agency, reviews, lawsuits FROM report_summary WHERE year = 2019", "--json",
                 "--dataset", sample_dataset / "ogi.duckdb")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"agency": "衡阳市人民政府办公室", "reviews": 3, "lawsuits": 1}]
    table = ogi("sql", "SELECT rule, count(*) AS n FROM violations WHERE outcome = 'failed' AND rule LIKE 'R%' "
                "GROUP BY rule ORDER BY rule", "--db", sample_dataset)
    assert table.exit_code == 0
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in table.stdout.splitlines() if "│" in line]
    assert cells == [["R1_balance", "5"], ["R2_row_total", "3"], ["R3_result_total", "4"]]
    assert "rule" in table.stdout.splitlines()[1] and "3 rows" in table.output


def test_sql_explains_errors_with_exit_codes(sample_dataset, tmp_path):
    bad = ogi("sql", "SELECT nope FROM reports", "--db", sample_dataset)
    assert bad.exit_code == 1 and "nope" in bad.output
    missing = ogi("sql", "SELECT 1", "--db", tmp_path)
    assert missing.exit_code == 2 and "make dataset" in missing.output
    readonly = ogi("sql", "DROP VIEW facts", "--db", sample_dataset)
    assert readonly.exit_code == 1 and "read-only" in readonly.output.lower()


def test_display_values_read_like_the_report():
    assert [query.display_value(v) for v in (49.0, 0.5, 2792220.8, None, True, "平潭")] == [
        "49", "0.5", "2792220.8", "NULL", "true", "平潭"]


def test_export_writes_excel_friendly_wide_tables(sample_dataset, tmp_path):
    result = ogi("export", "--db", sample_dataset, "--out", tmp_path / "x")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "x").iterdir())
    assert names == ["appeals.csv", "labels.csv", "proactive.csv", "report_summary.csv", "requests.csv"]
    raw = (tmp_path / "x" / "requests.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the file as UTF-8
    with open(tmp_path / "x" / "requests.csv", encoding="utf-8-sig", newline="") as f:
        requests = list(csv.DictReader(f))
    # 2019 template: 23 rows (3 reports); 2021: 25 rows, + the derived other_processing where its three
    # parts were read (恩平 yes, 双柏 no: its parts are ambiguous, so nothing is derived)
    assert len(requests) == 23 * 3 + 26 + 25
    granted = next(r for r in requests if r["agency"] == "衡阳市人民政府办公室" and r["row"] == "granted")
    assert (granted["natural_person"], granted["commercial"], granted["total"]) == ("38", "36", "36")  # counts are integers
    assert granted["row_label_zh"] == "三(一)予以公开" and granted["not_reported"] == ""
    unclear = next(r for r in requests if r["agency"] == "双柏县政务服务管理局" and r["row"] == "granted")
    assert unclear["total"] == "" and "total: ambiguous" in unclear["not_reported"]
    derived = next(r for r in requests if r["agency"] == "恩平市君堂镇人民政府" and r["row"] == "other_processing")
    # a derived value is a value: not_reported names only cells not read (blank, ambiguous, not_printed)
    assert derived["total"] == "0" and derived["not_reported"] == ""


def test_the_committed_data_dictionary_is_up_to_date():
    committed = (REPO / "docs" / "data_dictionary.md").read_text(encoding="utf-8")
    assert committed == dictionary.render(), "docs/data_dictionary.md is out of date: run `make dictionary`"


def test_the_dictionary_describes_every_column_of_every_view():
    text = dictionary.render()
    assert "undocumented" not in text
    for heading in ("### `facts`", "### `requests`", "### `report_summary`", "### `cross_year`", "### `labels`"):
        assert heading in text
    assert "| `applicant_type` | VARCHAR | not null |" in text
    assert "| `denied` | 不予公开（8项理由之和） |" in text


def test_dictionary_check_fails_on_a_stale_file(tmp_path):
    stale = tmp_path / "dd.md"
    stale.write_text("old\n", encoding="utf-8")
    assert ogi("dictionary", "--out", stale, "--check").exit_code == 1
    assert ogi("dictionary", "--out", stale).exit_code == 0
    assert ogi("dictionary", "--out", stale, "--check").exit_code == 0


@pytest.mark.parametrize("module", ["jupytext"])
def test_notebooks_are_paired_with_their_scripts(module):
    pytest.importorskip(module, reason="the notebooks extra is not installed (make notebooks installs it)")
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_notebooks", REPO / "notebooks" / "run.py")
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    scripts = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.py"))
    assert len(scripts) == 3
    assert [runner.check_pair(s) for s in scripts] == [None, None, None]
