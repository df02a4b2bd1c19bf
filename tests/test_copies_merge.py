"""The copies' merge of a rebuild takes the copy groups the last build merged alike from the cache and
merges only the new or changed ones, and still writes a clean build's bytes."""

import polars as pl
import pytest
from conftest import pipe_report_2021, requests_values
from typer.testing import CliRunner

from pipeline.checks import copies, copies_merge
from pipeline.cli import app

AGENCIES = ["甲县某某局", "乙县某某局", "丙县某某局", "丁县某某局", "戊县某某局"]


def build(inputs, out, *extra):
    result = CliRunner().invoke(app, ["build", str(inputs), "--out", str(out), "--jobs", "1", *extra])
    assert result.exit_code == 0, result.output


def write_copies(folder, first_change=0):
    """Two copies (a.txt, b.txt) per agency; the second agency's copies disagree on one cell, and the
    first's do by ``first_change``."""
    folder.mkdir(exist_ok=True)
    for n, agency in enumerate(AGENCIES):
        values = requests_values()
        changed = {k: list(v) for k, v in values.items()}
        changed["carried_forward"][0] += {0: first_change, 1: 1}.get(n, 0)
        (folder / f"{n}a.txt").write_text(pipe_report_2021(values, agency), encoding="utf-8")
        (folder / f"{n}b.txt").write_text(pipe_report_2021(changed, agency) + "\n\n", encoding="utf-8")


def dataset_bytes(out):
    return {name: (out / f"{name}.parquet").read_bytes()
            for name in ("facts", "reports", "violations", "merged_copies", "cross_year_checks")}


@pytest.fixture(params=[4, 500], ids=["parts", "one part"])
def merged_groups(monkeypatch, request):
    """The copy groups each build merges (not taken from the cache); a batch per file, parts of four
    reports or all copies in one part."""
    import pipeline.build

    monkeypatch.setattr(pipeline.build, "BATCH_TARGET", 1)
    monkeypatch.setattr(copies_merge, "MERGE_PART_REPORTS", request.param)
    seen: list[set[str]] = []
    merge = copies.merge_copies

    def spy(facts, merging):
        seen[-1].update(merging["_group"].to_list())
        return merge(facts, merging)

    monkeypatch.setattr(copies, "merge_copies", spy)

    def next_build():
        seen.append(set())
        return seen

    return next_build


def first_build(tmp_path, merged_groups):
    """The copies built once with a cache; returns the inputs' folder, the dataset and what each
    build merges from now on."""
    inputs, out = tmp_path / "in", tmp_path / "dataset"
    write_copies(inputs)
    merged_groups()
    build(inputs, out)
    return inputs, out, merged_groups()


def assert_equals_a_clean_build(inputs, out, tmp_path):
    build(inputs, tmp_path / "clean", "--no-cache")
    assert dataset_bytes(out) == dataset_bytes(tmp_path / "clean")


def test_a_rebuild_merges_only_the_changed_copy_groups_and_writes_a_clean_builds_bytes(tmp_path, merged_groups):
    inputs, out, seen = first_build(tmp_path, merged_groups)
    # one copy of the first agency changes, the third gets a third copy
    write_copies(inputs, first_change=2)
    (inputs / "2c.txt").write_text(pipe_report_2021(requests_values(), AGENCIES[2]) + "\n\n\n", encoding="utf-8")
    build(inputs, out)
    assert len(seen[0]) == 5
    assert sorted(group.split("|")[0] for group in seen[1]) == ["丙县某某局", "甲县某某局"]
    assert_equals_a_clean_build(inputs, out, tmp_path)
    # the changed copies now disagree, and the merged cell says so
    merged = pl.read_parquet(out / "merged_copies.parquet").filter(
        pl.col("agency") == "甲县某某局", pl.col("row") == "carried_forward", pl.col("col") == "natural_person")
    assert merged.select("status", "value").rows() == [("ambiguous", None)]


def test_an_unchanged_rebuild_after_a_new_file_merges_nothing_again(tmp_path, merged_groups):
    inputs, out, seen = first_build(tmp_path, merged_groups)
    (inputs / "lone.txt").write_text(pipe_report_2021(requests_values(), "己县某某局"), encoding="utf-8")
    build(inputs, out)
    assert seen[1] == set()
    assert_equals_a_clean_build(inputs, out, tmp_path)


