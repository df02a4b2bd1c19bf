"""Never lose a user's file: --out is checked before anything is read, and only the builder's own
version folders are ever removed. Names that clash across inputs stay distinct; datasets can move."""

import os
import shutil

import polars as pl
import pytest
from conftest import pipe_report_2021
from typer.testing import CliRunner

from pipeline import cli
from pipeline.warehouse import query, store
from pipeline.cli import app


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def reports(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "r.txt").write_text(pipe_report_2021(), encoding="utf-8")
    return folder


@pytest.fixture
def nothing_read(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("inputs were read although --out was refused")

    monkeypatch.setattr(cli, "discover_inputs", fail)


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_out_at_a_folder_of_notes_is_refused_and_left_as_it_is(tmp_path, reports, nothing_read):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.md").write_text("my notes")
    before = snapshot(notes)
    result = run("build", reports, "--out", notes)
    assert result.exit_code == 2
    assert "holds other files than a dataset" in result.output
    assert snapshot(notes) == before and not notes.is_symlink()
    assert not (tmp_path / ".notes.builds").exists() and not (tmp_path / ".notes.cache").exists()


def test_out_at_the_input_is_refused_and_the_reports_stay(tmp_path, reports, nothing_read):
    before = snapshot(reports)
    result = run("build", reports, "--out", reports)
    assert result.exit_code == 2 and "is the input" in result.output
    assert snapshot(reports) == before and not reports.is_symlink()


def test_out_inside_an_input_is_refused(tmp_path, reports, nothing_read):
    result = run("build", reports, "--out", reports / "dataset")
    assert result.exit_code == 2 and "inside the input" in result.output
    assert sorted(p.name for p in reports.iterdir()) == ["r.txt"]


def test_an_input_inside_out_is_refused(tmp_path, nothing_read):
    out = tmp_path / "work"
    (out / "raw").mkdir(parents=True)
    (out / "raw" / "r.txt").write_text(pipe_report_2021(), encoding="utf-8")
    result = run("build", out / "raw", "--out", out)
    assert result.exit_code == 2 and "is inside --out" in result.output
    assert (out / "raw" / "r.txt").exists()


def test_out_at_a_file_or_at_a_foreign_link_is_refused(tmp_path, reports, nothing_read):
    a_file = tmp_path / "dataset"
    a_file.write_text("not a folder")
    assert run("build", reports, "--out", a_file).exit_code == 2
    assert a_file.read_text() == "not a folder"
    link, elsewhere = tmp_path / "linked", tmp_path / "elsewhere"
    elsewhere.mkdir()
    link.symlink_to(elsewhere)
    result = run("build", reports, "--out", link)
    assert result.exit_code == 2 and "symbolic link" in result.output
    assert os.readlink(link) == str(elsewhere)


def test_an_empty_folder_or_an_old_plain_dataset_folder_becomes_the_dataset(tmp_path, reports):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run("build", reports, "--out", empty).exit_code == 0
    assert empty.is_symlink() and (empty / "facts.parquet").exists()
    plain = tmp_path / "plain"
    shutil.copytree(empty.resolve(), plain)  # what an older builder wrote: a folder of dataset files only
    assert run("build", reports, "--out", plain).exit_code == 0
    assert plain.is_symlink()
    assert [p.name for p in (tmp_path / ".plain.builds").iterdir()] == [os.path.basename(os.readlink(plain))]


def test_a_rebuild_replaces_the_previous_version_and_leaves_foreign_entries(tmp_path, reports):
    out = tmp_path / "dataset"
    assert run("build", reports, "--out", out, "--no-cache").exit_code == 0
    first = os.readlink(out)
    foreign = tmp_path / ".dataset.builds" / "keep-me.txt"
    foreign.write_text("not the builder's")
    (reports / "s.txt").write_text(pipe_report_2021(year=2023), encoding="utf-8")
    assert run("build", reports, "--out", out, "--no-cache").exit_code == 0
    assert os.readlink(out) != first and not (tmp_path / first).exists()
    assert foreign.read_text() == "not the builder's"
    assert sorted(pl.read_parquet(out / "reports.parquet")["source_file"]) == ["r.txt", "s.txt"]


def test_files_with_the_same_name_in_two_inputs_keep_distinct_names(tmp_path):
    for name, year in (("a", 2021), ("b", 2022)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "r.txt").write_text(pipe_report_2021(year=year), encoding="utf-8")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,agency,year\nr.txt,,2030\n", encoding="utf-8")
    result = run("build", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    reports = pl.read_parquet(tmp_path / "out" / "reports.parquet").sort("source_file")
    assert reports.select("source_file", "year", "status").rows() == [
        ("a/r.txt", 2021, "parsed"), ("b/r.txt", 2022, "parsed")]
    facts = pl.read_parquet(tmp_path / "out" / "facts.parquet")
    assert sorted(facts["source_file"].unique()) == ["a/r.txt", "b/r.txt"]
    # a manifest names files as they are inside their input
    result = run("build", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "out2", "--manifest", manifest)
    assert result.exit_code == 0, result.output
    assert set(pl.read_parquet(tmp_path / "out2" / "reports.parquet")["year"]) == {2030}


def test_a_copied_dataset_answers_queries_with_the_same_rows(tmp_path, reports):
    out = tmp_path / "dataset"
    assert run("build", reports, "--out", out).exit_code == 0
    sql = "SELECT report_id, row, col, value FROM facts ORDER BY ALL"
    before = query.run(out, sql).rows
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(out.resolve(), copy)
    shutil.rmtree(tmp_path / ".dataset.builds")  # the original is gone
    out.unlink()
    assert query.run(copy, sql).rows == before and before
    result = run("sql", "SELECT count(*) AS n FROM cross_year", "--db", copy, "--csv")
    assert result.exit_code == 0, result.output


def test_store_refuses_to_replace_a_foreign_folder_even_when_called_directly(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.md").write_text("x")
    from pipeline.knowledge import schemas
    with pytest.raises(store.OutputRefused):
        store.write_dataset(notes, schemas.facts_frame([]), schemas.reports_frame([]), schemas.violations_frame([]))
    assert (notes / "todo.md").read_text() == "x"
