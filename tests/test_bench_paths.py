"""The benchmark finds what it measures: the sample reports, the scan generator and its results file
(they moved once with the package, and the benchmark quietly measured nothing of the samples)."""

from pipeline.tools import bench


def test_bench_root_is_the_project_with_its_samples_tests_and_results():
    assert (bench.ROOT / "pyproject.toml").is_file()
    samples = [p for p in (bench.ROOT / "data" / "raw").rglob("*") if p.is_file()]
    assert len(samples) >= 5
    assert (bench.ROOT / "tests" / "scan_documents.py").is_file()
    assert (bench.ROOT / "bench" / "results.md").is_file()


class _Stop(Exception):
    pass


def _stop(*args, **kwargs):
    raise _Stop


def test_bench_copies_the_samples_with_their_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "timed_build", _stop)  # only the inputs are of interest here
    monkeypatch.setattr(bench, "measure_floor", lambda files, jobs: len(files))
    try:
        bench.run(3, 1, 1, tmp_path)
    except _Stop:
        pass
    copied = sorted(p.relative_to(tmp_path / "raw" / "samples") for p in (tmp_path / "raw" / "samples").rglob("*")
                    if p.is_file())
    original = sorted(p.relative_to(bench.ROOT / "data" / "raw") for p in (bench.ROOT / "data" / "raw").rglob("*")
                      if p.is_file())
    assert copied == original
    assert len(list((tmp_path / "raw").glob("*.*"))) == 3


def test_bench_rows_after_a_paragraph_start_a_new_table(tmp_path):
    from pipeline.tools.bench import record

    results = tmp_path / "results.md"
    row = {"date": "d1", "clean_s": 1.0}
    record(row, results)
    record({**row, "date": "d2"}, results)
    with results.open("a", encoding="utf-8") as f:
        f.write("\nWhat the runs above were.\n")
    record({**row, "date": "d3"}, results)
    lines = results.read_text(encoding="utf-8").splitlines()
    assert lines[-4:] == ["", "| date | clean_s |", "|---|---|", "| d3 | 1.0 |"]
    assert lines.count("| date | clean_s |") == 2 and "| d2 | 1.0 |" in lines
