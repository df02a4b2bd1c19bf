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