def test_an_unreadable_kept_merge_is_merged_again(tmp_path, merged_groups):
    inputs, out, seen = first_build(tmp_path, merged_groups)
    [kept] = (tmp_path / ".dataset.cache" / "merge").glob("merged-*.parquet")
    kept.write_bytes(kept.read_bytes()[:100])
    (inputs / "lone.txt").write_text(pipe_report_2021(requests_values(), "己县某某局"), encoding="utf-8")
    build(inputs, out)
    assert len(seen[1]) == 5
    assert_equals_a_clean_build(inputs, out, tmp_path)


def _merging(**changes):
    row = {"report_id": "r1", "source_file": "a.txt", "template": "2021", "rank": 1, "_group": "甲|2022",
           "preferred_id": "r1", "preferred_template": "2021", "preferred_agency": "甲", "preferred_year": 2022}
    second = {**row, "report_id": "r2", "source_file": "b.txt", "rank": 2}
    return pl.DataFrame([{**row, **changes}, second])


def test_a_groups_fingerprint_follows_its_rows_and_batch_keys_and_is_null_without_a_key():
    keys = pl.DataFrame({"source_file": ["a.txt", "b.txt"], "batch_key": ["k1", "k2"]})
    fingerprint = copies_merge.group_fingerprints(_merging(), keys)["_fingerprint"][0]
    assert fingerprint is not None
    assert copies_merge.group_fingerprints(_merging(), keys)["_fingerprint"][0] == fingerprint
    assert copies_merge.group_fingerprints(_merging(rank=3), keys)["_fingerprint"][0] != fingerprint
    other_batch = keys.with_columns(pl.when(pl.col("source_file") == "b.txt").then(pl.lit("k3"))
                                    .otherwise(pl.col("batch_key")).alias("batch_key"))
    assert copies_merge.group_fingerprints(_merging(), other_batch)["_fingerprint"][0] != fingerprint
    no_key = keys.with_columns(pl.when(pl.col("source_file") == "a.txt").then(None)
                               .otherwise(pl.col("batch_key")).alias("batch_key"))
    assert copies_merge.group_fingerprints(_merging(), no_key)["_fingerprint"].to_list() == [None]


@pytest.mark.parametrize("validate_rows", [1, 20_000], ids=["checked at once", "checked at the end"])
def test_merged_rows_that_break_the_schema_stop_the_build_before_it_commits(tmp_path, monkeypatch, validate_rows):
    """The new rows of every part are validated, gathered or not, and a failure leaves no dataset."""
    import pipeline.build

    monkeypatch.setattr(pipeline.build, "BATCH_TARGET", 1)
    monkeypatch.setattr(copies_merge, "MERGE_PART_REPORTS", 4)  # the broken group sits in the first part
    monkeypatch.setattr(copies_merge, "VALIDATE_ROWS", validate_rows)
    merge = copies.merge_copies

    def broken(facts, merging):
        merged, disagreements = merge(facts, merging)
        if AGENCIES[0] in merged["agency"].to_list():
            merged = merged.with_columns(pl.lit("not a status").alias("status"))
        return merged, disagreements

    monkeypatch.setattr(copies, "merge_copies", broken)
    inputs, out = tmp_path / "in", tmp_path / "dataset"
    write_copies(inputs)
    result = CliRunner().invoke(app, ["build", str(inputs), "--out", str(out), "--jobs", "1"])
    assert result.exit_code != 0
    assert "not a status" in str(result.exception)
    assert not out.exists()


def test_gathered_validation_checks_every_frame_once_in_groups_of_the_row_limit(monkeypatch):
    monkeypatch.setattr(copies_merge, "VALIDATE_ROWS", 5)
    seen: list[list[int]] = []
    gathered = copies_merge._Validated(lambda frame: seen.append(frame["n"].to_list()))
    for start, size in [(0, 2), (2, 2), (4, 3), (7, 1), (8, 0), (8, 2)]:
        gathered.add(pl.DataFrame({"n": list(range(start, start + size))}, schema={"n": pl.Int64}))
    assert seen == [[0, 1, 2, 3, 4, 5, 6]]
    gathered.flush()
    assert seen == [[0, 1, 2, 3, 4, 5, 6], [7, 8, 9]]
    gathered.flush()
    assert len(seen) == 2


