"""Build the five seed reports and compare every cell with the hand-read truth (needs ../shared)."""

import subprocess
import sys

import polars as pl
import pytest
from conftest import cell_verdicts, scorer


@pytest.fixture(scope="module")
def seeds_dataset(tmp_path_factory, request):
    from conftest import SHARED
    if not (SHARED / "seeds").is_dir():
        pytest.skip("../shared is not present")
    out = tmp_path_factory.mktemp("seeds") / "dataset"
    subprocess.run([sys.executable, "-m", "pipeline", "build", str(SHARED / "seeds"), "--out", str(out)], check=True,
                   capture_output=True)
    return out


def test_every_seed_cell_matches_the_truth(seeds_dataset, shared):
    verdicts = cell_verdicts(shared, seeds_dataset, shared / "truth" / "seeds.csv")
    assert set(verdicts) == {"right"}, {k: v[:5] for k, v in verdicts.items() if k != "right"}
    assert len(verdicts["right"]) == 994


def test_seed_agency_year_and_template_match_the_truth(seeds_dataset, shared):
    right, total, lines = scorer(shared).score_meta(seeds_dataset, shared / "truth" / "seeds_meta.csv")
    assert (right, total) == (5, 5), lines


def test_seed_004_sum_rule_failures_are_exactly_the_known_ones(seeds_dataset):
    reports = pl.read_parquet(seeds_dataset / "reports.parquet")
    rid = reports.filter(pl.col("source_file").str.starts_with("004"))["report_id"][0]
    v = pl.read_parquet(seeds_dataset / "violations.parquet").filter(
        (pl.col("report_id") == rid) & (pl.col("outcome") == "failed") & pl.col("rule").str.contains("^[RPX]"))
    found = {(r["rule"], r["row"] if r["rule"].startswith("R2") else r["col"]) for r in v.iter_rows(named=True)}
    assert found == {
        ("R2_row_total", "new_received"), ("R2_row_total", "granted"), ("R2_row_total", "unable_not_held"),
        ("R1_balance", "natural_person"), ("R1_balance", "commercial"), ("R1_balance", "research"),
        ("R1_balance", "other_org"), ("R1_balance", "total"),
        ("R3_result_total", "natural_person"), ("R3_result_total", "commercial"),
        ("R3_result_total", "other_org"), ("R3_result_total", "total"),
    }
    r1_total = v.filter((pl.col("rule") == "R1_balance") & (pl.col("col") == "total")).row(0, named=True)
    assert (r1_total["expected"], r1_total["actual"]) == (54.0, 49.0)
    # and one reviewer's finding: an office of the government (a department) published on 2020-03-25, after 31 January
    reviewer = pl.read_parquet(seeds_dataset / "violations.parquet").filter(
        (pl.col("report_id") == rid) & (pl.col("outcome") == "failed") & ~pl.col("rule").str.contains("^[RPX]"))
    assert reviewer.select("rule", "actual").rows() == [("D1_deadline", 54.0)]
    assert reports.filter(pl.col("report_id") == rid)["n_violations"][0] == 13
