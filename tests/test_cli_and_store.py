import time

import polars as pl
import pytest
from conftest import pipe_report_2021, requests_values
from typer.testing import CliRunner

from pipeline.warehouse import query
from pipeline.cli import app


def build(tmp_path, files: dict[str, bytes], *extra):
    inputs = tmp_path / "in"
    inputs.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (inputs / name).parent.mkdir(parents=True, exist_ok=True)
        (inputs / name).write_bytes(data)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["build", str(inputs), "--out", str(out), *extra])
    return result, out


def test_build_writes_the_contract_files_and_a_summary(tmp_path):
    result, out = build(tmp_path, {"a/report.txt": pipe_report_2021().encode()})
    assert result.exit_code == 0, result.output
    assert "1 files: 1 parsed, 0 partial, 0 rejected; 200 cells (0 ambiguous); 0 rule violations" in result.output
    for name in ("facts.parquet", "reports.parquet", "violations.parquet", "ogi.duckdb"):
        assert (out / name).exists()
    reports = pl.read_parquet(out / "reports.parquet")
    assert reports["source_file"].to_list() == ["a/report.txt"]
    assert reports["agency"].to_list() == ["测试县某某局"] and reports["year"].to_list() == [2022]


def test_duckdb_views_answer_sql(tmp_path):
    _, out = build(tmp_path, {"r.txt": pipe_report_2021().encode()})
    con = query.connect(out)
    total = con.execute("SELECT value FROM requests WHERE row = 'new_received' AND applicant_type = 'total'").fetchone()
    assert total[0] == requests_values()["new_received"][6] == 17
    assert con.execute("SELECT count(*) FROM labels WHERE label_zh = '自然人'").fetchone()[0] >= 1
    comment = con.execute("SELECT comment FROM duckdb_views() WHERE view_name = 'facts'").fetchone()[0]
    assert "provenance" in comment


def test_a_rebuild_copies_the_last_builds_duckdb_views_unless_what_they_are_made_of_changed(tmp_path, monkeypatch):
    from pipeline.warehouse import views

    installs = []
    install = views.install
    monkeypatch.setattr(views, "install", lambda con, folder: installs.append(folder) or install(con, folder))
    report = pipe_report_2021()
    result, out = build(tmp_path, {"a.txt": report.encode()})
    assert result.exit_code == 0 and len(installs) == 1
    result, out = build(tmp_path, {"b.txt": report.replace("测试县", "另一县").encode()})
    assert result.exit_code == 0 and len(installs) == 1  # copied from the cache, not created
    con = query.connect(out)
    # the copy's views read this build's files, and keep their comments
    assert con.execute("SELECT count(*) FROM reports").fetchone()[0] == 2
    assert con.execute("SELECT count(DISTINCT agency) FROM requests").fetchone()[0] == 2
    assert "provenance" in con.execute("SELECT comment FROM duckdb_views() WHERE view_name = 'facts'").fetchone()[0]
    con.close()
    statements = views.statements
    monkeypatch.setattr(views, "statements", lambda: [*statements(), "CREATE OR REPLACE VIEW extra AS SELECT 1 AS x"])
    result, out = build(tmp_path, {"c.txt": report.replace("测试县", "第三县").encode()})
    assert result.exit_code == 0 and len(installs) == 2  # a new view: the database is made again
    con = query.connect(out)
    assert con.execute("SELECT x FROM extra").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM reports").fetchone()[0] == 3
    con.close()
    assert len(list((tmp_path / ".out.cache" / "warehouse").glob("*.duckdb"))) == 1  # the last one only


def test_bad_inputs_are_listed_with_reasons_and_never_stop_the_build(tmp_path):
    files = {
        "good.txt": pipe_report_2021().encode(),
        "empty.txt": b"",
        "binary.bin": bytes(range(256)) * 40,
        "scan.pdf": b"%PDF-1.4\n%binary",
        "notice.txt": "关于做好政务公开工作的通知\n各单位：请认真落实。".encode(),
        "old.txt": "某县2016年政府信息公开工作年度报告\n一、概述\n".encode(),
    }
    result, out = build(tmp_path, files, "--strict")
    assert result.exit_code == 1  # --strict: some reports are not parsed
    reports = {r["source_file"]: r for r in pl.read_parquet(out / "reports.parquet").iter_rows(named=True)}
    assert set(reports) == set(files)
    assert reports["good.txt"]["status"] == "parsed"
    assert "empty file" in reports["empty.txt"]["reason"]
    assert "binary" in reports["binary.bin"]["reason"]
    assert "PDF" in reports["scan.pdf"]["reason"]
    assert reports["notice.txt"]["reason"].startswith("not a report")
    assert reports["old.txt"]["reason"].startswith("pre-2019 format")
    assert {r["status"] for name, r in reports.items() if name != "good.txt"} == {"rejected"}


