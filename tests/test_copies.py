"""Copies of one report (the same agency and year in several files) merge into one reading per cell:
read alike → read, with the files named; read differently → ambiguous and a finding (rule M1)."""

import polars as pl
from conftest import pipe_report_2021, requests_values
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.warehouse import query


def build(inputs, out):
    result = CliRunner().invoke(app, ["build", str(inputs), "--out", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output


def cell(out, row, col, section="requests"):
    rows = query.run(out, f"SELECT status, value, source_file, evidence FROM report_cells WHERE section = "
                          f"'{section}' AND row = '{row}' AND col = '{col}'").rows
    assert len(rows) == 1
    return rows[0]


def test_copies_that_agree_give_one_read_cell_naming_both_files(tmp_path):
    (tmp_path / "in").mkdir()
    text = pipe_report_2021()
    (tmp_path / "in" / "a.txt").write_text(text, encoding="utf-8")
    (tmp_path / "in" / "b.html").write_text("<html><body>" + "".join(f"<p>{line}</p>" for line in text.splitlines())
                                            + "</body></html>", encoding="utf-8")
    build(tmp_path / "in", tmp_path / "out")
    status, value, source, evidence = cell(tmp_path / "out", "granted", "natural_person")
    assert (status, value, source) == ("reported", requests_values()["granted"][0], "b.html")  # the web page first
    assert evidence == "read alike in 2 copies: b.html, a.txt"
    summary = query.run(tmp_path / "out", "SELECT copies, n_copy_conflicts FROM report_summary").rows
    assert summary == [(2, 0)]


def test_a_cell_one_copy_cannot_read_is_taken_from_the_copy_that_reads_it(tmp_path):
    (tmp_path / "in").mkdir()
    text = pipe_report_2021()
    (tmp_path / "in" / "a.txt").write_text(text, encoding="utf-8")
    # the second copy prints 行政处罚 with two numbers: its cell is ambiguous there
    (tmp_path / "in" / "b.txt").write_text(text.replace("行政处罚 | 7 |", "行政处罚 | 7 | 8"), encoding="utf-8")
    build(tmp_path / "in", tmp_path / "out")
    status, value, source, _ = cell(tmp_path / "out", "administrative_penalty", "decisions", "proactive")
    assert (status, value, source) == ("reported", 7.0, "a.txt")


def test_copies_that_disagree_give_an_ambiguous_cell_and_a_finding(tmp_path):
    (tmp_path / "in").mkdir()
    values = requests_values()
    (tmp_path / "in" / "a.txt").write_text(pipe_report_2021(values), encoding="utf-8")
    changed = {k: list(v) for k, v in values.items()}
    changed["carried_forward"][0] += 1  # one number differs (the sums break too, as in a real misprint)
    (tmp_path / "in" / "b.txt").write_text(pipe_report_2021(changed), encoding="utf-8")
    build(tmp_path / "in", tmp_path / "out")
    status, value, _, evidence = cell(tmp_path / "out", "carried_forward", "natural_person")
    assert (status, value) == ("ambiguous", None)
    first, second = values["carried_forward"][0], changed["carried_forward"][0]
    assert evidence == f"copies disagree: a.txt = {float(first)}; b.txt = {float(second)}"
    found = pl.read_parquet(tmp_path / "out" / "violations.parquet").filter(pl.col("rule") == "M1_copies_agree")
    assert found.select("row", "col", "outcome").rows() == [("carried_forward", "natural_person", "failed")]
    assert query.run(tmp_path / "out", "SELECT n_copy_conflicts FROM report_summary").rows == [(1,)]


def test_corpus_report_cells_read_every_cell_where_the_web_page_is_read_in_full(shared, tmp_path):
    build(shared / "corpus" / "raw", tmp_path / "out")
    rows = query.run(tmp_path / "out", """
        SELECT c.report_id, count(*) FILTER (WHERE c.status = 'ambiguous') AS ambiguous
        FROM report_cells c
        WHERE c.report_id IN (SELECT report_id FROM reports WHERE format = 'html' AND n_ambiguous = 0)
        GROUP BY c.report_id""").rows
    assert len(rows) == 5 and all(ambiguous == 0 for _, ambiguous in rows)
    # the flattened text copies leave 50 Table 2 cells ambiguous; merged with their pages none is left
    assert query.run(tmp_path / "out", "SELECT count(*) FROM violations WHERE rule = 'M1_copies_agree'").rows == [(0,)]


def test_copies_merged_a_part_at_a_time_give_the_same_cells_and_findings(tmp_path, monkeypatch):
    from pipeline.checks import copies_merge

    (tmp_path / "in").mkdir()
    values = requests_values()
    changed = {k: list(v) for k, v in values.items()}
    changed["carried_forward"][0] += 1
    for n, agency in enumerate(["甲县某某局", "乙县某某局", "丙县某某局"]):
        (tmp_path / "in" / f"{n}a.txt").write_text(pipe_report_2021(values, agency), encoding="utf-8")
        copy = pipe_report_2021(changed if n == 1 else values, agency)  # the same text, its file's own bytes
        (tmp_path / "in" / f"{n}b.txt").write_text(copy + "\n\n", encoding="utf-8")
    build(tmp_path / "in", tmp_path / "whole")
    monkeypatch.setattr(copies_merge, "MERGE_PART_REPORTS", 1)  # one report's two copies per part
    build(tmp_path / "in", tmp_path / "parts")

    def rows(out, name):
        frame = pl.read_parquet(out / f"{name}.parquet")
        return sorted(frame.rows(), key=repr)

    merged = rows(tmp_path / "whole", "merged_copies")
    assert len({r[0] for r in merged}) == 3 and merged == rows(tmp_path / "parts", "merged_copies")
    findings = [r for r in rows(tmp_path / "whole", "violations") if r[1] == "M1_copies_agree"]
    assert len(findings) == 1 and findings == [r for r in rows(tmp_path / "parts", "violations")
                                               if r[1] == "M1_copies_agree"]
