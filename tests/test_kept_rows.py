"""The rows a build keeps of its batches for the next one, and the spill that merges them back in."""

import polars as pl

from pipeline.warehouse.kept_rows import KeptRows
from pipeline.warehouse.store import ORDER, Spill


def _operands(*rows):
    return pl.DataFrame(rows, schema={"agency_key": pl.String, "value": pl.Int64}, orient="row")


def test_a_spill_gives_its_rows_and_those_merged_in_by_position_and_keeps_the_positions(tmp_path):
    spill = Spill(tmp_path / "spill", key="agency_key", n=1)
    spill.add(_operands(("a", 0), ("a", 1)), order=0)
    spill.add(_operands(("a", 40)), order=4)
    elsewhere = _operands(("a", 20), ("a", 21), ("a", 30)).with_columns(
        pl.Series(ORDER, [2, 2, 3], dtype=pl.UInt32))
    kept = {}
    buckets = list(spill.buckets(more=lambda bucket: elsewhere,
                                 keep=lambda bucket, rows: kept.setdefault(bucket, rows)))
    assert [frame["value"].to_list() for frame in buckets] == [[0, 1, 20, 21, 30, 40]]
    assert buckets[0].columns == ["agency_key", "value"]
    assert kept[0][ORDER].to_list() == [0, 0, 2, 2, 3, 4]


def _first_build(cache):
    """Batches a (kept), b (a file dropped as a duplicate: not kept) and c (kept), at positions 0-2."""
    kept = KeptRows(cache, ("cross_year",))
    for position, key, as_cached in ((0, "a", True), (1, "b", False), (2, "c", True)):
        kept.written(position, key, as_cached, {"cells": position, "ambiguous": 0, "failed": 1})
    kept.keep_reports(pl.DataFrame({"batch_key": ["a", "b", "c", "c"], "report_id": ["r1", "r2", "r3", "r4"]}))
    kept.keep_operands("cross_year", 0, _operands(("x", 1), ("x", 2), ("x", 3)).with_columns(
        pl.Series(ORDER, [0, 1, 2], dtype=pl.UInt32)))
    kept.commit()
    kept.close()


def test_the_next_build_takes_the_rows_of_the_batches_kept_at_their_new_positions(tmp_path):
    _first_build(tmp_path)
    kept = KeptRows(tmp_path, ("cross_year",))
    assert kept.report_rows("c")["report_id"].to_list() == ["r3", "r4"]
    assert kept.report_rows("b") is None and kept.report_rows("new") is None
    kept.take("c", 5)
    kept.take("a", 1)
    rows = kept.operands("cross_year", 0)
    assert rows.select("value", ORDER).rows() == [(1, 1), (3, 5)]
    assert kept.operands("cross_year", 1) is None
    assert kept.counts(2) == {"cells": 2, "ambiguous": 0, "failed": 1}
    kept.close()
    assert [p.name for p in (tmp_path / "rows").iterdir() if p.name.startswith(".")] == []


def test_an_unreadable_generation_is_not_used_and_a_failed_build_keeps_the_last_one(tmp_path):
    _first_build(tmp_path)
    failed = KeptRows(tmp_path, ("cross_year",))
    failed.written(0, "z", True, {"cells": 1, "ambiguous": 0, "failed": 0})
    failed.keep_reports(pl.DataFrame({"batch_key": ["z"], "report_id": ["r9"]}))
    failed.close()  # the build failed before commit: the next build still reads the first's rows
    kept = KeptRows(tmp_path, ("cross_year",))
    assert kept.report_rows("a") is not None and kept.report_rows("z") is None
    kept.close()
    generation = next((tmp_path / "rows").glob("gen-*"))
    (generation / "cross_year-000.arrow").write_bytes(b"not arrow")
    broken = KeptRows(tmp_path, ("cross_year",))
    assert broken.report_rows("a") is None and broken.operands("cross_year", 0) is None
    broken.close()
