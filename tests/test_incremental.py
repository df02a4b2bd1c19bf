"""Incremental builds: cached results give the same bytes as a clean build, and no change means no work."""

import os
from dataclasses import replace

import pyarrow.parquet as pq
import pytest

from typer.testing import CliRunner

from pipeline.build import plan_batches
from pipeline.cli import app
from pipeline.ingest.discover import SourceFile, discover
from pipeline.tools.synth import generate


def build(inputs, out, *extra):
    result = CliRunner().invoke(app, ["build", str(inputs), "--out", str(out), "--jobs", "1", *extra])
    assert result.exit_code == 0, result.output
    return result.output


def parquet_bytes(out):
    """Every Parquet file of the dataset at ``out``."""
    from pipeline.warehouse.store import STREAMS

    return {name: (out / f"{name}.parquet").read_bytes() for name in ("reports", *STREAMS)}


def _kept_parts(entry):
    """What a batch's cache entry keeps besides its frames: parts (``facts-<encoding>.parquet``), counts."""
    return {p.name.split("-")[0].split(".")[0] for p in entry.iterdir() if not p.name.endswith(".arrow")}


def _batch_entries(tmp_path):
    """The batch entries of the cache of ``tmp_path / "dataset"``."""
    return [d for d in (tmp_path / ".dataset.cache" / "batch").glob("*/*") if d.is_dir()]


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of about 6 files: a few dozen reports make several batches, most of them cached."""
    import pipeline.build

    monkeypatch.setattr(pipeline.build, "BATCH_TARGET", 6)


def _write(folder, reports):
    folder.mkdir(exist_ok=True)
    for report in reports:
        (folder / report.name).write_bytes(report.data)
    return folder


def _assert_equals_a_clean_build(inputs, out, tmp_path):
    clean = tmp_path / "clean"
    build(inputs, clean, "--no-cache")
    assert parquet_bytes(out) == parquet_bytes(clean)


def test_cached_and_incremental_builds_equal_a_clean_build_byte_for_byte(tmp_path, small_batches):
    reports = list(generate(3, 60))
    inputs = _write(tmp_path / "in", reports[:50])
    out = tmp_path / "dataset"
    build(inputs, out)
    version = os.readlink(out)
    build(inputs, out)
    assert os.readlink(out) == version  # nothing changed: the dataset is left as it is
    _write(inputs, reports[50:])
    (inputs / reports[0].name).write_bytes(reports[0].data.replace(b"\n", b"\r\n"))  # one file changes
    build(inputs, out)
    assert os.readlink(out) != version
    _assert_equals_a_clean_build(inputs, out, tmp_path)


def test_batches_depend_on_file_names_only_so_an_added_file_changes_one_batch():
    names = [f"report_{i:05d}.txt" for i in range(3000)]
    sources = [SourceFile(None, n) for n in names]
    before = [tuple(s.source_file for s in b) for b in plan_batches(sources)]
    sources.insert(1234, SourceFile(None, "report_01233a.txt"))
    after = [tuple(s.source_file for s in b) for b in plan_batches(sources)]
    assert len(set(before) - set(after)) == 1 and len(set(after) - set(before)) == 1
    assert len(before) > 3


def test_discover_lists_files_with_size_and_time_and_skips_hidden(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "r.txt").write_text("x")
    (tmp_path / ".hidden").write_text("x")
    (tmp_path / "b.txt").write_text("xy")
    found = discover([tmp_path])
    assert [(s.source_file, s.size) for s in found] == [("a/r.txt", 1), ("b.txt", 2)]
    assert all(s.mtime_ns for s in found)


def test_a_rebuild_copies_cached_batches_as_encoded_parts_without_decoding_them(tmp_path, monkeypatch,
                                                                                 small_batches):
    import pipeline.build

    reports = list(generate(5, 31))
    inputs = _write(tmp_path / "in", reports[:30])
    out = tmp_path / "dataset"
    build(inputs, out)
    entries = _batch_entries(tmp_path)
    assert len(entries) > 2
    assert all(_kept_parts(d) == {"facts", "violations", "counts"} for d in entries)

    def decoded(*_):
        raise AssertionError("a cached batch was decoded")

    monkeypatch.setattr(pipeline.build, "_load_batch", decoded)
    _write(inputs, reports[30:])
    build(inputs, out)
    _assert_equals_a_clean_build(inputs, out, tmp_path)


def _entries_read(monkeypatch, method: str, reading=lambda what: True) -> list[str]:
    """The cache entries ``Cache.<method>`` is asked for from now on (for ``reading`` what), in order."""
    from pipeline import cache as cache_mod

    asked, stock = [], getattr(cache_mod.Cache, method)

    def recording(self, kind, name, what):
        if reading(what):
            asked.append(name)
        return stock(self, kind, name, what)

    monkeypatch.setattr(cache_mod.Cache, method, recording)
    return asked


def test_a_rebuild_takes_unchanged_batches_report_rows_and_operands_from_the_last_build(tmp_path, monkeypatch,
                                                                                         small_batches):
    from pipeline.build import _LIGHT_FRAMES

    reports = list(generate(5, 31))
    # the next year's report of ten agencies: rules across years compare them with this year's
    next_years = [replace(r, name=f"z_{r.name}", data=r.data.replace(str(r.year).encode(), str(r.year + 1).encode()))
                  for r in reports[:10]]
    inputs = _write(tmp_path / "in", reports[:30] + next_years)
    out = tmp_path / "dataset"
    build(inputs, out)
    light_frames_read = _entries_read(monkeypatch, "get_frames", lambda parts: parts == _LIGHT_FRAMES)
    _write(inputs, reports[30:])
    build(inputs, out)
    assert light_frames_read == []
    _assert_equals_a_clean_build(inputs, out, tmp_path)
    # files inserted first make new batches before the cached ones: the kept rows move with their batches
    before = [tuple(s.source_file for s in b) for b in plan_batches(discover([inputs]))]
    _write(inputs, [replace(report, name=f"a_{index:02d}_{report.name}")
                    for index, report in enumerate(generate(6, 12))])
    after = [tuple(s.source_file for s in b) for b in plan_batches(discover([inputs]))]
    assert any(batch in after and after.index(batch) != position for position, batch in enumerate(before))
    build(inputs, out)
    assert light_frames_read == []
    assert pq.ParquetFile(out / "cross_year_checks.parquet").metadata.num_rows > 0
    _assert_equals_a_clean_build(inputs, out, tmp_path)


def test_a_rebuild_after_files_added_at_the_end_starts_from_the_last_builds_files(tmp_path, monkeypatch,
                                                                                   small_batches):
    reports = list(generate(8, 33))
    inputs = _write(tmp_path / "in", reports[:30])
    out = tmp_path / "dataset"
    build(inputs, out)
    build(inputs, out, "--no-cache")  # a dataset the rows kept do not describe: nothing resumed from it
    parts_read = _entries_read(monkeypatch, "get_files")
    _write(inputs, [replace(r, name=f"zz_{r.name}") for r in reports[30:]])
    build(inputs, out)
    batches = len(plan_batches(discover([inputs])))
    assert len(parts_read) == batches - 1  # every cached batch's parts copied from the cache
    _assert_equals_a_clean_build(inputs, out, tmp_path)
    parts_read.clear()
    _write(inputs, [replace(r, name=f"zzz_{r.name}") for r in reports[30:]])
    build(inputs, out)
    assert len(parts_read) == 0  # the batches before the new files: in the last build's files as they are
    _assert_equals_a_clean_build(inputs, out, tmp_path)


def test_a_new_file_with_the_bytes_of_a_cached_one_makes_that_one_the_duplicate_as_a_clean_build_does(
        tmp_path, small_batches):
    import polars as pl

    reports = list(generate(3, 30))
    inputs = _write(tmp_path / "in", reports)
    out = tmp_path / "dataset"
    build(inputs, out)
    # sorts before every other file: the cached batch holding reports[20] now holds a duplicate
    (inputs / "a_first.txt").write_bytes(reports[20].data)
    build(inputs, out)
    _assert_equals_a_clean_build(inputs, out, tmp_path)
    rejected = pl.read_parquet(out / "reports.parquet").filter(pl.col("status") == "rejected")
    assert rejected.select("source_file", "reason").rows() == [(reports[20].name, "duplicate of a_first.txt (same bytes)")]
    facts = pl.read_parquet(out / "facts.parquet")
    assert facts.filter(pl.col("source_file") == reports[20].name).height == 0
    assert facts.filter(pl.col("source_file") == "a_first.txt").height > 0


def test_a_batch_cached_with_a_duplicate_gets_its_parts_once_the_duplicate_is_gone(tmp_path, small_batches):
    reports = list(generate(3, 30))
    inputs = _write(tmp_path / "in", reports)
    (inputs / "a_first.txt").write_bytes(reports[20].data)
    out = tmp_path / "dataset"
    build(inputs, out)

    def parts_kept():
        return [_kept_parts(d) == {"facts", "violations", "counts"} for d in _batch_entries(tmp_path)]

    # the parts of the batch with the duplicate are not the batch as read: not kept
    assert parts_kept().count(False) == 1
    (inputs / "a_first.txt").unlink()
    build(inputs, out)
    assert all(parts_kept())
    _assert_equals_a_clean_build(inputs, out, tmp_path)


def test_parts_kept_in_another_encoding_are_not_copied(tmp_path, monkeypatch, small_batches):
    from pipeline.warehouse import parquet_parts

    reports = list(generate(7, 25))
    inputs = _write(tmp_path / "in", reports[:24])
    out = tmp_path / "dataset"
    build(inputs, out)
    # the same batches, encoded otherwise from now on: the kept zstd parts would not fit the file
    monkeypatch.setattr(parquet_parts, "PARQUET_OPTIONS", {"compression": "snappy", "write_statistics": True})
    _write(inputs, reports[24:])
    build(inputs, out)
    _assert_equals_a_clean_build(inputs, out, tmp_path)
    assert pq.ParquetFile(out / "facts.parquet").metadata.row_group(0).column(0).compression == "SNAPPY"


def _wait_for_workers(batches_ahead, expected, seconds=120):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        batches_ahead.refill()
        if batches_ahead.started >= expected and all(f.done() for f in batches_ahead._futures):
            return
        time.sleep(0.2)


def test_workers_read_every_new_batch_ahead_when_the_cache_takes_their_results(tmp_path, small_batches):
    from pipeline.build import RESULTS_PER_WORKER, _Batches
    from pipeline.process import BatchResult, Limits
    from pipeline.worker import CachedBatch

    inputs = _write(tmp_path / "in", generate(5, 40))
    batches = plan_batches(discover([inputs]))
    assert len(batches) > 2 * RESULTS_PER_WORKER
    with _Batches(batches, Limits(), tmp_path / "cache", jobs=2) as ahead:
        _wait_for_workers(ahead, len(batches))
        assert ahead.started == len(batches)  # none taken yet, all read
        taken = [next(ahead) for _ in batches]
    assert all(isinstance(result, CachedBatch) for result in taken)
    assert len(list((tmp_path / "cache" / "batch").glob("*/*"))) == len(batches)
    # without a cache each result is held until taken: a bounded number of batches run ahead
    with _Batches(batches, Limits(), None, jobs=2) as ahead:
        _wait_for_workers(ahead, 2 * RESULTS_PER_WORKER)
        assert ahead.started == 2 * RESULTS_PER_WORKER
        taken = [next(ahead) for _ in batches]
    assert all(isinstance(result, BatchResult) for result in taken)


def test_a_build_with_two_workers_equals_a_clean_build_and_so_does_its_rebuild(tmp_path, small_batches,
                                                                                monkeypatch):
    import pipeline.build

    monkeypatch.setattr(pipeline.build, "IN_PROCESS_BYTES", 0)  # so few files would be read in process
    reports = list(generate(11, 40))
    inputs = _write(tmp_path / "in", reports[:30])
    out = tmp_path / "dataset"
    build(inputs, out, "--jobs", "2")
    _assert_equals_a_clean_build(inputs, out, tmp_path)
    # the workers put what they read into the cache; the build added the encoded parts
    assert all(_kept_parts(entry) == {"facts", "violations", "counts"} for entry in _batch_entries(tmp_path))
    _write(inputs, reports[30:])
    build(inputs, out, "--jobs", "2")
    _assert_equals_a_clean_build(inputs, out, tmp_path)


def test_few_text_files_are_read_in_process_and_pdfs_or_more_bytes_by_the_workers(tmp_path, monkeypatch):
    import pipeline.build
    from pipeline.build import workers_for

    inputs = _write(tmp_path / "in", generate(12, 8))
    batches = [[s] for s in discover([inputs])]
    assert workers_for(batches, jobs=2) == 1
    assert workers_for(batches, jobs=1) == 1
    assert workers_for(batches[:1], jobs=2) == 1  # one batch: one process reads it anyway
    (inputs / "scan.pdf").write_bytes(b"%PDF-1.4\n" + b"0" * 100)
    with_pdf = [[s] for s in discover([inputs])]
    assert workers_for(with_pdf, jobs=2) == 2
    total = sum(s.size for batch in batches for s in batch)
    monkeypatch.setattr(pipeline.build, "IN_PROCESS_BYTES", total - 1)
    assert workers_for(batches, jobs=2) == 2
    monkeypatch.setattr(pipeline.build, "IN_PROCESS_BYTES", total)
    assert workers_for(batches, jobs=2) == 1


def test_agency_buckets_checked_together_give_the_rows_of_each_bucket_checked_alone(tmp_path, monkeypatch):
    import pipeline.build
    from pipeline.checks import rules

    reports = list(generate(5, 24))
    # the next year's report of sixteen agencies, with the same prose: cross-year rules and reuse findings
    next_years = [replace(r, name=f"z_{r.name}", data=r.data.replace(str(r.year).encode(), str(r.year + 1).encode()))
                  for r in reports[:16]]
    inputs = _write(tmp_path / "in", reports + next_years)
    calls = []
    evaluate = rules.evaluate
    monkeypatch.setattr(rules, "evaluate", lambda *a, **k: calls.append(k.get("scope")) or evaluate(*a, **k))
    build(inputs, tmp_path / "together", "--no-cache")
    together = calls.count("cross_year")
    monkeypatch.setattr(pipeline.build, "CHECK_GROUP_BYTES", 0)  # every bucket alone
    build(inputs, tmp_path / "alone", "--no-cache")
    assert together == 1 and calls.count("cross_year") - together > 2
    # a row group per bucket with pairs of years: several buckets were split from the one check
    assert pq.ParquetFile(tmp_path / "together" / "cross_year_checks.parquet").metadata.num_row_groups > 2
    assert parquet_bytes(tmp_path / "together") == parquet_bytes(tmp_path / "alone")
    for name in ("cross_year_checks", "prose_reuse"):
        assert pq.ParquetFile(tmp_path / "alone" / f"{name}.parquet").metadata.num_rows > 0


def test_findings_split_by_bucket_keep_their_order_and_a_row_in_no_bucket_stops_the_build():
    import polars as pl

    from pipeline.build import _by_bucket, _grouped

    buckets = [pl.DataFrame({"report_id": ["a", "b"]}), pl.DataFrame({"report_id": ["c", "x"]}),
               pl.DataFrame({"report_id": ["d", "y"]})]
    size = buckets[0].estimated_size()
    assert [len(group) for group in _grouped(iter(buckets), limit=2 * size)] == [2, 1]
    assert [len(group) for group in _grouped(iter(buckets), limit=0)] == [1, 1, 1]  # a bucket over it: alone
    found = pl.DataFrame({"report_id": ["c", "a", "c", "b"], "n": [1, 2, 3, 4]})
    split = _by_bucket(buckets[:2], found)
    assert [part["n"].to_list() for part in split] == [[2, 4], [1, 3]]
    with pytest.raises(RuntimeError, match="do not split"):
        _by_bucket(buckets[:2], found.vstack(pl.DataFrame({"report_id": ["z"], "n": [5]})))
