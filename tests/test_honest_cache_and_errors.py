"""The cache keys what decides a parse and nothing else, never keeps a result cut short, and no
problem on the way (a folder that cannot be listed, bytes that do not decode, HTML that does not
parse) is dropped without a word. X1 is computed once: the cross_year view reads the rule's results."""

import json
import os

import polars as pl
from conftest import pipe_report_2021
from typer.testing import CliRunner

from pipeline import cache
from pipeline.ingest import discover
from pipeline.warehouse import query
from pipeline.cli import app
from pipeline.ingest.decode import decode
from pipeline.ingest.discover import SourceFile
from pipeline.process import Limits, process_file_cached
from pipeline.ingest.readers.html import read_html


def build(*args):
    result = CliRunner().invoke(app, ["build", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_cache_key_covers_the_parse_path_and_not_the_charts_or_the_warehouse():
    names = {p.relative_to(cache._package_root()).as_posix() for p in cache.parse_path_modules()}
    assert {"process.py", "extract/tables.py", "extract/align.py", "ingest/readers/pdf.py", "ingest/readers/html.py",
            "checks/rules.py", "knowledge/domain.py"} <= names
    assert not {n for n in names if n.startswith(("warehouse/", "tools/"))} and "cli.py" not in names


def test_the_cache_key_changes_with_the_version_of_an_output_library(monkeypatch):
    before = cache.builder_version()
    versions = cache.library_versions()
    assert set(versions) == set(cache.OUTPUT_LIBRARIES) | {"tesseract"} and versions["pdfminer.six"] != "absent"
    monkeypatch.setattr(cache, "library_versions", lambda: {**versions, "pdfminer.six": "0.0"})
    cache.builder_version.cache_clear()
    try:
        assert cache.builder_version() != before
    finally:
        monkeypatch.undo()
        cache.builder_version.cache_clear()
    assert cache.builder_version() == before


def test_a_report_stopped_by_the_time_limit_is_never_cached(tmp_path):
    path = tmp_path / "slow.txt"
    path.write_text(pipe_report_2021() * 400, encoding="utf-8")
    store = cache.Cache(tmp_path / "cache")
    result = process_file_cached(SourceFile(path, "slow.txt"), Limits(seconds=0.01), store)
    assert result.report["status"] == "rejected" and not result.cacheable
    assert store.names("report") == []
    fine = tmp_path / "fine.txt"
    fine.write_text(pipe_report_2021(), encoding="utf-8")
    assert process_file_cached(SourceFile(fine, "fine.txt"), Limits(), store).cacheable
    assert len(store.names("report")) == 1


def test_a_report_read_from_the_cache_has_the_same_facts_as_when_it_was_read(tmp_path, monkeypatch):
    import pipeline.process

    path = tmp_path / "report.txt"
    path.write_text(pipe_report_2021(), encoding="utf-8")
    read = process_file_cached(SourceFile(str(path), "report.txt"), Limits(), cache.Cache(tmp_path / "cache"))
    assert len(read.facts) > 100

    def not_again(*args):
        raise AssertionError("read again instead of taken from the cache")

    monkeypatch.setattr(pipeline.process, "process_data", not_again)
    store = cache.Cache(tmp_path / "cache")
    again = process_file_cached(SourceFile(str(path), "copy.txt"), Limits(), store)
    assert again.facts == read.facts and all(type(f) is type(read.facts[0]) for f in again.facts)
    assert again.report == {**read.report, "source_file": "copy.txt"}
    assert len(store.get("report", store.names("report")[0])[1]) == len(read.facts[0])  # kept by column


def test_entries_put_in_a_deferred_block_are_written_together_when_it_ends(tmp_path):
    store, other = cache.Cache(tmp_path / "c"), cache.Cache(tmp_path / "c")
    with store.deferred():
        store.put("report", "a", [1, 2])
        store.put("report", "b", {"x": None})
        assert other.get("report", "a") is None and other.names("report") == []
    assert other.get("report", "a") == [1, 2] and other.get("report", "b") == {"x": None}
    assert other.names("report") == ["a", "b"] and other.names("stat") == []


def test_a_damaged_entries_file_is_started_again_and_costs_only_a_reading(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / cache.ENTRIES_FILE).write_bytes(b"this is not a database " * 100)
    store = cache.Cache(folder)
    assert store.get("report", "a") is None
    store.put("report", "a", "value")
    assert cache.Cache(folder).get("report", "a") == "value"


def test_an_entries_file_that_cannot_be_used_now_is_left_as_it_is_and_the_build_goes_without(tmp_path, monkeypatch):
    import sqlite3

    folder = tmp_path / "c"
    cache.Cache(folder).put("report", "a", "kept")
    cache.forget_connections()
    connect = sqlite3.connect
    holder = connect(folder / cache.ENTRIES_FILE, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")  # another build holds it (or it is read-only): not damaged
    monkeypatch.setattr(cache, "BUSY_SECONDS", 0.1)
    opened = []
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: opened.append(a) or connect(*a, **k))
    try:
        store = cache.Cache(folder)
        store.put("report", "b", "lost")
        assert store.get("report", "a") is None and store.get("report", "a") is None
        assert len(opened) == 1  # tried once: the process goes without it, not waiting at every report
    finally:
        monkeypatch.undo()
        holder.execute("ROLLBACK")
        holder.close()
    cache.forget_connections()
    assert cache.Cache(folder).get("report", "a") == "kept" and cache.Cache(folder).get("report", "b") is None


def test_a_batch_with_a_result_cut_short_is_read_again_on_the_next_build(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "slow.txt").write_text(pipe_report_2021() * 400, encoding="utf-8")
    out = tmp_path / "out"
    build(inputs, "--out", out, "--timeout", "0.01", "--jobs", "1")
    record = json.loads((out / "build.json").read_text(encoding="utf-8"))
    assert record["batches"] == [None]  # not recorded as a reusable batch
    version = os.readlink(out)
    build(inputs, "--out", out, "--timeout", "0.01", "--jobs", "1")
    assert os.readlink(out) != version  # read again, not taken as unchanged


def test_a_short_gb18030_file_decodes_as_gb18030():
    title = "某县财政局2022年政府信息公开工作年度报告"
    for encoding in ("gb18030", "gbk"):
        decoded = decode(title.encode(encoding), "title.txt")
        assert (decoded.text, decoded.encoding, decoded.note) == (title, "gb18030", None)


def test_bytes_that_fit_no_strict_encoding_are_decoded_with_a_note():
    text = pipe_report_2021()
    damaged = text[:100].encode("gb18030") + b"\xff" + text[100:].encode("gb18030")  # no place in GB18030
    decoded = decode(damaged, "r.txt")
    assert decoded.encoding == "gb18030" and "1 byte sequence(s)" in decoded.note
    assert decoded.text.replace("\ufffd", "") == text


def test_an_html_parser_failure_is_a_note_and_the_text_is_still_read():
    doc = read_html("<!-- 一、本年新收政府信息公开申请数量 -->")
    assert doc.notes and "HTML parser failed" in doc.notes[0]


def test_a_folder_that_cannot_be_listed_is_a_rejected_row_and_hidden_entries_are_named(tmp_path, monkeypatch):
    inputs = tmp_path / "in"
    (inputs / "locked").mkdir(parents=True)
    (inputs / "locked" / "r.txt").write_text(pipe_report_2021(), encoding="utf-8")
    (inputs / "ok.txt").write_text(pipe_report_2021(year=2023), encoding="utf-8")
    (inputs / ".DS_Store").write_bytes(b"\0\0")
    real_scandir = os.scandir

    def scandir(path):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(discover.os, "scandir", scandir)
    output = build(inputs, "--out", tmp_path / "out", "--no-cache")
    assert "1 hidden entry" in output and ".DS_Store" in output
    reports = pl.read_parquet(tmp_path / "out" / "reports.parquet").sort("source_file")
    rows = {r["source_file"]: r for r in reports.iter_rows(named=True)}
    assert rows["ok.txt"]["status"] == "parsed"
    assert rows["locked/"]["status"] == "rejected" and "Permission denied" in rows["locked/"]["reason"]
    record = json.loads((tmp_path / "out" / "build.json").read_text(encoding="utf-8"))
    assert record["hidden_entries_left_out"] == [".DS_Store"]


def test_the_cross_year_view_and_the_violations_come_from_one_rule(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a2021.txt").write_text(pipe_report_2021(year=2021), encoding="utf-8")
    (inputs / "a2022.txt").write_text(pipe_report_2021(year=2022), encoding="utf-8")
    out = tmp_path / "out"
    build(inputs, "--out", out)
    view = query.run(out, "SELECT applicant_type, carried_forward, next_carried_over, outcome, source_file, "
                          "next_source_file FROM cross_year ORDER BY applicant_type").rows
    assert len(view) == 7 and {r[4:] for r in view} == {("a2021.txt", "a2022.txt")}
    # the sample report carries 1 forward (natural persons, total) and 0 over: X1 fails there
    failing = {r[0] for r in view if r[3] == "inconsistent"}
    assert failing == {"natural_person", "total"}
    violations = pl.read_parquet(out / "violations.parquet").filter(pl.col("rule") == "X1_carry_over")
    assert set(violations["col"]) == failing
    checks = pl.read_parquet(out / "cross_year_checks.parquet").filter(pl.col("rule") == "X1_carry_over")
    assert checks.height == 7 and set(checks.filter(pl.col("outcome") == "failed")["key"]) == failing


def test_the_import_scan_finds_multiline_lazy_and_relative_imports(tmp_path):
    module = tmp_path / "mod.py"
    module.write_text('"""Docs.\n\nfrom pipeline.audit import site\n"""\n'
                      "from pipeline.extract import (\n    align,\n    rows,  # why\n)\n"
                      "import pipeline.knowledge.domain as domain\n"
                      "def lazy():\n    from .readers import pdf\n    return pdf\n", encoding="utf-8")
    found = cache._imported_modules(module, "pipeline.ingest.mod")
    assert {"pipeline.extract.align", "pipeline.extract.rows", "pipeline.knowledge.domain",
            "pipeline.ingest.readers.pdf", "pipeline.ingest.readers", "pipeline.ingest", "pipeline"} <= found
    # a docstring line that is valid import syntax is followed too: one module more in the key, never one less
    assert "pipeline.audit.site" in found


def test_the_import_scan_reads_the_whole_module_when_a_line_only_looks_like_an_import(tmp_path):
    module = tmp_path / "mod.py"
    module.write_text('"""Docs.\n\nimport the numbers, then check them\n"""\n'
                      "from pipeline.extract import (\n    align,  # (see rows)\n    rows,\n)\n", encoding="utf-8")
    found = cache._imported_modules(module, "pipeline.ingest.mod")
    # the comment's ')' cuts the pattern's list short: the module is parsed whole, nothing is missed
    assert {"pipeline.extract.align", "pipeline.extract.rows"} <= found
    assert not {m for m in found if "numbers" in m}
