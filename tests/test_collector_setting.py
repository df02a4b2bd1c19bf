"""Batches are read with Python's cycle collector run less often (build.fewer_collections), and the
interpreter's own setting is put back after, also when the batch fails."""

import gc

import pytest

from pipeline import build


def test_a_batch_runs_with_fewer_collections_and_the_setting_is_restored(monkeypatch):
    seen = []
    monkeypatch.setattr(build, "process_batch", lambda *args: seen.append(gc.get_threshold()) or "result")
    before = gc.get_threshold()
    assert build._process_batch([], build.Limits(), None) == "result"
    assert seen == [build.COLLECTOR_THRESHOLDS] and gc.get_threshold() == before
    assert build.COLLECTOR_THRESHOLDS[0] > before[0]


def test_the_setting_is_restored_when_a_batch_fails(monkeypatch):
    def failing(*args):
        raise RuntimeError("unreadable")

    monkeypatch.setattr(build, "process_batch", failing)
    before = gc.get_threshold()
    with pytest.raises(RuntimeError):
        build._process_batch([], build.Limits(), None)
    assert gc.get_threshold() == before


def test_in_process_builds_read_their_batches_through_the_same_function(monkeypatch):
    calls = []
    monkeypatch.setattr(build, "_process_batch", lambda batch, limits, folder: calls.append(batch) or batch)
    assert list(build._run_batches([["a"], ["b"]], build.Limits(), None, jobs=1)) == [["a"], ["b"]]
    assert calls == [["a"], ["b"]]