def test_rebuild_replaces_the_dataset_atomically_and_identically(tmp_path):
    _, out = build(tmp_path, {"r.txt": pipe_report_2021().encode()})
    first = (out / "facts.parquet").read_bytes()
    assert out.is_symlink()
    _, out = build(tmp_path, {"r.txt": pipe_report_2021().encode()})
    assert (out / "facts.parquet").read_bytes() == first
    builds = list((tmp_path / ".out.builds").iterdir())
    assert len(builds) == 1  # the previous version is gone once the new one is in place


def test_manifest_overrides_agency_and_year_and_says_so(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("file,agency,year\nr.txt,某市某某局,2021\n", encoding="utf-8")
    result, out = build(tmp_path, {"r.txt": pipe_report_2021().encode(), "s.txt": pipe_report_2021().encode() + b" "},
                        "--manifest", str(manifest))
    assert result.exit_code == 0, result.output
    rows = {r["source_file"]: r for r in pl.read_parquet(out / "reports.parquet").iter_rows(named=True)}
    assert (rows["r.txt"]["agency"], rows["r.txt"]["year"]) == ("某市某某局", 2021)
    assert (rows["r.txt"]["agency_source"], rows["r.txt"]["year_source"]) == ("manifest", "manifest")
    assert (rows["s.txt"]["agency"], rows["s.txt"]["agency_source"]) == ("测试县某某局", "text")
    facts = pl.read_parquet(out / "facts.parquet").filter(pl.col("source_file") == "r.txt")
    assert set(facts["year"]) == {2021} and set(facts["agency"]) == {"某市某某局"}


def test_a_bad_manifest_is_an_argument_error(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("file,agency,year\nr.txt,某局,20x1\n", encoding="utf-8")
    result, _ = build(tmp_path, {"r.txt": pipe_report_2021().encode()}, "--manifest", str(manifest))
    assert result.exit_code == 2 and "not a report year" in result.output


def test_reports_missing_tables_are_partial_or_rejected_with_the_reason(tmp_path):
    full = pipe_report_2021()
    start, end = full.index("三、收到和处理"), full.index("四、政府信息公开行政复议")
    no_table3 = full[:start] + full[end:]
    title_only = "某县财政局2022年政府信息公开工作年度报告\n一、总体情况\n（表格见附件图片）\n"
    _, out = build(tmp_path, {"no_t3.txt": no_table3.encode(), "images.txt": title_only.encode()})
    rows = {r["source_file"]: r for r in pl.read_parquet(out / "reports.parquet").iter_rows(named=True)}
    assert rows["no_t3.txt"]["status"] == "partial"
    assert "Table 3 (收到和处理申请) not found" in rows["no_t3.txt"]["reason"]
    assert rows["no_t3.txt"]["n_cells"] == 10 + 175 + 15  # every cell of the template appears once ...
    facts = pl.read_parquet(out / "facts.parquet").filter(pl.col("source_file") == "no_t3.txt")
    table3 = facts.filter(pl.col("section") == "requests")
    assert set(table3["status"]) == {"ambiguous"} and set(table3["evidence"]) == {"table not found in the report"}
    assert (facts.filter(pl.col("section") != "requests")["status"] == "reported").sum() == 25  # ... 2 and 4 read
    assert rows["images.txt"]["status"] == "rejected" and "images" in rows["images.txt"]["reason"]


def test_check_prints_the_rule_summary_and_strict_fails_on_official_rules(tmp_path):
    values = requests_values()
    values["new_received"][0] += 1  # breaks R1 (official) and R2 for 自然人
    values["new_received"][6] += 1
    _, out = build(tmp_path, {"bad.txt": pipe_report_2021(values).encode(), "good.txt": pipe_report_2021().encode()})
    runner = CliRunner()
    plain = runner.invoke(app, ["check", "--db", str(out)])
    assert plain.exit_code == 0, plain.output
    assert "2 reports: 2 parsed, 0 partial, 0 rejected" in plain.output
    line = [l for l in plain.output.splitlines() if "R1_balance" in l][0]
    assert [c.strip() for c in line.split("│")[1:-1]] == ["R1_balance", "official", "14", "12", "2", "0"]
    assert "bad.txt" in plain.output.split("Reports needing attention")[1]
    strict = runner.invoke(app, ["check", "--db", str(out), "--strict"])
    assert strict.exit_code == 1
    clean = build(tmp_path / "clean", {"good.txt": pipe_report_2021().encode()})[1]
    assert runner.invoke(app, ["check", "--db", str(clean), "--strict"]).exit_code == 0


def _operand_frames(n_batches: int) -> list[pl.DataFrame]:
    """Batches of operands whose agency keys repeat across batches, with a categorical column."""
    return [pl.DataFrame({"agency_key": [f"机关{(b * 7 + i) % 13}" for i in range(50)],
                          "report_id": [f"r{b}-{i}" for i in range(50)],
                          "section": pl.Series([["t2", "t3"][i % 2] for i in range(50)], dtype=pl.Categorical),
                          "value": [float(b * 100 + i) for i in range(50)]})
            for b in range(n_batches)]


def test_spill_buckets_keep_each_agency_together_in_the_order_added_whatever_the_flush_size(tmp_path):
    from pipeline.warehouse.store import Spill

    def spilled(flush_bytes: int, name: str) -> list[pl.DataFrame]:
        spill = Spill(tmp_path / name, key="agency_key", n=4, flush_bytes=flush_bytes)
        for frame in _operand_frames(9):
            spill.add(frame)
        return list(spill.buckets())

    # every frame written; some written and the last ones held in memory; all held in memory
    per_batch, some, gathered = spilled(1, "each"), spilled(5_000, "some"), spilled(2**30, "once")
    assert len(per_batch) == len(some) == len(gathered) == 4
    for a, b, c in zip(per_batch, some, gathered):
        assert a.equals(b) and a.schema == b.schema
        assert a.equals(c) and a.schema == c.schema
    everything = pl.concat(gathered)
    assert everything.height == 9 * 50 and everything["section"].dtype == pl.String
    # one agency's rows sit in one bucket, in the order they were added
    for bucket in gathered:
        for key, rows in bucket.group_by("agency_key"):
            assert sum(other["agency_key"].is_in([key[0]]).sum() for other in gathered) == rows.height
        order = [int(r.split("-")[0][1:]) * 100 + int(r.split("-")[1]) for r in bucket["report_id"]]
        assert order == sorted(order)
    assert not (tmp_path / "once").exists()  # the spill folder is removed once read


@pytest.mark.parametrize("gather_bytes", [0, 3_000, 2**30], ids=["each", "a few", "all"])
def test_staged_frames_come_back_whole_and_in_order_a_row_group_per_gathering(tmp_path, gather_bytes):
    from pipeline.warehouse.store import Staged

    schema = {"agency_key": pl.String, "report_id": pl.String, "section": pl.String, "value": pl.Float64}
    frames = _operand_frames(9)
    staged = Staged(tmp_path / "staged.parquet", schema, gather_bytes=gather_bytes)
    for frame in frames:
        staged.add(frame)  # its categorical column cast to the staged schema
    staged.add(frames[0].clear())
    back = list(staged.frames())
    expected = pl.concat([frame.cast(schema) for frame in frames])
    assert pl.concat(back).equals(expected) and dict(pl.concat(back).schema) == schema
    groups = {0: 9, 2**30: 1}.get(gather_bytes)
    if groups is None:  # each gathering reaches the size, then starts again
        assert 1 < len(back) < 9 and all(frame.estimated_size() >= 3_000 for frame in back[:-1])
    else:
        assert len(back) == groups
    assert not (tmp_path / "staged.parquet").exists()


def test_write_behind_runs_calls_in_order_at_most_depth_waiting_and_raises_their_error_on_the_caller():
    import threading

    from pipeline.warehouse.store import WriteBehind

    done: list[int] = []
    gate = threading.Event()

    def slow(n):
        gate.wait(5)
        done.append(n)

    behind = WriteBehind(depth=2)
    behind.submit(slow, 0)
    behind.submit(slow, 1)
    assert len(behind._queued) == 2 and done == []  # the caller went on
    gate.set()
    for n in range(2, 20):
        behind.submit(done.append, n)
        assert len(behind._queued) <= 2
    behind.wait()
    assert done == list(range(20))

    def broken(n):
        raise ValueError(f"part {n} does not encode")

    behind.submit(broken, 7)
    with pytest.raises(ValueError, match="part 7"):
        behind.wait()
    behind.submit(broken, 8)
    with pytest.raises(ValueError, match="part 8"):
        for n in range(3):  # raised by a later submit at the latest
            behind.submit(done.append, 100 + n)
            time.sleep(0.05)
    behind.close()


def test_a_write_that_fails_in_the_writers_thread_fails_the_commit_and_leaves_no_dataset(tmp_path):
    from pipeline.warehouse.store import DatasetWriter

    out = tmp_path / "dataset"
    writer = DatasetWriter(out)
    writer.write("violations", pl.DataFrame({"not a column": [1]}))  # cannot be cast to the stream's schema
    with pytest.raises(ValueError, match="field names are not matching"):
        with writer:
            writer.commit(pl.DataFrame())
    assert not out.exists() and not writer.version.exists()


def test_private_files_and_folders_left_by_a_killed_build_are_removed_once_a_day_old(tmp_path):
    import os
    import time

    from pipeline.warehouse.store import STALE_SECONDS, remove_stale_private

    old = time.time() - STALE_SECONDS - 60
    (tmp_path / ".write-0a1b.parquet").write_bytes(b"x")
    (tmp_path / ".read-2c3d").mkdir()
    (tmp_path / ".read-2c3d" / "reports.arrow").write_bytes(b"x")
    (tmp_path / "merged-4e5f.parquet").write_bytes(b"x")  # not private: kept whatever its age
    (tmp_path / ".gen-6a7b").mkdir()  # private, but a running build's: recent
    for name in (".write-0a1b.parquet", ".read-2c3d", "merged-4e5f.parquet"):
        os.utime(tmp_path / name, (old, old))
    remove_stale_private(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".gen-6a7b", "merged-4e5f.parquet"]
