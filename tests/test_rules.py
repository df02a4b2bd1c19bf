import polars as pl
from conftest import pipe_report_2021, requests_values

from pipeline import rules, schemas
from pipeline.build import process_bytes
from pipeline.discover import SourceFile


def facts_of(values) -> pl.DataFrame:
    result = process_bytes(SourceFile(None, "r.txt"), pipe_report_2021(values).encode())
    return schemas.facts_frame(result.facts)


def test_consistent_report_has_no_violations():
    assert rules.check(facts_of(requests_values())).is_empty()


def test_broken_sums_are_findings_with_expected_and_actual():
    values = requests_values()
    values["new_received"][0] += 2  # 自然人 column now breaks R1, and the row breaks R2
    found = rules.check(facts_of(values))
    failed = {(r["rule"], r["row"], r["col"], r["expected"], r["actual"]) for r in found.iter_rows(named=True)}
    natural = values["new_received"][0]
    assert ("R2_row_total", "new_received", "total", sum(values["new_received"][:6]), values["new_received"][6]) in failed
    assert any(rule == "R1_balance" and col == "natural_person" and exp == natural for rule, _, col, exp, _ in failed)
    assert set(found["outcome"]) == {"failed"}
    assert all("@" in cells for cells in found["cells"])  # each finding names its cells with lines


def test_rules_with_unread_operands_are_not_assessable_never_passed():
    facts = facts_of(requests_values())
    facts = facts.with_columns(
        pl.when((pl.col("row") == "granted") & (pl.col("col") == "research"))
        .then(pl.lit("ambiguous")).otherwise(pl.col("status")).alias("status"),
        pl.when((pl.col("row") == "granted") & (pl.col("col") == "research"))
        .then(None).otherwise(pl.col("value")).alias("value"),
    )
    found = rules.check(facts)
    assert set(found["outcome"]) == {"not_assessable"}
    assert {(r["rule"], r["row"], r["col"]) for r in found.iter_rows(named=True)} == {
        ("R2_row_total", "granted", "total"), ("R3_result_total", "total", "research")}
    assert "granted" in found.filter(pl.col("rule") == "R3_result_total")["message"][0]