def _kept_rows(groups):
    """Two rows per group (a cell, then a disagreement), as a part's merge gives them: by kind."""
    rows = [{"_group": g, "_kind": kind, "report_id": f"{g}-{kind}"} for kind in (0, 2) for g in groups]
    return pl.concat([pl.DataFrame(schema=copies_merge.KEPT_SCHEMA), pl.DataFrame(rows)], how="diagonal_relaxed")


@pytest.mark.parametrize("take_rows", [3, 72_000], ids=["read a few rows at a time", "read at once"])
def test_kept_groups_come_back_with_their_rows_in_order_whatever_order_the_parts_ask_in(tmp_path, monkeypatch,
                                                                                        take_rows):
    monkeypatch.setattr(copies_merge, "TAKE_ROWS", take_rows)
    parts = [["g01", "g02", "g03"], ["g04", "g05"], ["g06", "g07", "g08", "g09"]]
    kept = copies_merge.KeptMerges(tmp_path)
    for groups in parts:
        kept.keep(_kept_rows(groups), pl.DataFrame({"_group": groups, "_fingerprint": ["f"] * len(groups)}))
    kept.close(True)

    def taken(asked):
        return [(row["_group"], row["_kind"]) for row in reader.take(pl.Series(asked)).iter_rows(named=True)]

    reader = copies_merge.KeptMerges(tmp_path)  # parts asking further on each time: one pass
    assert taken(["g02", "g03", "g04"]) == [("g02", 0), ("g02", 2), ("g03", 0), ("g03", 2), ("g04", 0), ("g04", 2)]
    assert taken(["g05"]) == [("g05", 0), ("g05", 2)]
    assert taken(["g07", "g09"]) == [("g07", 0), ("g07", 2), ("g09", 0), ("g09", 2)]
    assert taken(["g01"]) == [("g01", 0), ("g01", 2)]  # asked for after later groups: read by part
    assert taken(["g08"]) == [("g08", 0), ("g08", 2)]
    reader.close(False)


def test_groups_merged_ahead_are_handed_out_once_each_in_the_order_the_parts_ask_for_them(tmp_path, monkeypatch):
    """A rebuild's changed groups are merged in parts of their own, each once, and every part gets the
    rows of its groups: those up to its last group not handed out before."""
    monkeypatch.setattr(copies_merge, "MERGE_PART_REPORTS", 3)
    sizes = {"g1": 2, "g2": 1, "g3": 3, "g4": 1, "g5": 2, "g6": 2}
    to_merge = pl.DataFrame([{"report_id": f"{group}-{n}", "source_file": f"{group}-{n}.txt", "_group": group,
                              "preferred_id": f"{group}-0", copies_merge._REUSABLE: False}
                             for group, size in sizes.items() for n in range(size)])
    no_facts = pl.DataFrame(schema=copies_merge.schemas.FACT_SCHEMA)
    merged_chunks: list[list[str]] = []

    def merged_now(facts, chunk, checks):  # a cell per group, under its preferred copy
        groups = chunk["_group"].unique(maintain_order=True).to_list()
        merged_chunks.append(groups)
        cells = pl.DataFrame({"report_id": [f"{g}-0" for g in groups], "status": ["reported"] * len(groups)})
        return (pl.concat([no_facts, cells], how="diagonal_relaxed"),
                pl.DataFrame(schema=copies_merge.schemas.VIOLATION_SCHEMA))

    monkeypatch.setattr(copies_merge, "_merged_now", merged_now)
    no_facts.write_parquet(tmp_path / "set-apart.parquet")
    ahead = copies_merge._MergedAhead(to_merge, tmp_path / "set-apart.parquet", checks=None)

    def handed(last):
        return ahead.up_to(last)["_group"].to_list()

    assert handed("g0") == []  # before every group: merges the first chunk only
    assert merged_chunks == [["g1", "g2"]]
    assert handed("g2") == ["g1", "g2"]
    assert handed("g2") == []
    assert handed("g5") == ["g3", "g4", "g5"]
    assert handed("g9") == ["g6"]
    assert merged_chunks == [["g1", "g2"], ["g3"], ["g4", "g5"], ["g6"]]
