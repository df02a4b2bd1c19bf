"""A batch's frames travel from a worker to the build compressed, and arrive unchanged."""

import pickle

import polars as pl

from pipeline.ingest.discover import SourceFile
from pipeline.process import BATCH_FRAMES, batch_frames, process_bytes
from pipeline.tools.synth import make_report


def _batch(n: int):
    reports = [make_report(seed=11, index=i) for i in range(n)]
    return batch_frames([process_bytes(SourceFile(None, r.name), r.data) for r in reports])


def test_a_pickled_batch_comes_back_with_the_same_rows_types_and_chunks():
    batch = _batch(12)
    assert batch.facts.height > 1000 and batch.violations.height > 0  # a batch worth sending
    back = pickle.loads(pickle.dumps(batch))
    for name in BATCH_FRAMES:
        sent, got = getattr(batch, name), getattr(back, name)
        assert got.schema == sent.schema, name
        assert got.equals(sent, null_equal=True), name
        assert got.n_chunks("all") == sent.n_chunks("all"), name
    assert back.cacheable == batch.cacheable


def test_a_pickled_batch_is_several_times_smaller_than_its_frames_pickled_by_polars():
    batch = _batch(12)
    by_polars = sum(len(pickle.dumps(getattr(batch, name))) for name in BATCH_FRAMES)
    assert len(pickle.dumps(batch)) * 5 < by_polars


def test_an_uncacheable_batch_stays_uncacheable_after_the_trip():
    batch = _batch(1)
    batch.cacheable = False
    assert pickle.loads(pickle.dumps(batch)).cacheable is False
    assert isinstance(pickle.loads(pickle.dumps(batch)).reports, pl.DataFrame)


def test_a_batch_read_ahead_is_held_packed_until_a_frame_is_read():
    batch = _batch(12)
    back = pickle.loads(pickle.dumps(batch))
    assert set(BATCH_FRAMES).isdisjoint(vars(back)) and len(vars(back)["_packed"]) == len(BATCH_FRAMES)
    assert back.facts.equals(batch.facts, null_equal=True)  # the first read decodes every frame, once
    assert "_packed" not in vars(back) and all(name in vars(back) for name in BATCH_FRAMES)
    assert pickle.loads(pickle.dumps(back)).violations.equals(batch.violations, null_equal=True)
