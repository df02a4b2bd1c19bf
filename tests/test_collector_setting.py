"""Batches are read with Python's cycle collector run less often (process.fewer_collections), the
interpreter's own setting is put back after, and a batch leaves no reference cycles behind, so
collecting less often costs no memory."""

import gc

import pytest

from pipeline import process
from pipeline.ingest.discover import discover
from pipeline.tools.synth import LAYOUTS, make_report


def test_a_batch_runs_with_fewer_collections_and_the_setting_is_restored(monkeypatch):
    seen = []
    monkeypatch.setattr(process, "batch_frames", lambda results: seen.append(gc.get_threshold()) or "frames")
    before = gc.get_threshold()
    assert process.process_batch([], process.Limits(), None) == "frames"
    assert seen == [process.COLLECTOR_THRESHOLDS] and gc.get_threshold() == before
    assert process.COLLECTOR_THRESHOLDS[0] > before[0]


def test_the_setting_is_restored_when_a_batch_fails(monkeypatch):
    def failing(results):
        raise RuntimeError("unreadable")

    monkeypatch.setattr(process, "batch_frames", failing)
    before = gc.get_threshold()
    with pytest.raises(RuntimeError):
        process.process_batch([], process.Limits(), None)
    assert gc.get_threshold() == before


def test_reading_a_batch_of_every_layout_leaves_no_reference_cycles(tmp_path):
    for index, layout in enumerate(LAYOUTS * 2):  # run-together digits among them (the splits recurse)
        report = make_report(7, index, layout=layout)
        (tmp_path / report.name).write_bytes(report.data)
    batch = discover([tmp_path])
    process.process_batch(batch, process.Limits(), None)  # tables and caches loaded once, before counting
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        result = process.process_batch(batch, process.Limits(), None)
        assert result.reports.height == len(batch) and result.facts.height > 0
        del result
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()
