"""A build killed at any moment leaves the previous dataset complete and readable."""

import os
import signal
import subprocess
import sys
import time

import polars as pl
import pytest

from pipeline.warehouse import query, store
from pipeline.tools.synth import generate


def write_inputs(folder, n, seed):
    folder.mkdir(parents=True, exist_ok=True)
    for report in generate(seed, n):
        (folder / report.name).write_bytes(report.data)


def build(inputs, out):
    return subprocess.Popen([sys.executable, "-m", "pipeline", "build", str(inputs), "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def dataset_rows(out):
    facts = pl.read_parquet(out / "facts.parquet").height
    reports = pl.read_parquet(out / "reports.parquet")
    con = query.connect(out)
    assert con.execute("SELECT count(*) FROM facts").fetchone()[0] == facts
    con.close()
    return facts, sorted(reports["source_file"])


def test_a_build_killed_mid_write_leaves_the_previous_dataset(tmp_path):
    small, large, out = tmp_path / "small", tmp_path / "large", tmp_path / "dataset"
    write_inputs(small, 5, seed=1)
    write_inputs(large, 300, seed=2)
    assert build(small, out).wait() == 0
    before = dataset_rows(out)
    builds = tmp_path / ".dataset.builds"
    caught = 0
    for _ in range(5):
        current = os.readlink(out)
        proc = build(large, out)
        # wait until the new version is being written (a new folder with facts but no ogi.duckdb yet)
        while proc.poll() is None:
            fresh = [p for p in builds.iterdir() if p.name != os.path.basename(current)]
            if any((p / "facts.parquet").exists() and not (p / "ogi.duckdb").exists() for p in fresh):
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                caught += 1
                break
            time.sleep(0.0005)
        if os.readlink(out) == current:
            assert dataset_rows(out) == before  # the previous dataset, complete
        else:
            proc.wait()
            assert dataset_rows(out)[0] > before[0]  # the run finished first: its dataset, complete
            assert build(small, out).wait() == 0
        if caught:
            break
    assert caught, "the build was never caught while writing"
    # the next build cleans up what the killed one left behind
    assert build(small, out).wait() == 0
    assert [p.name for p in builds.iterdir()] == [os.path.basename(os.readlink(out))]
    assert dataset_rows(out) == before


def test_a_crash_between_writing_and_swapping_changes_nothing(tmp_path, monkeypatch):
    out = tmp_path / "dataset"
    from pipeline.knowledge import schemas
    empty = (schemas.facts_frame([]), schemas.reports_frame([]), schemas.violations_frame([]))
    store.write_dataset(out, *empty)
    first = os.readlink(out)

    def crash(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "_swap_in", crash)
    with pytest.raises(KeyboardInterrupt):
        store.write_dataset(out, *empty)
    assert os.readlink(out) == first and (out / "facts.parquet").exists()
